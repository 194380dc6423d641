"""Sync state: watermarks, token cache, ID map with natural keys and hashes, quarantine, run statistics."""

from __future__ import annotations

from zoho_cscart_sync.state.errors import (
    LinkConflictError,
    NaturalKeyConflictError,
    RunLeaseHeld,
    SchemaVersionError,
    StateStoreError,
    TokenLockTimeout,
)
from zoho_cscart_sync.state.models import CachedToken, PendingWrite, QuarantineEntry, RecordLink, RunLease
from zoho_cscart_sync.state.store import StateStore

__all__ = [
    "CachedToken",
    "LinkConflictError",
    "NaturalKeyConflictError",
    "PendingWrite",
    "QuarantineEntry",
    "RecordLink",
    "RunLease",
    "RunLeaseHeld",
    "SchemaVersionError",
    "StateStore",
    "StateStoreError",
    "TokenLockTimeout",
]
