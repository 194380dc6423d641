"""Run in a separate process by the multi-process tests: python lock_worker.py MODE URL SCHEMA ARGS...

Modes:
  count LOG ITERATIONS   take the token lock ITERATIONS times, appending "enter PID"/"exit PID" to LOG
  hold READY RELEASE     take the lock, create READY, keep it until RELEASE exists (at most 30 s)
  migrate GO             wait for GO to exist, then migrate and print the version reached
  write GO ITERATIONS    wait for GO, then per iteration advance a shared watermark, save a link and
                         quarantine a record (all keyed by PID) - concurrent writers must not fail
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from zoho_cscart_sync.state import StateStore

CACHE_KEY = "zoho:lock-test"


def _wait_for(path: Path, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {path}")
        time.sleep(0.005)


def main(argv: list[str]) -> int:
    mode, url, schema = argv[0], argv[1], argv[2] or None
    store = StateStore.from_url(url, schema=schema)
    pid = os.getpid()
    if mode == "count":
        log_path, iterations = Path(argv[3]), int(argv[4])
        for _ in range(iterations):
            with store.token_lock(CACHE_KEY, timeout=30):
                with log_path.open("a") as log:
                    log.write(f"enter {pid}\n")
                    log.flush()
                # Widen the window in which a broken lock would let another process in.
                time.sleep(0.01)
                with log_path.open("a") as log:
                    log.write(f"exit {pid}\n")
    elif mode == "hold":
        ready, release = Path(argv[3]), Path(argv[4])
        with store.token_lock(CACHE_KEY, timeout=30):
            ready.touch()
            _wait_for(release)
    elif mode == "migrate":
        _wait_for(Path(argv[3]))
        print(store.migrate())
    elif mode == "write":
        _wait_for(Path(argv[3]))
        start = datetime(2026, 1, 1, tzinfo=timezone.utc)
        for number in range(int(argv[4])):
            record = f"{pid}-{number}"
            store.advance_watermark("acme_store", "orders", "zoho_to_cscart", start + timedelta(seconds=number), record)
            store.save_link("acme_store", "orders", zoho_id=f"z{record}", cscart_id=f"c{record}", run_id=record)
            store.quarantine("acme_store", "orders", "cscart_to_zoho", record, reason="x", stage="load", run_id=record)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
