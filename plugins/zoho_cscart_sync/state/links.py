"""The ID map: Zoho id <-> CS-Cart id per tenant and entity, with natural keys, write hashes and flags."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoho_cscart_sync.state.errors import LinkConflictError, NaturalKeyConflictError
from zoho_cscart_sync.state.models import RecordLink
from zoho_cscart_sync.state.natural_keys import normalise_natural_key
from zoho_cscart_sync.state.tables import links, natural_keys

log = logging.getLogger(__name__)

ItemT = TypeVar("ItemT")

# Bound on the number of ids in one IN (...) list: well under SQLite's 32,766 host-parameter limit and
# small enough for PostgreSQL to plan quickly.
LOOKUP_CHUNK = 500

_FLAG_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,49}$")

_LINK_COLUMNS = (
    links.c.id,
    links.c.tenant,
    links.c.entity,
    links.c.zoho_id,
    links.c.cscart_id,
    links.c.hash_to_cscart,
    links.c.hash_to_zoho,
    links.c.flags,
    links.c.last_synced_at,
    links.c.deleted_at,
)


def encode_flags(flags: Iterable[str]) -> str:
    """Flags as ``,a,b,`` (sorted) so ``LIKE '%,a,%'`` selects them; names may not contain commas."""
    names = sorted(set(flags))
    for name in names:
        if not isinstance(name, str) or not _FLAG_PATTERN.match(name):
            raise ValueError(f"flag must match {_FLAG_PATTERN.pattern}, got {name!r}")
    return f",{','.join(names)}," if names else ""


def decode_flags(encoded: str) -> frozenset[str]:
    return frozenset(name for name in encoded.split(",") if name)


def flag_filter(flag: str) -> sa.ColumnElement[bool]:
    """WHERE clause selecting links that carry ``flag``."""
    return links.c.flags.like(f"%{encode_flags([flag])}%")


def describe_ids(zoho_id: str | None, cscart_id: str | None) -> str:
    return f"zoho_id={zoho_id!r}, cscart_id={cscart_id!r}"


def chunked(values: Sequence[ItemT], size: int | None = None) -> Iterable[Sequence[ItemT]]:
    """Consecutive slices of at most ``size`` (default LOOKUP_CHUNK) items: the IN-list bound."""
    size = size or LOOKUP_CHUNK
    for start in range(0, len(values), size):
        yield values[start : start + size]


def load_natural_keys(connection: Connection, link_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """Natural keys of many links in as few queries as LOOKUP_CHUNK allows."""
    keys: dict[int, dict[str, str]] = {link_id: {} for link_id in link_ids}
    for chunk in chunked(link_ids):
        rows = connection.execute(
            sa.select(natural_keys.c.link_id, natural_keys.c.key_kind, natural_keys.c.key_value).where(
                natural_keys.c.link_id.in_(chunk)
            )
        )
        for link_id, kind, value in rows:
            keys[link_id][kind] = value
    return keys


def to_links(connection: Connection, rows: Sequence[Any]) -> list[tuple[int, RecordLink]]:
    """Turn rows of ``_LINK_COLUMNS`` into (row id, RecordLink), loading their natural keys in one batch."""
    keys = load_natural_keys(connection, [row.id for row in rows])
    return [
        (
            row.id,
            RecordLink(
                tenant=row.tenant,
                entity=row.entity,
                zoho_id=row.zoho_id,
                cscart_id=row.cscart_id,
                natural_keys=keys[row.id],
                hash_to_cscart=row.hash_to_cscart,
                hash_to_zoho=row.hash_to_zoho,
                flags=decode_flags(row.flags),
                last_synced_at=row.last_synced_at,
                deleted_at=row.deleted_at,
            ),
        )
        for row in rows
    ]


def _id_column(side: str) -> sa.Column[Any]:
    return links.c.zoho_id if side == "zoho" else links.c.cscart_id


def _select_by_id(tenant: str, entity: str, side: str, record_id: str) -> sa.Select[Any]:
    return sa.select(*_LINK_COLUMNS).where(
        links.c.tenant == tenant, links.c.entity == entity, _id_column(side) == record_id
    )


def get_link(connection: Connection, tenant: str, entity: str, side: str, record_id: str) -> RecordLink | None:
    """The link whose ``side`` id ("zoho" or "cscart") is ``record_id``."""
    row = connection.execute(_select_by_id(tenant, entity, side, record_id)).one_or_none()
    if row is None:
        return None
    return to_links(connection, [row])[0][1]


def get_links(
    connection: Connection, tenant: str, entity: str, side: str, record_ids: Sequence[str]
) -> dict[str, RecordLink]:
    """Links for many ids of one side, keyed by that id; ids without a link are absent."""
    column = _id_column(side)
    found: dict[str, RecordLink] = {}
    for chunk in chunked(record_ids):
        rows = connection.execute(
            sa.select(*_LINK_COLUMNS).where(links.c.tenant == tenant, links.c.entity == entity, column.in_(chunk))
        ).all()
        for row, (_link_id, link) in zip(rows, to_links(connection, rows), strict=True):
            found[row.zoho_id if side == "zoho" else row.cscart_id] = link
    return found


def find_by_natural_key(
    connection: Connection, tenant: str, entity: str, key_kind: str, key_value: str
) -> RecordLink | None:
    """The link that claims the (already normalised) natural key, deleted or not."""
    row = connection.execute(
        sa.select(*_LINK_COLUMNS)
        .join(natural_keys, natural_keys.c.link_id == links.c.id)
        .where(
            natural_keys.c.tenant == tenant,
            natural_keys.c.entity == entity,
            natural_keys.c.key_kind == key_kind,
            natural_keys.c.key_value == key_value,
        )
    ).one_or_none()
    if row is None:
        return None
    return to_links(connection, [row])[0][1]


def find_by_natural_keys(
    connection: Connection, tenant: str, entity: str, key_kind: str, key_values: Sequence[str]
) -> dict[str, RecordLink]:
    """Links claiming any of the (already normalised) key values, keyed by value; batched like get_links."""
    found: dict[str, RecordLink] = {}
    for chunk in chunked(key_values):
        rows = connection.execute(
            sa.select(*_LINK_COLUMNS, natural_keys.c.key_value)
            .join(natural_keys, natural_keys.c.link_id == links.c.id)
            .where(
                natural_keys.c.tenant == tenant,
                natural_keys.c.entity == entity,
                natural_keys.c.key_kind == key_kind,
                natural_keys.c.key_value.in_(chunk),
            )
        ).all()
        for row, (_link_id, link) in zip(rows, to_links(connection, rows), strict=True):
            found[row.key_value] = link
    return found


def save_link(
    connection: Connection,
    tenant: str,
    entity: str,
    *,
    zoho_id: str | None,
    cscart_id: str | None,
    natural_key_values: Mapping[str, str] | None,
    hash_to_cscart: str | None,
    hash_to_zoho: str | None,
    flags: frozenset[str] | None,
    run_id: str,
    now: datetime,
    origin: str | None = None,
) -> RecordLink:
    """Insert the link or update the one row that already holds either id.

    None arguments leave the stored value alone (saving after a write to CS-Cart must not wipe the hash
    of the last write to Zoho). ``natural_key_values`` and ``flags``, when given, replace the stored
    set. ``origin`` (the direction of the write that links the pair) is stored by the insert only: it says
    where the pair came from, so later writes in either direction never change it. A live link is never
    merged into another: if the two ids belong to different rows, or a natural key belongs to another live
    link, this raises and the transaction rolls back.
    """
    by_zoho = connection.execute(_select_by_id(tenant, entity, "zoho", zoho_id)).one_or_none() if zoho_id else None
    by_cscart = (
        connection.execute(_select_by_id(tenant, entity, "cscart", cscart_id)).one_or_none() if cscart_id else None
    )
    if by_zoho is not None and by_cscart is not None and by_zoho.id != by_cscart.id:
        raise LinkConflictError(
            f"{tenant}/{entity}: cannot link {describe_ids(zoho_id, cscart_id)}: Zoho id {zoho_id!r} is "
            f"already linked to CS-Cart id {by_zoho.cscart_id!r} and CS-Cart id {cscart_id!r} to Zoho id "
            f"{by_cscart.zoho_id!r}"
        )
    existing = by_zoho if by_zoho is not None else by_cscart
    changes: dict[str, Any] = {"run_id": run_id, "last_synced_at": now, "deleted_at": None}
    if hash_to_cscart is not None:
        changes["hash_to_cscart"] = hash_to_cscart
    if hash_to_zoho is not None:
        changes["hash_to_zoho"] = hash_to_zoho
    if flags is not None:
        changes["flags"] = encode_flags(flags)

    if existing is None:
        link_id: int = connection.execute(
            links.insert()
            .values(
                tenant=tenant,
                entity=entity,
                zoho_id=zoho_id,
                cscart_id=cscart_id,
                created_at=now,
                origin=origin,
                **changes,
            )
            .returning(links.c.id)
        ).scalar_one()
    else:
        link_id = existing.id
        for side, new_id, old_id in (
            ("zoho", zoho_id, existing.zoho_id),
            ("cscart", cscart_id, existing.cscart_id),
        ):
            if new_id is not None and new_id != old_id:
                if old_id is not None:
                    # The record on the other side was re-created (e.g. deleted in CS-Cart and created
                    # again); keep one row and say so, instead of leaving a stale link behind.
                    log.warning(
                        "%s/%s: re-linking %s id %r -> %r (other side %s)",
                        tenant,
                        entity,
                        side,
                        old_id,
                        new_id,
                        describe_ids(zoho_id, cscart_id),
                    )
                changes[f"{side}_id"] = new_id
        connection.execute(sa.update(links).where(links.c.id == link_id).values(**changes))

    if natural_key_values is not None:
        _replace_natural_keys(connection, tenant, entity, link_id, natural_key_values, zoho_id, cscart_id)
    row = connection.execute(sa.select(*_LINK_COLUMNS).where(links.c.id == link_id)).one()
    return to_links(connection, [row])[0][1]


def normalise_natural_keys(values: Mapping[str, str]) -> dict[str, str]:
    return {kind: normalise_natural_key(kind, value) for kind, value in values.items()}


def _replace_natural_keys(
    connection: Connection,
    tenant: str,
    entity: str,
    link_id: int,
    wanted: Mapping[str, str],
    zoho_id: str | None,
    cscart_id: str | None,
) -> None:
    if wanted:
        claimed = connection.execute(
            sa.select(
                natural_keys.c.key_kind,
                natural_keys.c.key_value,
                links.c.id,
                links.c.zoho_id,
                links.c.cscart_id,
                links.c.deleted_at,
            )
            .join(links, links.c.id == natural_keys.c.link_id)
            .where(
                natural_keys.c.tenant == tenant,
                natural_keys.c.entity == entity,
                links.c.id != link_id,
                sa.or_(
                    *(
                        sa.and_(natural_keys.c.key_kind == kind, natural_keys.c.key_value == value)
                        for kind, value in wanted.items()
                    )
                ),
            )
        ).all()
        for kind, value, other_id, other_zoho, other_cscart, other_deleted in claimed:
            if other_deleted is None:
                raise NaturalKeyConflictError(
                    f"{tenant}/{entity}: natural key {kind}={value!r} already belongs to the link "
                    f"{describe_ids(other_zoho, other_cscart)}; refusing to give it to "
                    f"{describe_ids(zoho_id, cscart_id)}"
                )
            # A deleted record's key passes to the live record that now carries it.
            connection.execute(
                sa.delete(natural_keys).where(natural_keys.c.link_id == other_id, natural_keys.c.key_kind == kind)
            )
    connection.execute(sa.delete(natural_keys).where(natural_keys.c.link_id == link_id))
    if wanted:
        connection.execute(
            natural_keys.insert(),
            [
                {"tenant": tenant, "entity": entity, "key_kind": kind, "key_value": value, "link_id": link_id}
                for kind, value in wanted.items()
            ],
        )


def mark_deleted(connection: Connection, tenant: str, entity: str, side: str, record_id: str, at: datetime) -> bool:
    """Stamp ``deleted_at`` (the first deletion time is kept); True when a live link was marked."""
    result = connection.execute(
        sa.update(links)
        .where(
            links.c.tenant == tenant,
            links.c.entity == entity,
            _id_column(side) == record_id,
            links.c.deleted_at.is_(None),
        )
        .values(deleted_at=at)
    )
    return result.rowcount == 1


def list_links_page(
    connection: Connection, tenant: str, entity: str, flag: str | None, after_id: int, limit: int
) -> list[tuple[int, RecordLink]]:
    """One keyset page of links ordered by row id (stable while rows are added)."""
    statement = sa.select(*_LINK_COLUMNS).where(
        links.c.tenant == tenant, links.c.entity == entity, links.c.id > after_id
    )
    if flag is not None:
        statement = statement.where(flag_filter(flag))
    rows = connection.execute(statement.order_by(links.c.id).limit(limit)).all()
    return to_links(connection, rows)


def clear_hashes(connection: Connection, tenant: str, entity: str) -> int:
    """Forget what was last written in both directions, so every record is sent again."""
    result = connection.execute(
        sa.update(links)
        .where(links.c.tenant == tenant, links.c.entity == entity)
        .values(hash_to_cscart=None, hash_to_zoho=None)
    )
    return result.rowcount
