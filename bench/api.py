"""API benchmark: /api/stats and /api/health against a bare Flask route, served as `make run` does.

Starts two gunicorn servers on free 127.0.0.1 ports (the agent with a temporary instance folder, and
bench/bare_app.py), drives each target with N keep-alive client threads for a fixed time, and prints
requests/s, p50 and p99 per target and the throughput ratios to the bare route.

    .venv/bin/python bench/api.py [--clients 8] [--seconds 5] [--warmup 1]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only, never any other address
THREADS = 64  # as the Makefile's THREADS
MAX_REQUESTS_PER_CLIENT = 1_000_000  # a second bound besides the duration
REQUEST_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 15.0
AIM_RATIO = 0.5
AIM_P99_MS = 20.0


@dataclass
class Server:
    """A gunicorn process this benchmark started, with its address and log file."""

    name: str
    proc: subprocess.Popen
    base_url: str
    log_path: Path


@dataclass
class Result:
    """Latencies (seconds) and counts of one target's measured run."""

    target: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def requests(self) -> int:
        """Successful requests."""
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    def percentile_ms(self, pct: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), math.ceil(pct / 100.0 * len(ordered))))
        return ordered[rank - 1] * 1000.0


def free_port() -> int:
    """A currently free TCP port on the loopback address."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def gunicorn_command(module: str, port: int | str) -> list[str]:
    """The `make run` gunicorn command line for `module`, bound to HOST:port."""
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    return [gunicorn, "-k", "gthread", "-w", "1", "--threads", str(THREADS), "-b", f"{HOST}:{port}",
            "--graceful-timeout", "30", "--access-logfile", "-", module]


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The current environment without inherited ULTIMATE_AGENT_* settings, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ULTIMATE_AGENT_")}
    env.update(extra)
    return env


def start_server(name: str, module: str, env: dict[str, str], workdir: Path) -> Server:
    """Start one gunicorn server in its own process group, logging to a file in `workdir`."""
    port = free_port()
    log_path = workdir / f"{name}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(gunicorn_command(module, port), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return Server(name, proc, f"http://{HOST}:{port}", log_path)


def log_tail(server: Server, lines: int = 20) -> str:
    """The last lines of a server's log, for error messages."""
    try:
        text = server.log_path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def wait_ready(server: Server, path: str, deadline_s: float) -> None:
    """Poll `path` until it answers 200, the process exits, or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}:\n{log_tail(server)}")
        try:
            if requests.get(server.base_url + path, timeout=1.0).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} not ready after {deadline_s:g} s:\n{log_tail(server)}")


def stop_server(server: Server) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it has not exited in time."""
    if server.proc.poll() is not None:
        return
    pgid = server.proc.pid  # start_new_session: the group id is the process id
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
            server.proc.wait(timeout=STOP_TIMEOUT_S)
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


def client_loop(session: requests.Session, url: str, headers: dict[str, str], start: threading.Event,
                end_at: list[float], out: list[float], errors: list[int]) -> None:
    """Issue requests back to back until the shared deadline; record each successful latency."""
    start.wait(timeout=REQUEST_TIMEOUT_S)
    deadline = end_at[0]
    for _ in range(MAX_REQUESTS_PER_CLIENT):
        began = time.perf_counter()
        if began >= deadline:
            break
        try:
            response = session.get(url, headers=headers, timeout=REQUEST_TIMEOUT_S)
            response.content  # noqa: B018  (read the whole body inside the timing)
            ok = response.status_code == 200
        except requests.RequestException:
            ok = False
        if ok:
            out.append(time.perf_counter() - began)
        else:
            errors[0] += 1


def drive(target: str, url: str, headers: dict[str, str], sessions: list[requests.Session],
          seconds: float) -> Result:
    """Run one client thread per session against `url` for `seconds`; gather the results."""
    start = threading.Event()
    end_at = [0.0]
    per_client = [([], [0]) for _ in sessions]
    threads = [threading.Thread(target=client_loop, args=(session, url, headers, start, end_at, lat, err),
                                daemon=True)
               for session, (lat, err) in zip(sessions, per_client, strict=True)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    end_at[0] = began + seconds
    start.set()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT_S + 5.0)
    elapsed = time.perf_counter() - began
    result = Result(target, elapsed=elapsed)
    for lat, err in per_client:
        result.latencies.extend(lat)
        result.errors += err[0]
    return result


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (default 8)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per target (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per target (default 1)")
    parser.add_argument("--startup-timeout", type=float, default=60.0, help="seconds to wait for each server")
    parser.add_argument("--no-monitor", action="store_true",
                        help="set ULTIMATE_AGENT_MONITOR_AUTOSTART=false (default: autostart, as make run)")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 256:
        parser.error("--clients must be 1-256")
    if not 0.5 <= args.seconds <= 600:
        parser.error("--seconds must be 0.5-600")
    if not 0 <= args.warmup <= 60:
        parser.error("--warmup must be 0-60")
    return args


def print_report(results: list[Result], args: argparse.Namespace, admin_env: dict[str, str],
                 load_before: str) -> None:
    """Print the machine, the settings, the per-target table and the ratios to the bare route."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {platform.machine()} {platform.system()} {platform.release()}, "
          f"cpu_count={os.cpu_count()}, usable_cpus={affinity}, python {platform.python_version()}")
    print(f"load average (1/5/15 min) before: {load_before}; after: {load_average()}")
    print(f"server:  gunicorn {' '.join(gunicorn_command('<module>', '<free port>')[1:])}")
    print("         (one server each for wsgi:app and bench.bare_app:app; clients run in this process)")
    print(f"settings: clients={args.clients} seconds={args.seconds:g} warmup={args.warmup:g} "
          + " ".join(f"{k}={v}" for k, v in admin_env.items()))
    print()
    print(f"{'target':<16}{'requests':>10}{'errors':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for res in results:
        print(f"{res.target:<16}{res.requests:>10}{res.errors:>8}{res.rate:>10.1f}"
              f"{res.percentile_ms(50):>9.2f}{res.percentile_ms(99):>9.2f}")
    print()
    by_name = {res.target: res for res in results}
    bare = by_name["bare /bare"].rate
    for name in ("/api/stats", "/api/health"):
        ratio = by_name[name].rate / bare if bare else float("nan")
        print(f"ratio {name} / bare: {ratio:.3f}")
    stats = by_name["/api/stats"]
    ratio = stats.rate / bare if bare else 0.0
    verdict = "met" if ratio >= AIM_RATIO and stats.percentile_ms(99) < AIM_P99_MS else "NOT met"
    print(f"aim (/api/stats ratio >= {AIM_RATIO}, p99 < {AIM_P99_MS:g} ms "
          f"at {args.clients} clients): {verdict}")


def main(argv: list[str] | None = None) -> int:
    """Start both servers, measure each target, print the report, and always stop the servers."""
    args = parse_args(argv)
    load_before = load_average()
    key = "bench-" + secrets.token_urlsafe(24)
    workdir = Path(tempfile.mkdtemp(prefix="ua-bench-"))
    # A fresh instance trains the built-in AI models for ~20 s at first start; that one-off work would
    # share the 2 cores with the measurement (bench/inference.py measures the agent with its models).
    shown_env = {"ULTIMATE_AGENT_RATE_LIMIT_GENERAL": "10000000 per hour",
                 "ULTIMATE_AGENT_MONITOR_AUTOSTART": "false" if args.no_monitor else "true",
                 "ULTIMATE_AGENT_AI_MODELS_AUTOLOAD": "false"}
    agent_env = clean_env({**shown_env, "ULTIMATE_AGENT_ADMIN_API_KEY": key,
                           "ULTIMATE_AGENT_INSTANCE_PATH": str(workdir / "instance")})
    servers: list[Server] = []
    sessions: list[requests.Session] = []
    try:
        bare = start_server("bare", "bench.bare_app:app", clean_env({}), workdir)
        servers.append(bare)
        agent = start_server("agent", "wsgi:app", agent_env, workdir)
        servers.append(agent)
        wait_ready(bare, "/bare", args.startup_timeout)
        wait_ready(agent, "/api/health", args.startup_timeout)
        auth = {"Authorization": f"Bearer {key}"}
        probe = requests.get(agent.base_url + "/api/stats", headers=auth, timeout=REQUEST_TIMEOUT_S)
        if probe.status_code != 200:
            raise RuntimeError(f"/api/stats answered {probe.status_code}: {probe.text[:300]}")
        targets = [("bare /bare", bare.base_url + "/bare", {}),
                   ("/api/stats", agent.base_url + "/api/stats", auth),
                   ("/api/health", agent.base_url + "/api/health", {})]
        results = []
        for name, url, headers in targets:
            sessions = [requests.Session() for _ in range(args.clients)]
            if args.warmup > 0:
                drive(name, url, headers, sessions, args.warmup)
            results.append(drive(name, url, headers, sessions, args.seconds))
            for session in sessions:
                session.close()
            sessions = []
        print_report(results, args, shown_env, load_before)
        if any(res.requests == 0 for res in results):
            print("error: a target answered no request successfully", file=sys.stderr)
            return 1
        return 0
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for session in sessions:
            session.close()
        for server in servers:
            stop_server(server)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
