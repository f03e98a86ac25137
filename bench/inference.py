"""Inference benchmark: HTTP latency of sentiment and digit classification, and batch throughput vs. torch.

Starts the agent as `make run` does (gunicorn on a free 127.0.0.1 port, temporary instance folder), waits
for the built-in models to finish their first-start training, then measures over keep-alive HTTP:

* p50/p99 latency of POST /api/ai/inference for sentiment and classification, uncached (every request a
  different input) and cached (one input repeated), one sequential client (and --clients concurrent ones);
* batched classification throughput (samples/s, --batch-size distinct digit images per request) against
  the SAME weights the agent trained, loaded in this process and called directly under
  torch.inference_mode() on one torch thread, on the same batches with the same preprocessing.

Prints the tables, the throughput ratio (aim: >= 0.9 of direct) and whether uncached sentiment p50 is
under 5 ms.

    .venv/bin/python bench/inference.py [--requests 1000] [--batches 40] [--batch-size 256] [--clients 4]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import torch
from sklearn.datasets import load_digits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api import (  # noqa: E402
    REQUEST_TIMEOUT_S,
    Result,
    Server,
    clean_env,
    gunicorn_command,
    load_average,
    log_tail,
    start_server,
    stop_server,
    wait_ready,
)
from ultimate_agent.ai.networks import load_model  # noqa: E402

MODELS_DEADLINE_S = 180.0
AIM_BATCH_RATIO = 0.9
DIRECT_REPEATS = 5
DIRECT_LISTS = "direct torch (tensor from lists + model)"  # the baseline of the aim
DIRECT_JSON = "direct torch (json.loads body + tensor + model)"
DIRECT_FORWARD = "direct torch (model(x) only)"
AIM_SENTIMENT_P50_MS = 5.0
INFERENCE_PATH = "/api/ai/inference"
MODELS_PATH = "/api/v4/ai/models"
JSON_HEADERS = {"Content-Type": "application/json"}

# Sentences are built from these parts: every (opening, middle, closing) triple is a distinct, real-word text.
OPENINGS = [
    "The delivery arrived on time and", "Honestly the new update", "My first week with this laptop",
    "The customer support team", "This little coffee shop downtown", "The hotel room we booked",
    "Our latest sprint review", "The movie everyone talked about", "The second half of the book",
    "The replacement battery", "Yesterday's concert in the park", "The onboarding documentation",
    "The restaurant on the corner", "Their mobile banking app", "The weekend hiking trail",
    "The training course I took", "The garden centre staff", "The train journey to the coast",
    "The kitchen renovation", "The quarterly report",
]
MIDDLES = [
    "was absolutely wonderful", "felt slow and frustrating", "was fine, nothing special",
    "made me really happy", "was a terrible disappointment", "worked better than expected",
    "left me confused and annoyed", "was surprisingly pleasant", "kept crashing all afternoon",
    "was okay overall", "exceeded every expectation", "was boring and far too long",
    "was friendly and helpful", "broke after two days", "was clean, quiet and comfortable",
    "was noisy and badly organised", "was a great success", "was neither good nor bad",
    "ruined the whole evening", "brought a smile to everyone",
]
CLOSINGS = [
    "and I would recommend it.", "so I will not go back.", "but the price was high.",
    "and the staff were kind.", "although the weather was grey.", "which I did not expect.",
    "and I told all my friends.", "so we asked for a refund.", "but it could be improved.",
    "and that is all I can say.",
]


@dataclass
class Throughput:
    """Samples and seconds of one batched-throughput run."""

    name: str
    samples: int
    seconds: float
    errors: int = 0

    @property
    def rate(self) -> float:
        """Samples per second."""
        return self.samples / self.seconds if self.seconds > 0 else 0.0


def sentences() -> Iterator[str]:
    """An endless stream of distinct sentences made of real words (numbered once the triples run out)."""
    triples = list(itertools.product(OPENINGS, MIDDLES, CLOSINGS))
    yield from (f"{a} {b} {c}" for a, b, c in triples)
    for round_no in itertools.count(2):
        yield from (f"{a} {b} {c} Review number {round_no}." for a, b, c in triples)


def digit_rows() -> Iterator[list[int]]:
    """An endless stream of distinct digit images (64 ints 0-16): the 1797 originals, then nudged copies.

    Round r > 0 moves one pixel per image by one intensity step (up, or down where it is already 16), so
    every row stays a valid digits input; a row already produced (the data set has duplicates) is skipped.
    """
    images = load_digits().data.astype(int).tolist()
    seen: set[tuple[int, ...]] = set()
    for round_no in range(1 + 64 * 16):  # steps beyond 16 would leave 0-16 whatever the pixel
        for index, image in enumerate(images):
            row = list(image)
            if round_no:
                pixel = (round_no - 1 + index) % 64
                step = 1 + (round_no - 1) // 64
                row[pixel] = row[pixel] + step if row[pixel] + step <= 16 else row[pixel] - step
                if not 0 <= row[pixel] <= 16:
                    continue
            key = tuple(row)
            if key in seen:
                continue
            seen.add(key)
            yield row
    raise RuntimeError("ran out of distinct digit images; ask for fewer requests or batches")


def take(stream: Iterator[Any], count: int) -> list[Any]:
    """The next `count` items of a stream."""
    return list(itertools.islice(stream, count))


def body(model: str, value: Any) -> bytes:
    """A pre-encoded inference request, so the client's JSON work stays out of the timings."""
    return json.dumps({"model": model, "input": value, "options": {}}).encode()


def post(session: requests.Session, url: str, headers: dict[str, str], data: bytes) -> tuple[float, dict | None]:
    """One timed POST (the whole body read inside the timing); the parsed reply, None on an error."""
    began = time.perf_counter()
    try:
        response = session.post(url, data=data, headers=headers, timeout=REQUEST_TIMEOUT_S)
        response.content  # noqa: B018  (read the whole body inside the timing)
    except requests.RequestException:
        return time.perf_counter() - began, None
    elapsed = time.perf_counter() - began
    if response.status_code != 200:
        return elapsed, None
    return elapsed, response.json()


def wait_models(server: Server, headers: dict[str, str], deadline_s: float) -> list[dict[str, Any]]:
    """Poll the model list until no model is loading or training, or the deadline passes.

    sentiment and classification must be loaded by then (else RuntimeError); other built-ins still
    training at the deadline are returned as they are, and the report flags them (they load the CPU).
    """
    deadline = time.monotonic() + deadline_s
    models: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"agent exited with {server.proc.returncode}:\n{log_tail(server)}")
        try:
            response = requests.get(server.base_url + MODELS_PATH, headers=headers, timeout=REQUEST_TIMEOUT_S)
            if response.status_code == 200:
                models = response.json()["models"]
                if models and all(m["status"] in ("loaded", "failed") for m in models):
                    break
        except requests.RequestException:
            pass
        time.sleep(0.5)
    status = {m["name"]: m["status"] for m in models}
    for name in ("sentiment", "classification"):
        if status.get(name) != "loaded":
            raise RuntimeError(f"model {name} not loaded after {deadline_s:g} s: {sorted(status.items())}")
    return models


def sequential(name: str, session: requests.Session, url: str, headers: dict[str, str], bodies: list[bytes],
               want_cached: bool) -> Result:
    """Send `bodies` one after another; every reply must succeed and say cached as expected."""
    result = Result(name)
    began = time.perf_counter()
    for data in bodies:
        elapsed, reply = post(session, url, headers, data)
        if reply is None or reply.get("success") is not True or reply.get("cached") is not want_cached:
            result.errors += 1
        else:
            result.latencies.append(elapsed)
    result.elapsed = time.perf_counter() - began
    return result


def concurrent(name: str, sessions: list[requests.Session], url: str, headers: dict[str, str],
               bodies: list[bytes], want_cached: bool) -> Result:
    """Split `bodies` over one thread per session, all sending at once; merge their latencies."""
    shares = [bodies[i::len(sessions)] for i in range(len(sessions))]
    parts: list[Result] = [Result(name) for _ in sessions]
    start = threading.Event()

    def client(index: int) -> None:
        start.wait(timeout=REQUEST_TIMEOUT_S)
        parts[index] = sequential(name, sessions[index], url, headers, shares[index], want_cached)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    start.set()
    for thread in threads:
        thread.join(timeout=len(bodies) * REQUEST_TIMEOUT_S + 5.0)
    result = Result(name, elapsed=time.perf_counter() - began)
    for part in parts:
        result.latencies.extend(part.latencies)
        result.errors += part.errors
    return result


def http_batches(name: str, session: requests.Session, url: str, headers: dict[str, str],
                 batches: list[list[list[int]]], want_cached: bool) -> tuple[Throughput, list[list[int]]]:
    """POST each batch in turn; samples/s over the run and the predicted labels of every batch."""
    bodies = [body("classification", batch) for batch in batches]
    labels: list[list[int]] = []
    errors = 0
    began = time.perf_counter()
    for data, batch in zip(bodies, batches, strict=True):
        _, reply = post(session, url, headers, data)
        if reply is None or reply.get("count") != len(batch) or reply.get("cached") is not want_cached:
            errors += 1
            labels.append([])
        else:
            labels.append([p["prediction"] for p in reply["predictions"]])
    seconds = time.perf_counter() - began
    samples = sum(len(batch) for batch, got in zip(batches, labels, strict=True) if got)
    return Throughput(name, samples, seconds, errors), labels


def direct_batches(name: str, model: torch.nn.Module, batches: list[list[list[int]]],
                   start_from: str) -> tuple[Throughput, list[list[int]]]:
    """Call the model in this process on the same batches (pixels/16, float32) under inference_mode.

    start_from "lists": each input tensor is built from the Python rows inside the timing (as the agent
    must); "json": from the request body, decoded inside the timing (the floor of any JSON API);
    "tensor": the tensors are built beforehand and only model(x) is timed. The median of
    DIRECT_REPEATS passes is reported (one pass is short and noisy).
    """
    encoded = [body("classification", batch) for batch in batches]
    prepared = [torch.tensor(b, dtype=torch.float32) / 16.0 for b in batches]
    times: list[float] = []
    outputs: list[torch.Tensor] = []
    with torch.inference_mode():
        for _ in range(DIRECT_REPEATS):
            outputs = []
            began = time.perf_counter()
            for index, batch in enumerate(batches):
                if start_from == "tensor":
                    x = prepared[index]
                else:
                    rows = json.loads(encoded[index])["input"] if start_from == "json" else batch
                    x = torch.tensor(rows, dtype=torch.float32) / 16.0
                outputs.append(model(x))
            times.append(time.perf_counter() - began)
    return (Throughput(name, sum(len(b) for b in batches), statistics.median(times)),
            [out.argmax(-1).tolist() for out in outputs])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="timed requests per latency case (1000)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed requests before each case (50)")
    parser.add_argument("--batches", type=int, default=40, help="timed batches per throughput run (40, max 1000)")
    parser.add_argument("--batch-size", type=int, default=256, help="digit images per batch (256, max 1024)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients for the extra rows; 0: none")
    parser.add_argument("--models-timeout", type=float, default=MODELS_DEADLINE_S,
                        help=f"seconds to wait for the built-in models to load ({MODELS_DEADLINE_S:g})")
    parser.add_argument("--startup-timeout", type=float, default=60.0, help="seconds to wait for /api/health")
    parser.add_argument("--no-monitor", action="store_true",
                        help="set ULTIMATE_AGENT_MONITOR_AUTOSTART=false (default: autostart, as make run)")
    args = parser.parse_args(argv)
    if not 10 <= args.requests <= 100_000:
        parser.error("--requests must be 10-100000")
    if not 0 <= args.warmup <= 10_000:
        parser.error("--warmup must be 0-10000")
    if not 1 <= args.batches <= 1000:
        parser.error("--batches must be 1-1000")
    if not 1 <= args.batch_size <= 1024:
        parser.error("--batch-size must be 1-1024")
    if not 1 <= args.models_timeout <= 3600:
        parser.error("--models-timeout must be 1-3600")
    if not 0 <= args.clients <= 64:
        parser.error("--clients must be 0-64")
    return args


def print_report(args: argparse.Namespace, shown_env: dict[str, str], load_before: str, spec: str, models: str,
                 latencies: list[Result], throughputs: list[Throughput], agree: tuple[int, int]) -> None:
    """Print machine, settings, latency and throughput tables, the ratios and whether the aims are met."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {platform.machine()} {platform.system()} {platform.release()}, "
          f"cpu_count={os.cpu_count()}, usable_cpus={affinity}, python {platform.python_version()}, "
          f"torch {torch.__version__}")
    print(f"load average (1/5/15 min) before: {load_before}; after: {load_average()}")
    print(f"server:  gunicorn {' '.join(gunicorn_command('wsgi:app', '<free port>')[1:])}")
    print("settings: " + " ".join(f"{k}={v}" for k, v in shown_env.items())
          + f" requests={args.requests} warmup={args.warmup} batches={args.batches} "
            f"batch_size={args.batch_size} clients={args.clients}")
    print(models)
    print(f"classification model: {spec}")
    print()
    print(f"{'latency (POST ' + INFERENCE_PATH + ')':<40}{'requests':>9}{'errors':>7}{'req/s':>9}"
          f"{'p50 ms':>9}{'p99 ms':>9}")
    for res in latencies:
        print(f"{res.target:<40}{res.requests:>9}{res.errors:>7}{res.rate:>9.1f}"
              f"{res.percentile_ms(50):>9.2f}{res.percentile_ms(99):>9.2f}")
    print()
    title = f"batched throughput (direct: median of {DIRECT_REPEATS})"
    print(f"{title:<52}{'samples':>9}{'errors':>7}{'seconds':>9}"
          f"{'samples/s':>12}")
    for run in throughputs:
        print(f"{run.name:<52}{run.samples:>9}{run.errors:>7}{run.seconds:>9.3f}{run.rate:>12.0f}")
    print(f"predictions HTTP vs direct agree: {agree[0]}/{agree[1]}")
    print()
    by_name = {run.name: run for run in throughputs}
    http_rate = by_name["HTTP uncached"].rate
    direct = by_name[DIRECT_LISTS].rate
    ratio = http_rate / direct if direct else float("nan")
    for name in (DIRECT_LISTS, DIRECT_JSON, DIRECT_FORWARD):
        rate = by_name[name].rate
        label = f"ratio HTTP uncached / {name.removeprefix('direct torch ')}:"
        print(f"{label:<60}{http_rate / rate if rate else float('nan'):.4f}")
    sentiment_p50 = next(r for r in latencies if r.target == "sentiment uncached").percentile_ms(50)
    ratio_met = ratio >= AIM_BATCH_RATIO
    p50_met = sentiment_p50 < AIM_SENTIMENT_P50_MS
    print(f"aim batch throughput ratio >= {AIM_BATCH_RATIO}: {'met' if ratio_met else 'NOT met'} ({ratio:.4f})")
    print(f"aim uncached sentiment p50 < {AIM_SENTIMENT_P50_MS:g} ms: {'met' if p50_met else 'NOT met'} "
          f"({sentiment_p50:.2f} ms)")


def run_bench(args: argparse.Namespace, agent: Server, key: str, workdir: Path, shown_env: dict[str, str],
              load_before: str, sessions: list[requests.Session]) -> int:
    """Every measurement against a started agent; returns the exit status."""
    auth = {"Authorization": f"Bearer {key}"}
    headers = {**auth, **JSON_HEADERS}
    waited = time.perf_counter()
    models = wait_models(agent, auth, args.models_timeout)
    models_line = (f"built-in models after {time.perf_counter() - waited:.0f} s: "
                   + ", ".join(f"{m['name']}={m['status']}" for m in models))
    busy = [m["name"] for m in models if m["status"] in ("loading", "training")]
    if busy:
        models_line += f" (WARNING: {', '.join(busy)} still training in the agent: figures are skewed)"
    url = agent.base_url + INFERENCE_PATH
    session = requests.Session()
    sessions.append(session)
    texts, rows = sentences(), digit_rows()
    n, w = args.requests, args.warmup

    latencies: list[Result] = []
    cases = [("sentiment", texts), ("classification", rows)]
    for model, stream in cases:
        sequential("warm-up", session, url, headers, [body(model, v) for v in take(stream, w)], False)
        latencies.append(sequential(f"{model} uncached", session, url, headers,
                                    [body(model, v) for v in take(stream, n)], False))
        repeated = body(model, take(stream, 1)[0])
        sequential("prime", session, url, headers, [repeated], False)
        latencies.append(sequential(f"{model} cached", session, url, headers, [repeated] * n, True))
    if args.clients:
        pool = [requests.Session() for _ in range(args.clients)]
        sessions.extend(pool)
        for model, stream in cases:
            concurrent("warm-up", pool, url, headers, [body(model, v) for v in take(stream, w)], False)
            latencies.append(concurrent(f"{model} uncached, {args.clients} clients", pool, url, headers,
                                        [body(model, v) for v in take(stream, n)], False))

    torch.set_num_threads(1)  # as each agent request thread (inference._single_torch_thread)
    model, spec = load_model(workdir / "instance" / "models" / "builtin-classification" / "model.pt",
                             torch.device("cpu"))
    size = args.batch_size
    warm = [take(rows, size) for _ in range(min(3, args.batches))]
    batches = [take(rows, size) for _ in range(args.batches)]
    http_batches("warm-up", session, url, headers, warm, False)
    http_run, http_labels = http_batches("HTTP uncached", session, url, headers, batches, False)
    cached_run, _ = http_batches("HTTP cached (one batch repeated)", session, url, headers,
                                 [batches[-1]] * args.batches, True)
    direct_batches("warm-up", model, warm, "lists")
    direct_run, direct_labels = direct_batches(DIRECT_LISTS, model, batches, "lists")
    json_run, _ = direct_batches(DIRECT_JSON, model, batches, "json")
    forward_run, _ = direct_batches(DIRECT_FORWARD, model, batches, "tensor")
    pairs = [(a, b) for got, want in zip(http_labels, direct_labels, strict=True) if got
             for a, b in zip(got, want, strict=True)]
    agree = (sum(a == b for a, b in pairs), len(pairs))
    described = f"{spec['architecture']} {spec['params']} (weights from the agent's instance folder)"
    # The aims are reported, not enforced: a completed run exits 0.
    print_report(args, shown_env, load_before, described, models_line, latencies,
                 [http_run, cached_run, direct_run, json_run, forward_run], agree)
    failures = [r.target for r in latencies if r.errors or not r.requests]
    failures += [t.name for t in (http_run, cached_run) if t.errors or not t.samples]
    if failures or agree[0] != agree[1]:
        print(f"error: failed requests or disagreeing predictions in: {failures or ['predictions']}",
              file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Start the agent, run every measurement, print the report, and always stop the agent."""
    args = parse_args(argv)
    load_before = load_average()
    key = "bench-" + secrets.token_urlsafe(24)
    workdir = Path(tempfile.mkdtemp(prefix="ua-bench-inference-"))
    shown_env = {"ULTIMATE_AGENT_RATE_LIMIT_GENERAL": "10000000 per hour",
                 "ULTIMATE_AGENT_MONITOR_AUTOSTART": "false" if args.no_monitor else "true"}
    agent_env = clean_env({**shown_env, "ULTIMATE_AGENT_ADMIN_API_KEY": key,
                           "ULTIMATE_AGENT_INSTANCE_PATH": str(workdir / "instance")})
    agent: Server | None = None
    sessions: list[requests.Session] = []
    try:
        agent = start_server("agent", "wsgi:app", agent_env, workdir)
        wait_ready(agent, "/api/health", args.startup_timeout)
        return run_bench(args, agent, key, workdir, shown_env, load_before, sessions)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for session in sessions:
            session.close()
        if agent is not None:
            stop_server(agent)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
