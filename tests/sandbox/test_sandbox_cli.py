"""`python -m zoho_cscart_sandbox start|status|stop` (what `make sandbox` / `make sandbox-stop` run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

from zoho_cscart_sandbox.server import free_port

SANDBOX_DIR = Path(__file__).resolve().parents[2] / "sandbox"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SANDBOX_DIR)}
    return subprocess.run(
        [sys.executable, "-m", "zoho_cscart_sandbox", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_start_status_stop(tmp_path):
    zoho_port, cscart_port = free_port(), free_port()
    state = str(tmp_path)
    started = _cli("start", "--state-dir", state, "--zoho-port", str(zoho_port), "--cscart-port", str(cscart_port))
    try:
        assert started.returncode == 0, started.stderr
        assert "SandboxAdminKey0000000000000001A" in started.stdout  # credentials are printed
        info = json.loads((tmp_path / "sandbox.json").read_text())
        assert info["cscart_url"] == f"http://127.0.0.1:{cscart_port}"
        version = requests.get(
            f"{info['cscart_url']}/api/version",
            timeout=10,
            auth=("admin@marketplace.example", "SandboxAdminKey0000000000000001A"),
        )
        assert version.json() == {"Version": "2.1"}
        assert requests.get(f"{info['zoho_api_url']}/__sandbox__/health", timeout=10).json()["status"] == "ok"
        assert _cli("status", "--state-dir", state).returncode == 0
        again = _cli("start", "--state-dir", state, "--zoho-port", str(zoho_port), "--cscart-port", str(cscart_port))
        assert "already running" in again.stdout
    finally:
        stopped = _cli("stop", "--state-dir", state)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert _cli("status", "--state-dir", state).returncode == 1
    assert not (tmp_path / "sandbox.pid").exists()
