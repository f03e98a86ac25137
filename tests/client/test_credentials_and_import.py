"""Which key the SDK picks, and that importing it stays light."""

from __future__ import annotations

import subprocess
import sys

from ultimate_agent.client import UltimateAgentClient, resolve_api_key


def test_the_argument_wins_then_the_environment(monkeypatch):
    monkeypatch.setenv("ULTIMATE_AGENT_API_KEY", "from-env")
    assert resolve_api_key("from-arg", "http://localhost:8080") == "from-arg"
    assert resolve_api_key(None, "http://agent.example.com:8080") == "from-env"


def test_a_local_agent_falls_back_to_its_admin_key_file(live_agent, monkeypatch):
    monkeypatch.setenv("ULTIMATE_AGENT_INSTANCE_PATH", live_agent.app.instance_path)
    client = UltimateAgentClient(live_agent.url, transports=("polling",))
    live_agent.clients.append(client)
    assert client.api_key == live_agent.admin_key
    assert client.list_keys()["keys"]  # an admin-only call works with the file's key


def test_a_remote_agent_never_gets_the_local_admin_key(live_agent, monkeypatch):
    monkeypatch.setenv("ULTIMATE_AGENT_INSTANCE_PATH", live_agent.app.instance_path)
    assert resolve_api_key(None, "http://10.1.2.3:8080") is None
    assert resolve_api_key(None, "http://[::1]:8080") == live_agent.admin_key


def test_importing_the_sdk_loads_no_server_stack():
    code = ("import sys, ultimate_agent.client; "
            "print(sorted(m for m in ('torch', 'web3', 'flask', 'sqlalchemy', 'ultimate_agent.app') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
