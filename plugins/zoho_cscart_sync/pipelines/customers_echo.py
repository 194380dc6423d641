"""Echo suppression for two-way customers: hashes of what the *other* direction will read back.

The load loop stores ``hash_to_<target>`` = hash of the payload it wrote. That stops a direction from
writing the same thing twice, but the opposite direction reads the record back in the *other* system's
shape (CS-Cart user rows are flat: no addresses; a Zoho record has our fields plus its own). So after each
write we also store the hash the opposite direction's mapping will compute when it reads our write back:

* Zoho -> CS-Cart wrote a user: ``hash_to_zoho`` = hash of the CS-Cart -> Zoho payload of that user's row.
  The next CS-Cart -> Zoho pass computes the same hash from the row it reads and skips it as unchanged.
* CS-Cart -> Zoho wrote a contact: ``hash_to_cscart`` = hash of the Zoho -> CS-Cart payload of the record
  Zoho now holds, so the next Zoho -> CS-Cart pass does not write it back.

A change made on a side afterwards changes the hash that side's reader computes, and is synced. These are
state-store writes only: no API call is spent on echo suppression.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import TYPE_CHECKING, Any

from zoho_cscart_sync.sync.hashing import content_hash
from zoho_cscart_sync.sync.records import MappedRecord
from zoho_cscart_sync.sync.state_protocol import SyncStateStore

if TYPE_CHECKING:
    from zoho_cscart_sync.mapping import CompiledMapping

USER_ROW_FIELDS: tuple[str, ...] = (
    "email",
    "firstname",
    "lastname",
    "company",
    "phone",
    "status",
    "user_type",
    "company_id",
)
"""Fields of a CS-Cart user list row that a write sets (cscart_api.md 5.3: rows are flat, no b_*/s_*)."""

# CS-Cart fills an empty first/last name and phone from the billing profile (cscart_api.md 5.3, admin area).
_BILLING_FALLBACK = {"firstname": "b_firstname", "lastname": "b_lastname", "phone": "b_phone"}


def cscart_row_after_write(
    payload: Mapping[str, Any], user_id: str, *, before: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The user row CS-Cart lists after ``payload`` was written to user ``user_id``.

    ``before`` is the row as it was when an existing user was adopted: a PUT keeps the fields it omits.
    """
    row: dict[str, Any] = {field: "" for field in USER_ROW_FIELDS}
    if before:
        row.update({field: before.get(field, "") for field in USER_ROW_FIELDS})
    for field in USER_ROW_FIELDS:
        value = payload.get(field)
        if value in (None, "") and field in _BILLING_FALLBACK:
            value = payload.get(_BILLING_FALLBACK[field])
        if value not in (None, ""):
            row[field] = str(value)
    row["user_id"] = str(user_id)
    return row


def zoho_record_after_upsert(payload: Mapping[str, Any], zoho_id: str) -> dict[str, Any]:
    """The CRM record a Zoho -> CS-Cart read returns after our upsert created or updated it."""
    return {**payload, "id": str(zoho_id)}


def mapped_hash(mapping: CompiledMapping, record: Mapping[str, Any], *, tenant: str) -> str | None:
    """Hash of ``mapping`` applied to ``record``; None when the mapping fails (nothing to compare then)."""
    mapped = mapping.apply(record, tenant=tenant)
    if not mapped.ok:
        return None
    return content_hash(mapped.payload)


def track_writes(
    records: Iterable[MappedRecord],
    store: SyncStateStore,
    *,
    tenant: str,
    entity: str,
    source: str,
    target: str,
    will_write: set[str],
    linked_before: set[str] | None = None,
    batch_size: int = 200,
) -> Iterator[MappedRecord]:
    """Pass ``records`` through, adding to ``will_write`` the ids the load will write (hash differs).

    Echo hashes are stored only for records written in this run: recomputing them for an unchanged record
    could replace the exact hash the other direction stored with an approximation. ``linked_before``
    collects those of them that already existed in the target (an update keeps the fields it omits).
    """
    iterator = iter(records)
    while chunk := list(islice(iterator, batch_size)):
        ids = [record.source_id for record in chunk]
        links = store.get_links(tenant, entity, **{f"{source}_ids": ids})
        for record in chunk:
            link = links.get(record.source_id)
            stored = getattr(link, f"hash_to_{target}") if link is not None else None
            if not record.skip_reason and stored != content_hash(record.payload):
                will_write.add(record.source_id)
                if linked_before is not None and link is not None and getattr(link, f"{target}_id"):
                    linked_before.add(record.source_id)
            yield record
