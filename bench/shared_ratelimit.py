"""Shared rate limiter: overhead per request and achieved rate vs configured with 1, 2 and 4 processes.

    python bench/shared_ratelimit.py [--postgres URL] [--rpm 40] [--window 1.0] [--windows 5]

Overhead: slot() taken and released N times with no limit reached, per-process limiter vs the shared one
(PostgreSQL round trips). Rate: P processes (tests/http/shared_limiter_worker.py) send requests to a local
counting server as fast as the shared limit lets them; the server counts the most requests in any sliding
window, which must not exceed the configured limit.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]

import sqlalchemy as sa  # noqa: E402

from tests.http.test_http_shared_ratelimit import CountingServer, _run_workers  # noqa: E402
from zoho_cscart_sync.http.ratelimit import RateLimit, RateLimiter  # noqa: E402
from zoho_cscart_sync.http.shared_ratelimit import PostgresRateBackend, SharedRateLimiter  # noqa: E402
from zoho_cscart_sync.state import StateStore  # noqa: E402


def overhead(limiter: RateLimiter, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        with limiter.slot():
            pass
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--postgres",
        default=os.environ.get("ZCS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--requests", type=int, default=2000, help="slots for the overhead measurement")
    parser.add_argument("--rpm", type=int, default=40, help="requests per window")
    parser.add_argument("--window", type=float, default=1.0, help="window seconds")
    parser.add_argument("--windows", type=int, default=5, help="windows' worth of requests per run")
    args = parser.parse_args()

    schema = f"zcs_bench_{secrets.token_hex(4)}"
    store = StateStore.from_url(args.postgres, schema=schema)
    store.migrate()
    store.close()
    backend = PostgresRateBackend(args.postgres, schema=schema, migrate=False)
    try:
        # Never reached; the short window keeps about as many answered rows per scope as Zoho's 100 a minute.
        unlimited = RateLimit(requests_per_minute=10**6, window_seconds=0.1)
        local = overhead(RateLimiter(unlimited), args.requests)
        shared_limiter = SharedRateLimiter("bench:overhead", unlimited, backend)
        overhead(shared_limiter, 50)  # warm the pool
        shared = overhead(shared_limiter, args.requests)
        print(f"overhead per request ({args.requests} slots, one process, nothing waited for):")
        for name, samples in (("per-process", local), ("shared (PostgreSQL)", shared)):
            ordered = sorted(samples)
            print(
                f"  {name:20s} median {statistics.median(samples) * 1e3:.3f} ms, "
                f"p99 {ordered[int(len(ordered) * 0.99)] * 1e3:.3f} ms"
            )
        print(f"achieved rate, limit {args.rpm} per {args.window:g}s window, {args.windows} windows of requests:")
        total = args.rpm * args.windows
        with tempfile.TemporaryDirectory() as tmp:
            for processes in (1, 2, 4):
                server = CountingServer()
                try:
                    _run_workers(
                        Path(tmp),
                        args.postgres,
                        schema,
                        server.url,
                        processes=processes,
                        requests_each=total // processes,
                        rpm=args.rpm,
                        window=args.window,
                    )
                    arrivals = sorted(server.arrivals)
                    span = arrivals[-1] - arrivals[0]
                    # n requests need ceil(n / rpm) windows; the first window's requests go at once.
                    rate = (len(arrivals) - args.rpm) / span * args.window if span else float("inf")
                    print(
                        f"  {processes} process(es): {len(arrivals)} requests in {span:.2f}s, "
                        f"{rate:.1f} per window after the first, max in any window "
                        f"{server.max_in_any_window(args.window)} (limit {args.rpm})"
                    )
                finally:
                    server.close()
    finally:
        backend.close()
        engine = sa.create_engine(args.postgres)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    main()
