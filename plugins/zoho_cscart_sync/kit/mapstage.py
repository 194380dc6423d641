"""Map: staged source rows -> mapped records for each target, or quarantine with the reason and field.

Each row is mapped once per enabled target (CRM and, optionally, Books). A row refused for its content
earlier (mapping or target validation failed, the target rejected it) whose source has not changed since is
not mapped again: it waits (counted as ``waiting``) until the source changes, or until an operator asks
(a ``record_ids`` run, or the CLI's ``retry``). Each mapped record is staged with what must exist in the
target before it (its requirement) and, in a hierarchy, its depth (parents first).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import replace
from itertools import islice
from typing import Any

from zoho_cscart_sync.kit.context import EntityRun
from zoho_cscart_sync.kit.extract import reference_id
from zoho_cscart_sync.kit.hierarchy import CYCLE, account_depths
from zoho_cscart_sync.kit.spec import StreamSpec, TargetSpec
from zoho_cscart_sync.mapping.engine import CompiledMapping
from zoho_cscart_sync.mapping.engine import MappedRecord as MappingResult
from zoho_cscart_sync.mapping.transforms.base import IdResolver
from zoho_cscart_sync.state.models import QuarantineEntry
from zoho_cscart_sync.state.natural_keys import normalise_natural_key
from zoho_cscart_sync.sync.hashing import content_hash
from zoho_cscart_sync.sync.records import MappedRecord
from zoho_cscart_sync.sync.staging import read_staged_records
from zoho_cscart_sync.windows import WindowMode

log = logging.getLogger(__name__)

LINK_BATCH = 200
MAP_STAGE = "map"


def _requirement_parents(run: EntityRun, extracted: Mapping[str, Any]) -> dict[str, dict[str, str | None]]:
    """Per stream with a requirement: {record id: required id} of the rows staged (ids only)."""
    parents: dict[str, dict[str, str | None]] = {}
    for stream in run.streams():
        if stream.requires is None:
            continue
        parents[stream.name] = {
            str(row[stream.id_field]): reference_id(row.get(stream.requires.field))
            for row in read_staged_records(extracted["streams"][stream.name])
        }
    return parents


def _linked(run: EntityRun, entity: str, ids: set[str]) -> set[str]:
    """Of source ids ``ids``, those linked to a live record in the target (in ``entity``'s ID map)."""
    if not ids:
        return set()
    links = run.store.get_links(run.tenant_id, entity, **{f"{run.direction.source}_ids": sorted(ids)})
    field = run.direction.target_id_field
    return {i for i, link in links.items() if getattr(link, field) and link.deleted_at is None}


def map_records(run: EntityRun, extracted: Mapping[str, Any]) -> dict[str, Any]:
    quirks = run.quirks
    quirks.prepare_map(extracted)
    retry_all = run.ctx.window.mode is WindowMode.RECORDS
    targets = run.targets()
    waiting_on_content: dict[str, dict[str, QuarantineEntry]] = {}
    for target in targets:
        namespace = run.namespace(target)
        entries = run.store.open_quarantine(run.tenant_id, namespace, run.direction.value)
        waiting_on_content[namespace] = {i: e for i, e in entries.items() if e.kind == "content"}
    # Natural keys of writes the opposite direction started but has not confirmed (ambiguous or interrupted):
    # such a record here is most likely that very write read back, unlinked. Sending it now would echo it.
    unconfirmed = {
        normalise_natural_key(target.match_key, intent.natural_key)
        for target in targets[:1]
        if target.match_key and run.two_way
        for intent in run.store.list_pending(run.tenant_id, run.namespace(target), run.direction.opposite.value)
        if intent.natural_key
    }
    parents = _requirement_parents(run, extracted)
    depths: dict[str, dict[str, int]] = {}
    required_ids: set[str] = set()
    for stream in run.streams():
        if stream.requires is not None and stream.requires.stream == stream.name:
            depths[stream.name] = account_depths(parents[stream.name])
        required_ids.update(p for p in parents.get(stream.name, {}).values() if p)
    imported = _linked(run, run.entity, required_ids | set().union(*(set(p) for p in parents.values())))
    counts: Counter[str] = Counter()
    waiting: Counter[str] = Counter()
    with run.staging.open_stage(f"{run.direction.value}.mapped") as out:
        for stream in run.streams():
            rows = iter(read_staged_records(extracted["streams"][stream.name]))
            while chunk := list(islice(rows, LINK_BATCH)):
                out.write_many(
                    _map_chunk(
                        run,
                        stream,
                        targets,
                        chunk,
                        parents,
                        depths,
                        imported,
                        waiting_on_content,
                        retry_all,
                        counts,
                        waiting,
                        unconfirmed,
                    )
                )
    max_depth = max((d for per in depths.values() for d in per.values() if d != CYCLE), default=0)
    return {
        "mapped": out.close(),
        "deleted": extracted.get("deleted"),
        "extras": extracted.get("extras") or {},
        "extracted": sum(ref["records"] for ref in extracted["streams"].values()),
        "map_failed": dict(counts),
        "waiting": dict(waiting),
        "max_depth": max_depth,
        "quirk_counts": dict(quirks.counters),
    }


def _map_chunk(
    run: EntityRun,
    stream: StreamSpec,
    targets: tuple[TargetSpec, ...],
    rows: list[dict[str, Any]],
    parents: Mapping[str, Mapping[str, str | None]],
    depths: Mapping[str, Mapping[str, int]],
    imported: set[str],
    waiting_on_content: Mapping[str, Mapping[str, QuarantineEntry]],
    retry_all: bool,
    counts: Counter[str],
    waiting: Counter[str],
    unconfirmed: set[str],
) -> Iterator[dict[str, Any]]:
    quirks = run.quirks
    source = run.direction.source
    links = run.store.get_links(run.tenant_id, run.entity, **{f"{source}_ids": [str(r[stream.id_field]) for r in rows]})
    for row in rows:
        source_id = str(row[stream.id_field])
        source_hash = content_hash(row)
        link = links.get(source_id)
        for index, target in enumerate(targets):
            namespace = run.namespace(target)
            entry = waiting_on_content.get(namespace, {}).get(source_id)
            if entry is not None and entry.content_hash == source_hash and not retry_all:
                waiting[namespace] += 1
                continue
            listed_skip = quirks.listed_skip(stream, row, link)
            if listed_skip is not None:
                # Possibly only its list row was read: nothing is mapped, so nothing is resolved or created for it.
                skipped = MappedRecord(
                    source_id=source_id,
                    payload={},
                    flags=frozenset(stream.flags),
                    source_hash=source_hash,
                    skip_reason=listed_skip,
                )
                yield {
                    "stream": stream.name,
                    "target": target.name,
                    "route": quirks.route(stream, target, row, link),
                    "record": skipped.to_staged(),
                    "requires": None,
                    "depth": depths.get(stream.name, {}).get(source_id, 0),
                }
                continue
            route = quirks.route(stream, target, row, link)
            mapping = run.mapping(run.direction, quirks.mapping_variant(stream, target, route))
            mapped = _apply(run, mapping, row, quirks.resolver_for(stream, row))
            if not mapped.ok:
                if mapped.error_kind == "waiting":
                    waiting[namespace] += 1  # a related record is not synchronised yet: tried again every run
                else:
                    counts[namespace] += 1
                _quarantine_map_failure(run, namespace, source_id, source_hash, mapped)
                continue
            record = MappedRecord(
                source_id=source_id,
                payload=mapped.payload,
                natural_keys=dict(mapped.natural_keys),
                flags=frozenset(mapped.flags)
                | frozenset(stream.flags)
                | quirks.flags(stream, route)
                | quirks.row_flags(stream, row),
                source_hash=source_hash,
                actions=dict(mapped.actions),
            )
            if index == 0:
                skip = quirks.skip_reason(stream, row, record, link)
                key = record.natural_keys.get(target.match_key or "")
                if (
                    skip is None
                    and link is None
                    and key
                    and normalise_natural_key(target.match_key or "", key) in unconfirmed
                ):
                    skip = (
                        f"an unconfirmed {run.direction.opposite.label} write of {target.match_key} {key} is pending; "
                        "it is checked first, this record follows once it is linked"
                    )
                if skip is not None:
                    record = replace(record, skip_reason=skip)
            requires: str | None = None
            if stream.requires is not None:
                required = parents.get(stream.name, {}).get(source_id)
                if required:
                    requires = quirks.requirement_id(
                        stream, required, parents.get(stream.requires.stream or "", {}), imported
                    )
            yield {
                "stream": stream.name,
                "target": target.name,
                "route": route,
                "record": record.to_staged(),
                "requires": requires,
                "depth": depths.get(stream.name, {}).get(source_id, 0),
            }


def _apply(run: EntityRun, mapping: CompiledMapping, row: Mapping[str, Any], resolve: IdResolver) -> MappingResult:
    """Map ``row``; when the entity resolves some links by writing (``EntityQuirks.creates_on_resolve``), only
    after a probe with those links stubbed maps cleanly (no contact is created for an order that waits)."""
    creating = run.quirks.creates_on_resolve
    if creating:

        def probe(entity: str, source_id: str) -> str | None:
            return f"(probe: {entity} {source_id})" if entity in creating else resolve(entity, source_id)

        probed = mapping.apply(row, tenant=run.tenant_id, resolve_id=probe)
        if not probed.ok:
            return probed
    return mapping.apply(row, tenant=run.tenant_id, resolve_id=resolve)


def _quarantine_map_failure(run: EntityRun, namespace: str, source_id: str, source_hash: str, mapped: Any) -> None:
    log.warning("%s: %s", run.label, mapped.failure_message())
    if run.ctx.dry_run:
        return
    waits = mapped.error_kind == "waiting"
    run.store.quarantine(
        run.tenant_id,
        namespace,
        run.direction.value,
        source_id,
        reason=f"{'waiting for a related record' if waits else 'mapping failed'}: {mapped.error_summary()}",
        stage=MAP_STAGE,
        run_id=run.ctx.run_id,
        field=mapped.errors[0].field,
        kind="waiting" if waits else "content",
        content_hash=None if waits else source_hash,
    )
