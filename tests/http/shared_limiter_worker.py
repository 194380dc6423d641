"""Run in a separate process by the shared-limiter tests and the bench.

    python shared_limiter_worker.py URL SCHEMA KEY RPM CONCURRENCY WINDOW TARGET REQUESTS GO [local]

Waits until the file GO exists (so every process starts together), then sends REQUESTS GETs to TARGET,
each inside a slot of a SharedRateLimiter on KEY (or, with ``local``, of a per-process RateLimiter).
Prints one line: the seconds each slot() took to grant, comma separated.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import requests

from zoho_cscart_sync.http.ratelimit import RateLimit, RateLimiter
from zoho_cscart_sync.http.shared_ratelimit import PostgresRateBackend, SharedRateLimiter


def main(argv: list[str]) -> int:
    url, schema, key = argv[0], argv[1] or None, argv[2]
    rpm, concurrency, window = int(argv[3]) or None, int(argv[4]) or None, float(argv[5])
    target, count, go = argv[6], int(argv[7]), Path(argv[8])
    local = len(argv) > 9 and argv[9] == "local"
    limit = RateLimit(requests_per_minute=rpm, concurrency=concurrency, window_seconds=window)
    limiter: RateLimiter
    if local:
        limiter = RateLimiter(limit)
    else:
        backend = PostgresRateBackend(url, schema=schema, migrate=False)
        limiter = SharedRateLimiter(key, limit, backend)
    session = requests.Session()
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            return 2
        time.sleep(0.005)
    waits = []
    for _ in range(count):
        asked = time.perf_counter()
        with limiter.slot() as ticket:
            waits.append(time.perf_counter() - asked)
            response = session.get(target, timeout=30)
            ticket.refused = response.status_code == 429
    print(",".join(f"{w:.6f}" for w in waits))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
