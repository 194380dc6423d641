"""Extract: every stream of a direction into staging, with prerequisites fetched and retries included.

What is read, per stream: the records modified in the run window (or the given ``record_ids``), plus the
records waiting in quarantine for a *transient* reason or a missing prerequisite (fetched by id). Records
refused for their content are not fetched again: they come back when they change (they are then in the
window). A requirement into a stream of the same entity (a parent account, a contact's account) that is
neither in the run nor linked yet is fetched by id, level by level, up the chain. Only ids are held, and the
ids of staged records are held on disk (a private temporary SQLite file), so the task's memory does not grow
with the size of the window: a first import of 272,028 items held ~27 MiB of ids in a Python set.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
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


class StagedIds:
    """The ids staged per stream, in a private temporary SQLite file (deleted on close): memory stays flat.

    One open transaction for the whole extract, no journal, no fsync: nothing here outlives the task.
    """

    def __init__(self) -> None:
        self._db = sqlite3.connect("", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("CREATE TABLE staged (stream TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (stream, id))")
        self.counts: Counter[str] = Counter()

    def add(self, stream: str, record_id: str) -> bool:
        """Remember ``record_id`` of ``stream``; False when it was staged already."""
        added = self._db.execute("INSERT OR IGNORE INTO staged VALUES (?, ?)", (stream, record_id)).rowcount > 0
        if added:
            self.counts[stream] += 1
        return added

    def has(self, stream: str, record_id: str) -> bool:
        query = "SELECT 1 FROM staged WHERE stream = ? AND id = ?"
        return self._db.execute(query, (stream, record_id)).fetchone() is not None

    def in_any(self, record_id: str) -> bool:
        return any(self.has(stream, record_id) for stream in self.counts)

    def close(self) -> None:
        self._db.close()


class _StreamReader:
    """Stages rows of the direction's streams once each, remembering ids (never records)."""

    def __init__(self, run: EntityRun, staged: StagedIds) -> None:
        self.run = run
        self.streams = run.streams()
        self.staged = staged
        self.wanted: dict[str, set[str]] = {stream.name: set() for stream in self.streams}

    def keep(self, stream: StreamSpec, pages: Iterable[list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
        requirement = stream.requires
        for page in pages:
            for row in page:
                if not self.staged.add(stream.name, str(row[stream.id_field])):
                    continue
                if requirement is not None and requirement.stream is not None:
                    required = reference_id(row.get(requirement.field))
                    if required:
                        self.wanted[requirement.stream].add(required)
                yield row

    def is_staged(self, record_id: str) -> bool:
        return self.staged.in_any(record_id)

    def unlinked(self, stream: StreamSpec, ids: Iterable[str]) -> list[str]:
        """Of ``ids``, those not staged yet and without a live record in the target."""
        candidates = sorted(i for i in set(ids) if not self.staged.has(stream.name, i))
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
    staged = StagedIds()
    try:
        return _extract(run, by_id, empty_window, idle, _StreamReader(run, staged))
    finally:
        staged.close()


def _extract(
    run: EntityRun, by_id: bool, empty_window: bool, idle: str | None, reader: _StreamReader
) -> dict[str, Any]:
    window = run.ctx.window
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

        def records(stream: StreamSpec, pages: Iterator[list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
            return reader.keep(stream, run.quirks.source_pages(stream, pages))

        def by_ids(ids: list[str]) -> None:
            remaining = [i for i in ids if not reader.is_staged(i)]
            for stream in reader.streams:
                if not remaining:
                    return
                writers[stream.name].write_many(records(stream, sources[stream.name].by_ids(remaining)))
                remaining = [i for i in remaining if not reader.staged.has(stream.name, i)]

        if by_id:
            by_ids(list(window.record_ids))
        elif not empty_window:
            for stream in reader.streams:
                writers[stream.name].write_many(records(stream, sources[stream.name].pages(window)))
            if window.since is None:
                # Every stream, even one that read nothing: a stream left out would be carried, not counted.
                read_in_full = {stream.name: reader.staged.counts[stream.name] for stream in reader.streams}
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
                before = reader.staged.counts[stream.name]
                writers[stream.name].write_many(records(stream, sources[stream.name].by_ids(needed)))
                fetched_prerequisites += reader.staged.counts[stream.name] - before
            if not progress:
                break
        refs = {name: writer.close() for name, writer in writers.items()}
    if by_id:
        missing = sorted(i for i in set(window.record_ids) if not reader.is_staged(i))
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
