"""`python -m zoho_cscart_sandbox serve|start|stop|status` - run the sandbox outside pytest."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from zoho_cscart_sandbox.credentials import SANDBOX_CREDENTIALS
from zoho_cscart_sandbox.knobs import ADMIN_PREFIX

DEFAULT_ZOHO_PORT = 8801
DEFAULT_CSCART_PORT = 8802


def default_state_dir() -> Path:
    """<repo>/.sandbox when run from a checkout (the package lives in <repo>/sandbox/), else ./.sandbox."""
    repo = Path(__file__).resolve().parents[2]
    base = repo if (repo / "pyproject.toml").is_file() else Path.cwd()
    return base / ".sandbox"


def urls(zoho_port: int, cscart_port: int) -> dict[str, str]:
    zoho = f"http://127.0.0.1:{zoho_port}"
    return {"zoho_accounts_url": zoho, "zoho_api_url": zoho, "cscart_url": f"http://127.0.0.1:{cscart_port}"}


def healthy(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}{ADMIN_PREFIX}/health", timeout=timeout) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


def describe(info: dict[str, Any]) -> str:
    lines = [
        "Zoho/CS-Cart sandbox (sandbox-only credentials; never valid anywhere else)",
        f"  Zoho accounts : {info['zoho_accounts_url']}/oauth/v2/token",
        f"  Zoho API      : {info['zoho_api_url']}/crm/v8  /inventory/v1  /books/v3",
        f"  CS-Cart       : {info['cscart_url']}/api",
        f"  Admin         : {info['zoho_api_url']}{ADMIN_PREFIX}/{{reset,knobs,counters}} (same on CS-Cart)",
    ]
    for tenant, creds in SANDBOX_CREDENTIALS.zoho.items():
        lines += [
            f"  [{tenant}] Zoho client_id={creds.client_id}",
            f"  [{tenant}]      client_secret={creds.client_secret}",
            f"  [{tenant}]      refresh_token={creds.refresh_token}",
            f"  [{tenant}]      organization_id={creds.organization_id}",
        ]
    for tenant, user in SANDBOX_CREDENTIALS.cscart.items():
        lines.append(
            f"  [{tenant}] CS-Cart {user.email} / {user.api_key} (user_type {user.user_type}, "
            f"company_id {user.company_id})"
        )
    return "\n".join(lines)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its new parent) is not running
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _read_state(state_dir: Path) -> dict[str, Any] | None:
    path = state_dir / "sandbox.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def cmd_serve(args: argparse.Namespace) -> int:
    from zoho_cscart_sandbox.server import SandboxServers

    servers = SandboxServers(zoho_port=args.zoho_port, cscart_port=args.cscart_port)
    print(describe(urls(args.zoho_port, args.cscart_port)), flush=True)
    servers.serve_forever()
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    state_dir: Path = args.state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    info = urls(args.zoho_port, args.cscart_port)
    existing = _read_state(state_dir)
    if existing and _pid_alive(int(existing["pid"])) and healthy(existing["zoho_api_url"]):
        print(f"sandbox already running (pid {existing['pid']})")
        print(describe(existing))
        return 0
    log = (state_dir / "sandbox.log").open("ab")
    command = [
        sys.executable,
        "-m",
        "zoho_cscart_sandbox",
        "serve",
        "--zoho-port",
        str(args.zoho_port),
        "--cscart-port",
        str(args.cscart_port),
    ]
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, env=env
    )
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(f"sandbox exited with code {process.returncode}; see {state_dir / 'sandbox.log'}", file=sys.stderr)
            return 1
        if healthy(info["zoho_api_url"]) and healthy(info["cscart_url"]):
            break
        time.sleep(0.1)
    else:
        process.terminate()
        print(f"sandbox did not become healthy in {args.wait}s; see {state_dir / 'sandbox.log'}", file=sys.stderr)
        return 1
    record = {**info, "pid": process.pid, "log": str(state_dir / "sandbox.log")}
    (state_dir / "sandbox.pid").write_text(f"{process.pid}\n")
    (state_dir / "sandbox.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"sandbox started (pid {process.pid}, log {record['log']})")
    print(describe(record))
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    state_dir: Path = args.state_dir
    existing = _read_state(state_dir)
    if not existing or not _pid_alive(int(existing["pid"])):
        print("sandbox is not running")
        for name in ("sandbox.pid", "sandbox.json"):
            (state_dir / name).unlink(missing_ok=True)
        return 0
    pid = int(existing["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _pid_alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    if _pid_alive(pid):
        print(f"sandbox (pid {pid}) did not stop after SIGTERM", file=sys.stderr)
        return 1
    for name in ("sandbox.pid", "sandbox.json"):
        (state_dir / name).unlink(missing_ok=True)
    print(f"sandbox stopped (pid {pid})")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    existing = _read_state(args.state_dir)
    if existing and _pid_alive(int(existing["pid"])) and healthy(existing["zoho_api_url"]):
        print(f"sandbox running (pid {existing['pid']})")
        print(describe(existing))
        return 0
    print("sandbox is not running")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoho_cscart_sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("serve", "run in the foreground"),
        ("start", "start in the background"),
        ("stop", "stop the background sandbox"),
        ("status", "is it running?"),
    ):
        command = sub.add_parser(name, help=help_text)
        command.add_argument(
            "--state-dir",
            type=Path,
            default=default_state_dir(),
            help="pidfile, log and sandbox.json (default: <repo>/.sandbox)",
        )
        if name in ("serve", "start"):
            command.add_argument("--zoho-port", type=int, default=DEFAULT_ZOHO_PORT)
            command.add_argument("--cscart-port", type=int, default=DEFAULT_CSCART_PORT)
        if name == "start":
            command.add_argument("--wait", type=float, default=20.0, help="seconds to wait until healthy")
    args = parser.parse_args(argv)
    handlers = {"serve": cmd_serve, "start": cmd_start, "stop": cmd_stop, "status": cmd_status}
    return handlers[args.command](args)
