"""The part of :class:`zoho_cscart_sync.state.StateStore` the load loop uses, as a structural type.

Depending on this protocol instead of the concrete class keeps the engine importable without SQLAlchemy
and lets a unit test pass any object with these methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from zoho_cscart_sync.state.models import PendingWrite, RecordLink


class SyncStateStore(Protocol):
    def get_link(
        self, tenant: str, entity: str, *, zoho_id: str | None = None, cscart_id: str | None = None
    ) -> RecordLink | None: ...

    def get_links(
        self,
        tenant: str,
        entity: str,
        *,
        zoho_ids: Iterable[str] | None = None,
        cscart_ids: Iterable[str] | None = None,
    ) -> dict[str, RecordLink]: ...

    def find_link_by_natural_key(
        self, tenant: str, entity: str, key_kind: str, key_value: str
    ) -> RecordLink | None: ...

    def save_link(
        self,
        tenant: str,
        entity: str,
        *,
        zoho_id: str | None,
        cscart_id: str | None,
        natural_keys: dict[str, str] | None = None,
        hash_to_cscart: str | None = None,
        hash_to_zoho: str | None = None,
        flags: Iterable[str] | None = None,
        run_id: str,
    ) -> RecordLink: ...

    def mark_pending(
        self, tenant: str, entity: str, direction: str, source_id: str, run_id: str, natural_key: str | None
    ) -> None: ...

    def clear_pending(self, tenant: str, entity: str, direction: str, source_id: str) -> None: ...

    def mark_pending_many(
        self, tenant: str, entity: str, direction: str, intents: Mapping[str, str | None], run_id: str
    ) -> None: ...

    def clear_pending_many(self, tenant: str, entity: str, direction: str, source_ids: Iterable[str]) -> None: ...

    def find_links_by_natural_keys(
        self, tenant: str, entity: str, key_kind: str, key_values: Iterable[str]
    ) -> dict[str, RecordLink]: ...

    def record_write(
        self,
        tenant: str,
        entity: str,
        direction: str,
        *,
        source_id: str,
        target_id: str,
        target_hash: str,
        echo_hash: str | None,
        natural_keys: Mapping[str, str] | None,
        flags: Iterable[str] | None,
        run_id: str,
    ) -> RecordLink: ...

    def list_pending(self, tenant: str, entity: str, direction: str) -> list[PendingWrite]: ...

    def quarantine(
        self,
        tenant: str,
        entity: str,
        direction: str,
        source_id: str,
        *,
        reason: str,
        stage: str,
        run_id: str,
        field: str | None = None,
        kind: str = "transient",
        content_hash: str | None = None,
    ) -> None: ...

    def resolve_quarantine(self, tenant: str, entity: str, direction: str, source_id: str) -> None: ...

    def quarantined_ids(self, tenant: str, entity: str, direction: str) -> list[str]: ...
