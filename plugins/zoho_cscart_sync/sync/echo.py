"""Echo suppression: recognise a record read back from a system as the one we wrote into it ourselves.

When the load writes a payload into system X it stores ``hash_to_X`` on the link. When the opposite direction
later extracts the same record from X, the extract side projects it onto the fields we write into X (the
target fields of the mapping into X) and asks :func:`echo_ids`; an echo is skipped instead of being sent
back, so a two-way sync does not ping-pong its own writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from zoho_cscart_sync.sync.hashing import content_hash
from zoho_cscart_sync.sync.records import System
from zoho_cscart_sync.sync.state_protocol import SyncStateStore


def project(record: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The subset of ``record`` on ``fields`` (fields the record lacks are left out, as a payload would)."""
    return {name: record[name] for name in fields if name in record}


def is_echo(
    state: SyncStateStore,
    tenant: str,
    entity: str,
    *,
    system: System,
    record_id: str,
    content: Mapping[str, Any],
) -> bool:
    """True when ``content`` (read from ``system``, projected) is exactly what we last wrote there."""
    link = state.get_link(tenant, entity, **{f"{system}_id": record_id})
    return link is not None and getattr(link, f"hash_to_{system}") == content_hash(content)


def echo_ids(
    state: SyncStateStore,
    tenant: str,
    entity: str,
    *,
    system: System,
    contents: Mapping[str, Mapping[str, Any]],
) -> set[str]:
    """Batched :func:`is_echo` for one page: ids (in ``system``) of the records that are our own writes."""
    if not contents:
        return set()
    id_field = f"{system}_id"
    links = state.get_links(tenant, entity, **{f"{id_field}s": list(contents)})
    hashes = {getattr(link, id_field): getattr(link, f"hash_to_{system}") for link in links.values()}
    return {
        record_id
        for record_id, content in contents.items()
        if hashes.get(record_id) is not None and hashes[record_id] == content_hash(content)
    }
