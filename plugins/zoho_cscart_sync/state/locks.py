"""Cross-process mutual exclusion for token refreshes.

PostgreSQL: a transaction-scoped advisory lock on a hash of the key, released by commit/rollback even when
the holder crashes. SQLite: an exclusive ``flock`` on a small per-key file beside the database. A SQLite
write transaction would also exclude other processes, but it locks the whole database, so the holder
could not then save the token it just minted through the store's other connections.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from zoho_cscart_sync.state.engine import advisory_lock_key
from zoho_cscart_sync.state.errors import TokenLockTimeout

_LOCK_POLL_SECONDS = 0.02
_PG_LOCK_NOT_AVAILABLE = "55P03"

# Process-local locks for in-memory SQLite databases, which no other process can open anyway.
_memory_locks: dict[str, threading.Lock] = {}
_memory_locks_guard = threading.Lock()


def _key_digest(cache_key: str) -> str:
    return hashlib.sha256(cache_key.encode("utf-8")).hexdigest()[:32]


@contextmanager
def postgres_token_lock(engine: Engine, cache_key: str, *, scope: str, timeout: float) -> Iterator[None]:
    """Hold ``pg_advisory_xact_lock`` for ``cache_key`` for the duration of the block."""
    key = advisory_lock_key("zcs-token", scope, cache_key)
    with engine.connect() as connection, connection.begin():
        # lock_timeout also bounds advisory-lock waits; SET LOCAL ends with this transaction.
        connection.execute(sa.select(sa.func.set_config("lock_timeout", f"{max(1, int(timeout * 1000))}ms", True)))
        try:
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
        except OperationalError as exc:
            if getattr(exc.orig, "pgcode", None) == _PG_LOCK_NOT_AVAILABLE:
                raise TokenLockTimeout(
                    f"token lock for cache key {cache_key!r} still held by another process after {timeout:g}s"
                ) from None
            raise
        yield


def lock_file_path(database_path: str, cache_key: str) -> Path:
    """Where the SQLite backend keeps the lock file for ``cache_key`` (named by hash, no secrets)."""
    return Path(f"{database_path}.locks") / f"token-{_key_digest(cache_key)}.lock"


@contextmanager
def file_token_lock(database_path: str, cache_key: str, *, timeout: float) -> Iterator[None]:
    """Hold an exclusive flock on the key's lock file. flock binds to the open file description, so it
    excludes other threads of this process as well as other processes."""
    path = lock_file_path(database_path, cache_key)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TokenLockTimeout(
                        f"token lock for cache key {cache_key!r} still held by another process "
                        f"after {timeout:g}s ({path})"
                    ) from None
                time.sleep(_LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


@contextmanager
def memory_token_lock(cache_key: str, *, timeout: float) -> Iterator[None]:
    """Thread lock for an in-memory SQLite store (only this process can see that database)."""
    with _memory_locks_guard:
        lock = _memory_locks.setdefault(cache_key, threading.Lock())
    if not lock.acquire(timeout=timeout):
        raise TokenLockTimeout(f"token lock for cache key {cache_key!r} still held after {timeout:g}s")
    try:
        yield
    finally:
        lock.release()
