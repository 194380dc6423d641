"""Rate limits shared across processes through PostgreSQL: real processes, a real database, a counting server.

Rates are checked by counting the requests the server received in every sliding window, never by timing.
"""

from __future__ import annotations

import logging
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.http.test_http_ratelimit import FakeClock
from zoho_cscart_sync.http import shared_ratelimit
from zoho_cscart_sync.http.client import ApiRequester, RequestContext
from zoho_cscart_sync.http.errors import ZOHO_BOOKS
from zoho_cscart_sync.http.ratelimit import RateLimit, RateLimiter, limiter_for, reset_limiters
from zoho_cscart_sync.http.retry import RetryPolicy
from zoho_cscart_sync.http.shared_ratelimit import (
    PostgresRateBackend,
    SharedRateLimiter,
    configure_shared_backend,
    scope_key,
)

pytestmark = pytest.mark.postgres

WORKER = Path(__file__).with_name("shared_limiter_worker.py")
REPO_ROOT = Path(__file__).resolve().parents[2]


class CountingServer:
    """Records when each request arrived (monotonic) and the most requests it held at once."""

    def __init__(self, delay: float = 0.0) -> None:
        self.arrivals: list[float] = []
        self.max_in_flight = 0
        self.delay = delay
        self.answers_429: list[float] = []  # Retry-After seconds of the next requests to refuse
        self._in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.arrivals.append(time.monotonic())
                    server._in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                    retry_after = server.answers_429.pop(0) if server.answers_429 else None
                time.sleep(server.delay)
                with server._lock:
                    server._in_flight -= 1
                status, body = (429, b'{"code": 44, "message": "too many"}') if retry_after else (200, b"{}")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if retry_after:
                    self.send_header("Retry-After", str(retry_after))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/ping"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def max_in_any_window(self, window: float) -> int:
        times = sorted(self.arrivals)
        best, first = 0, 0
        for last, arrived in enumerate(times):
            while arrived - times[first] >= window:
                first += 1
            best = max(best, last - first + 1)
        return best

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[CountingServer]:
    running = CountingServer()
    yield running
    running.close()


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[str]:
    """A throwaway schema holding the state tables (migrated once here, not by each worker)."""
    from zoho_cscart_sync.state import StateStore

    schema = f"zcs_rl_{secrets.token_hex(4)}"
    store = StateStore.from_url(postgres_url, schema=schema)
    store.migrate()
    store.close()
    yield schema
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def backend(postgres_url: str, pg_schema: str) -> Iterator[PostgresRateBackend]:
    shared = PostgresRateBackend(postgres_url, schema=pg_schema)
    yield shared
    shared.close()


def _run_workers(
    tmp_path: Path,
    postgres_url: str,
    schema: str,
    target: str,
    *,
    processes: int,
    requests_each: int,
    rpm: int = 0,
    concurrency: int = 0,
    window: float = 1.0,
    local: bool = False,
) -> list[list[float]]:
    go = tmp_path / f"go-{secrets.token_hex(3)}"
    key = f"zoho_books:org:{secrets.token_hex(3)}"
    args = [postgres_url, schema, key, str(rpm), str(concurrency), str(window), target, str(requests_each), str(go)]
    env = {"PYTHONPATH": f"{REPO_ROOT / 'plugins'}:{REPO_ROOT}", "PATH": "/usr/bin:/bin"}
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), *args, *(["local"] if local else [])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(processes)
    ]
    time.sleep(1.0)  # interpreter start-up; the GO file then releases every worker at once
    go.touch()
    waits = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        waits.append([float(w) for w in out.strip().split(",")])
    return waits


def test_four_processes_together_stay_within_the_window(tmp_path, postgres_url, pg_schema, server):
    # 4 processes x 9 requests with 12 per 1 s window: alone, each would send its 9 at once.
    _run_workers(tmp_path, postgres_url, pg_schema, server.url, processes=4, requests_each=9, rpm=12)
    assert len(server.arrivals) == 36
    assert server.max_in_any_window(1.0) <= 12
    # ...and the limiter does not starve them either: 36 requests need 3 windows, each filled.
    assert server.max_in_any_window(1.0) == 12


def test_per_process_limiters_would_exceed_the_same_limit(tmp_path, postgres_url, pg_schema, server):
    """The control: the same load with today's per-process limiters reaches more than the limit."""
    _run_workers(tmp_path, postgres_url, pg_schema, server.url, processes=4, requests_each=9, rpm=12, local=True)
    assert len(server.arrivals) == 36
    assert server.max_in_any_window(1.0) > 12


def test_concurrency_holds_across_processes(tmp_path, postgres_url, pg_schema):
    slow = CountingServer(delay=0.1)
    try:
        _run_workers(tmp_path, postgres_url, pg_schema, slow.url, processes=4, requests_each=4, concurrency=2)
        assert len(slow.arrivals) == 16
        assert slow.max_in_flight <= 2
    finally:
        slow.close()


def test_a_429_with_retry_after_holds_the_other_processes(postgres_url, pg_schema, server):
    """A Books 429 met by one process (Retry-After: 1) pauses every process of the organisation."""
    limit = RateLimit(requests_per_minute=100)
    first = PostgresRateBackend(postgres_url, schema=pg_schema)
    second = PostgresRateBackend(postgres_url, schema=pg_schema)  # its own engine, as another process has
    try:
        key = scope_key(ZOHO_BOOKS, "org:70000001")
        requester = ApiRequester(
            requests.Session(),
            RequestContext("acme_store", "zoho_acme_store"),
            limiter=SharedRateLimiter(key, limit, first),
            policy=RetryPolicy(max_attempts=3),
        )
        server.answers_429.append(1)
        done = threading.Event()
        thread = threading.Thread(target=lambda: (requester.request(ZOHO_BOOKS, "GET", server.url), done.set()))
        thread.start()
        while not server.arrivals:
            time.sleep(0.005)
        refused_at = server.arrivals[0]
        time.sleep(0.2)  # the first process has read the 429 and written the pause
        other = SharedRateLimiter(key, limit, second)
        with other.slot():
            requests.get(server.url, timeout=5)
        thread.join(timeout=30)
        assert done.is_set()
        assert len(server.arrivals) == 3  # the 429, the other process's request, the retry
        assert min(server.arrivals[1:]) - refused_at >= 0.95
    finally:
        first.close()
        second.close()


def test_window_remaining_sees_the_other_processes_requests(postgres_url, pg_schema, server):
    limit = RateLimit(requests_per_minute=10, window_seconds=30)
    first = PostgresRateBackend(postgres_url, schema=pg_schema)
    second = PostgresRateBackend(postgres_url, schema=pg_schema)
    try:
        key = scope_key(ZOHO_BOOKS, "org:70000002")
        assert SharedRateLimiter(key, limit, second).window_remaining() == 30  # nothing known: a whole window
        with SharedRateLimiter(key, limit, first).slot():
            requests.get(server.url, timeout=5)
        assert 0 < SharedRateLimiter(key, limit, second).window_remaining() < 30
    finally:
        first.close()
        second.close()


def test_unreachable_backend_degrades_to_per_process_limits_with_one_warning(caplog):
    clock = FakeClock()
    unreachable = PostgresRateBackend("postgresql://zcs:secret-pw@127.0.0.1:1/nowhere")
    limiter = SharedRateLimiter(
        "zoho_books:org:1", RateLimit(requests_per_minute=1), unreachable, clock=clock.time, sleep=clock.sleep
    )
    with caplog.at_level(logging.WARNING, logger=shared_ratelimit.__name__):
        with limiter.slot():
            pass
        with limiter.slot():  # the per-process window of 1 request a minute still holds
            pass
    assert clock.sleeps and sum(clock.sleeps) >= 60
    warnings = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1
    assert "per task process" in warnings[0]
    assert "secret-pw" not in caplog.text
    unreachable.close()


def test_keys_hold_ids_never_secrets():
    assert scope_key("zoho_books", "org:70000001") == "zoho_books:org:70000001"
    assert scope_key("cscart", "acme_store") == "cscart:acme_store"
    odd = scope_key("cscart", "https://admin:SandboxAdminKey0001@shop.example/")
    assert "SandboxAdminKey0001" not in odd
    assert odd.startswith("cscart:h:")


def test_limiter_for_shares_limited_scopes_only(postgres_url, pg_schema, server, monkeypatch):
    backend = PostgresRateBackend(postgres_url, schema=pg_schema)
    reset_limiters()
    configure_shared_backend(backend)
    try:
        limited = limiter_for(ZOHO_BOOKS, "org:70000009", RateLimit(requests_per_minute=100))
        assert isinstance(limited, SharedRateLimiter)
        assert limited.key == "zoho_books:org:70000009"
        unlimited = limiter_for("zoho_crm", "acme_store", RateLimit())
        assert type(unlimited) is RateLimiter  # no limit, no database round trip
        with limited.slot():
            requests.get(server.url, timeout=5)
        with backend.engine.connect() as conn:
            keys = set(conn.execute(sa.text("select scope_key from zcs_rate_slots")).scalars())
        assert keys == {"zoho_books:org:70000009"}
    finally:
        reset_limiters()
        backend.close()


def test_sqlite_state_store_or_local_mode_keeps_limits_per_process(monkeypatch, tmp_path, postgres_url):
    reset_limiters()
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CSCART_STATE", f'{{"conn_type": "sqlite", "host": "{tmp_path}/s.db"}}')
    assert type(limiter_for(ZOHO_BOOKS, "org:1", RateLimit(requests_per_minute=100))) is RateLimiter
    reset_limiters()
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CSCART_STATE", postgres_url.replace("postgresql+psycopg2", "postgres"))
    monkeypatch.setenv("ZCS_RATE_LIMITS", "local")
    assert type(limiter_for(ZOHO_BOOKS, "org:1", RateLimit(requests_per_minute=100))) is RateLimiter
    reset_limiters()
    monkeypatch.delenv("ZCS_RATE_LIMITS")
    assert isinstance(limiter_for(ZOHO_BOOKS, "org:1", RateLimit(requests_per_minute=100)), SharedRateLimiter)
    reset_limiters()
