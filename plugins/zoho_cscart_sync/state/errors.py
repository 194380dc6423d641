"""Errors raised by the state store; each message names the tenant, entity and key involved."""

from __future__ import annotations


class StateStoreError(Exception):
    """Base class for every state-store failure."""


class SchemaVersionError(StateStoreError):
    """The database schema is newer than this code knows (a newer release migrated it)."""


class TokenLockTimeout(StateStoreError):
    """Another process held the token lock for longer than the caller was willing to wait."""


class LinkConflictError(StateStoreError):
    """Saving a link would merge two links: the Zoho id and the CS-Cart id belong to different rows."""


class NaturalKeyConflictError(StateStoreError):
    """A natural key (e-mail, SKU, order reference) is already claimed by another live link."""


class RunLeaseHeld(StateStoreError):
    """Another run holds the lease of a (tenant, entity, direction) and did not release it in time."""

    def __init__(self, message: str, *, holder: str) -> None:
        super().__init__(message)
        self.holder = holder
