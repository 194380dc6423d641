"""Run the two sandbox servers with uvicorn on 127.0.0.1 (background threads or the foreground)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn

from zoho_cscart_sandbox.cscart import CscartState, build_cscart_app
from zoho_cscart_sandbox.zoho_app import build_zoho_app
from zoho_cscart_sandbox.zoho_state import ZohoState

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _bound_socket(port: int) -> socket.socket:
    """Bind first, then hand the socket to uvicorn: port 0 never races with another process."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit TCP_NODELAY; without it keep-alive calls stall ~40 ms (Nagle + delayed ACK).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((HOST, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@dataclass
class _Running:
    server: uvicorn.Server
    sock: socket.socket
    thread: threading.Thread | None = None


@dataclass
class SandboxServers:
    """Both servers with their state; `start()` runs them in daemon threads and returns once they listen."""

    zoho_port: int = 0
    cscart_port: int = 0
    zoho_state: ZohoState = field(default_factory=ZohoState)
    cscart_state: CscartState = field(default_factory=CscartState)
    _running: list[_Running] = field(default_factory=list)

    @property
    def zoho_url(self) -> str:
        return f"http://{HOST}:{self.zoho_port}"

    @property
    def cscart_url(self) -> str:
        return f"http://{HOST}:{self.cscart_port}"

    def _prepare(self) -> list[_Running]:
        zoho_sock, cscart_sock = _bound_socket(self.zoho_port), _bound_socket(self.cscart_port)
        self.zoho_port = zoho_sock.getsockname()[1]
        self.cscart_port = cscart_sock.getsockname()[1]
        zoho_url = self.zoho_url  # the api_domain handed out by the token endpoint
        apps = [
            (build_zoho_app(self.zoho_state, api_url=lambda _request: zoho_url), zoho_sock),
            (build_cscart_app(self.cscart_state), cscart_sock),
        ]
        running = []
        for app, sock in apps:
            config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30)
            running.append(_Running(uvicorn.Server(config), sock))
        return running

    def start(self, timeout: float = 10.0) -> None:
        self._running = self._prepare()
        for item in self._running:
            server, sock = item.server, item.sock
            # uvicorn installs signal handlers only in the main thread; threads skip that.
            item.thread = threading.Thread(
                target=lambda s=server, k=sock: asyncio.run(s.serve(sockets=[k])),
                daemon=True,
                name="zoho-cscart-sandbox",
            )
            item.thread.start()
        deadline = time.monotonic() + timeout
        while not all(item.server.started for item in self._running):
            if time.monotonic() > deadline:
                raise RuntimeError("sandbox servers did not start in time")
            time.sleep(0.01)

    def stop(self) -> None:
        for item in self._running:
            item.server.should_exit = True
        for item in self._running:
            if item.thread is not None:
                item.thread.join(timeout=10)
            item.sock.close()
        self._running = []

    def serve_forever(self) -> None:
        """Foreground: run until SIGINT/SIGTERM, then stop both servers cleanly."""
        import signal

        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda _signum, _frame: stop.set())
        self.start()
        try:
            while not stop.wait(0.5):
                if not all(item.thread is not None and item.thread.is_alive() for item in self._running):
                    break
        finally:
            self.stop()
