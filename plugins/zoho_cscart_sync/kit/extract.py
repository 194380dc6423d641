"""Extract: every stream of a direction into staging, with prerequisites fetched and retries included.

What is read, per stream: the records modified in the run window (or the given ``record_ids``), plus the
records waiting in quarantine for a *transient* reason or a missing prerequisite (fetched by id). Records
refused for their content are not fetched again: they come back when they change (they are then in the
window). A requirement into a stream of the same entity (a parent account, a contact's account) that is
neither in the run nor linked yet is fetched by id, level by level, up the chain. Only ids are held.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from typing import Any

from zoho_cscart_sync.kit.context import EntityRun
from zoho_cscart_sync.kit.spec import StreamSpec
from zoho_cscart_sync.sync.staging import StagedRef
from zoho_cscart_sync.windows import WindowMode

log = logging.getLogger(__name__)


def reference_id(value: Any) -> str | None:
    """The id a source field points at: a CRM lookup ``{"id": ...}`` or a bare id."""
    if isinstance(value, Mapping):
        value = value.get("id")
    if value in (None, "", 0, "0"):
        return None
    return str(value)


class _StreamReader:
    """Stages rows of the direction's streams once each, remembering ids (never records)."""

    def __init__(self, run: EntityRun) -> None:
        self.run = run
        self.streams = run.direction_spec.streams
        self.staged: dict[str, set[str]] = {stream.name: set() for stream in self.streams}
        self.wanted: dict[str, set[str]] = {stream.name: set() for stream in self.streams}

    def keep(self, stream: StreamSpec, pages: Iterable[list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
        requirement = stream.requires
        for page in pages:
            for row in page:
                record_id = str(row[stream.id_field])
                if record_id in self.staged[stream.name]:
                    continue
                self.staged[stream.name].add(record_id)
                if requirement is not None and requirement.stream is not None:
                    required = reference_id(row.get(requirement.field))
                    if required:
                        self.wanted[requirement.stream].add(required)
                yield row

    def is_staged(self, record_id: str) -> bool:
        return any(record_id in ids for ids in self.staged.values())

    def unlinked(self, stream: StreamSpec, ids: Iterable[str]) -> list[str]:
        """Of ``ids``, those not staged yet and without a live record in the target."""
        candidates = sorted(set(ids) - self.staged[stream.name])
        if not candidates:
            return []
        run = self.run
        source = run.direction.source
        links = run.store.get_links(run.tenant_id, run.entity, **{f"{source}_ids": candidates})
        target_field = run.direction.target_id_field
        return [
            i
            for i in candidates
            if not (i in links and getattr(links[i], target_field) and links[i].deleted_at is None)
        ]


def extract(run: EntityRun) -> dict[str, Any]:
    window = run.ctx.window
    by_id = window.mode is WindowMode.RECORDS
    idle = run.quirks.idle_reason()
    if idle is not None:
        log.info("%s: nothing to read: %s", run.label, idle)
        by_id = False
    empty_window = idle is not None or (window.since is not None and window.since >= window.until)
    reader = _StreamReader(run)
    retry_ids: list[str] = []
    if not by_id and idle is None and run.quirks.writes_records():
        # Content failures wait for their source to change; everything else is tried again now.
        for target in run.targets():
            entries = run.store.open_quarantine(run.tenant_id, run.namespace(target), run.direction.value)
            retry_ids.extend(i for i, entry in entries.items() if entry.kind != "content" and i not in retry_ids)
    refs: dict[str, StagedRef] = {}
    fetched_prerequisites = 0
    # A window open at the start reads every record of each stream: their number is the source's total then.
    read_in_full: dict[str, int] | None = None
    with ExitStack() as stack:
        writers = {
            stream.name: stack.enter_context(run.staging.open_stage(f"{run.direction.value}.{stream.name}"))
            for stream in reader.streams
        }
        sources = {stream.name: run.source(stream) for stream in reader.streams}

        def by_ids(ids: list[str]) -> None:
            remaining = [i for i in ids if not reader.is_staged(i)]
            for stream in reader.streams:
                if not remaining:
                    return
                writers[stream.name].write_many(reader.keep(stream, sources[stream.name].by_ids(remaining)))
                remaining = [i for i in remaining if i not in reader.staged[stream.name]]

        if by_id:
            by_ids(list(window.record_ids))
        elif not empty_window:
            for stream in reader.streams:
                writers[stream.name].write_many(reader.keep(stream, sources[stream.name].pages(window)))
            if window.since is None:
                read_in_full = {name: len(ids) for name, ids in reader.staged.items()}
        if retry_ids:
            by_ids(retry_ids)
        # Prerequisites at any depth: fetch what is required and neither staged nor linked, until none is.
        asked: dict[str, set[str]] = {stream.name: set() for stream in reader.streams}
        while True:
            progress = False
            for stream in reader.streams:
                needed = [i for i in reader.unlinked(stream, reader.wanted[stream.name]) if i not in asked[stream.name]]
                if not needed:
                    continue
                progress = True
                asked[stream.name].update(needed)
                before = len(reader.staged[stream.name])
                writers[stream.name].write_many(reader.keep(stream, sources[stream.name].by_ids(needed)))
                fetched_prerequisites += len(reader.staged[stream.name]) - before
            if not progress:
                break
        refs = {name: writer.close() for name, writer in writers.items()}
    if by_id:
        missing = sorted(set(window.record_ids) - set().union(*reader.staged.values()))
        if missing:
            log.warning(
                "%s: record_ids not found in the source (deleted, or out of scope): %s", run.label, ", ".join(missing)
            )
    deleted_ref = None
    if not (by_id or empty_window) and any(stream.deleted_feed for stream in reader.streams):
        with run.staging.open_stage(f"{run.direction.value}.deleted") as deleted:
            for stream in reader.streams:
                for page in sources[stream.name].deleted(window):
                    deleted.write_many({**row, "stream": stream.name} for row in page)
        deleted_ref = deleted.close()
    counts = {name: ref["records"] for name, ref in refs.items()}
    log.info(
        "%s: extracted %s; %d prerequisite(s) fetched by id; %d quarantined record(s) retried",
        run.label,
        ", ".join(f"{count} {name}" for name, count in counts.items()),
        fetched_prerequisites,
        len(retry_ids),
    )
    listed = {name: getattr(source, "total_items", None) for name, source in sources.items()}
    return {
        "streams": refs,
        "source_totals": {
            "listed": {name: total for name, total in listed.items() if total is not None},
            "read_in_full": read_in_full,
        },
        "deleted": deleted_ref,
        "extras": run.quirks.extract_extras(),
        "prerequisites_fetched": fetched_prerequisites,
        "retried": len(retry_ids),
    }
