"""A record table that generates seed records by index on demand and keeps only the changes.

300,000 generated products cost nothing until a page of them is read: the table stores the
overlay of records written through the API (edited or created) and the ids of deleted ones.
Seed modified times are non-decreasing in the index, so "modified since" is a binary search and
"sort by modified time" is a merge of the untouched seed range with the (small) overlay.
"""

from __future__ import annotations

import copy
import heapq
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

Record = dict[str, Any]
MISSING = object()  # what a peek function answers for a field it cannot compute cheaply


class FieldView:
    """Read-only `record[field]` access to a table record without building it when the table can peek."""

    __slots__ = ("record_id", "table")

    def __init__(self, table: LazyTable, record_id: str) -> None:
        self.table = table
        self.record_id = record_id

    def __getitem__(self, name: str) -> Any:
        return self.table.field(self.record_id, name)

    def get(self, name: str, default: Any = None) -> Any:
        value = self.table.field(self.record_id, name)
        return default if value is None else value


class LazyTable:
    """Seed records by index + an overlay of writes + tombstones. Not thread-safe: one event loop owns it."""

    def __init__(
        self,
        *,
        name: str,
        base_count: int,
        build: Callable[[int], Record],
        id_of: Callable[[int], str],
        index_of: Callable[[str], int | None],
        base_modified: Callable[[int], datetime],
        peek: Callable[[int, str], Any] | None = None,
    ) -> None:
        self.name = name
        self.base_count = base_count
        self._build = build
        self._id_of = id_of
        self._index_of = index_of
        self._base_modified = base_modified
        # peek(index, field) -> a seed record's field without building the record (MISSING if it can't).
        self._peek = peek
        self._overlay: dict[str, Record] = {}
        self._modified: dict[str, datetime] = {}
        self._created: list[str] = []
        self._deleted: dict[str, datetime] = {}
        self._columns: dict[str, list[Any]] = {}  # seed values per field, computed once per table
        # seed indexes by a normalised field value, per (field, normaliser), computed once per table
        self._key_indexes: dict[tuple[str, Callable[[Any], Any]], dict[Any, list[int]]] = {}
        self.version = 0  # bumped by every write: readers holding an iterator know it is still valid

    # -- reading -------------------------------------------------------------------------------
    def base_index(self, record_id: str) -> int | None:
        index = self._index_of(record_id)
        if index is None or not 0 <= index < self.base_count:
            return None
        return index

    def exists(self, record_id: str) -> bool:
        if record_id in self._deleted:
            return False
        return record_id in self._overlay or self.base_index(record_id) is not None

    def get(self, record_id: str) -> Record | None:
        """The current record (a copy the caller may change), or None if unknown or deleted."""
        if record_id in self._deleted:
            return None
        if record_id in self._overlay:
            return copy.deepcopy(self._overlay[record_id])
        index = self.base_index(record_id)
        return None if index is None else self._build(index)

    def field(self, record_id: str, name: str) -> Any:
        """One field of a live record, cheap for seed records the table can peek into."""
        if record_id in self._overlay:
            return self._overlay[record_id].get(name)
        index = self.base_index(record_id)
        if index is None or record_id in self._deleted:
            raise KeyError(record_id)
        column = self._columns.get(name)
        if column is not None:
            return column[index]
        if self._peek is not None:
            value = self._peek(index, name)
            if value is not MISSING:
                return value
        return self._build(index).get(name)

    def ensure_column(self, name: str) -> list[Any]:
        """The seed values of one field by index, computed once (peeked when possible)."""
        column = self._columns.get(name)
        if column is None:
            column = [self._peek(i, name) if self._peek else MISSING for i in range(self.base_count)]
            if column and column[0] is MISSING:
                column = [self._build(i).get(name) for i in range(self.base_count)]
            self._columns[name] = column
        return column

    def scan_ids(self, name: str, match: Callable[[Any], bool]) -> list[str]:
        """Live ids (id order) whose field `name` matches, via a cached column of seed values.

        The column is computed once per table (not per write), so lookups such as "products whose
        code contains X" stay fast at 300,000 records while a sync writes between lookups.
        """
        column = self.ensure_column(name)
        found = []
        overlay, deleted = self._overlay, self._deleted
        for index, value in enumerate(column):
            record_id = self._id_of(index)
            if record_id in deleted:
                continue
            if record_id in overlay:
                value = overlay[record_id].get(name)
            if match(value):
                found.append(record_id)
        for record_id in self._created:
            if record_id not in deleted and match(overlay[record_id].get(name)):
                found.append(record_id)
        return found

    def scan_ids_equal(
        self,
        name: str,
        normalise: Callable[[Any], Any],
        wanted: Any,
        value_of: Callable[[Record], Any] | None = None,
    ) -> list[str]:
        """``scan_ids(name, lambda v: normalise(v) == wanted)``, answered from an index of the seed column.

        The index (normalised seed value -> seed indexes) is built once per table; only the overlay (records
        written through the API) is scanned per call, so a uniqueness check at 300,000 records costs what the
        writes so far cost, not a pass over the whole column. Same ids, same order as :meth:`scan_ids`.
        ``value_of`` reads a written record's value when `name` is not one of its keys (a derived field the
        table's peek computes for seed records, such as a contact's primary e-mail).
        """
        read = value_of if value_of is not None else (lambda record: record.get(name))
        key = (name, normalise)
        index = self._key_indexes.get(key)
        if index is None:
            index = {}
            for position, value in enumerate(self.ensure_column(name)):
                index.setdefault(normalise(value), []).append(position)
            self._key_indexes[key] = index
        overlay, deleted = self._overlay, self._deleted
        base: list[tuple[int, str]] = []
        for position in index.get(wanted, ()):
            record_id = self._id_of(position)
            if record_id not in deleted and record_id not in overlay:
                base.append((position, record_id))
        for record_id, record in overlay.items():
            position = self.base_index(record_id)
            if position is not None and record_id not in deleted and normalise(read(record)) == wanted:
                base.append((position, record_id))  # a seed record written through the API: its value now
        base.sort()
        found = [record_id for _position, record_id in base]
        for record_id in self._created:
            if record_id not in deleted and normalise(read(overlay[record_id])) == wanted:
                found.append(record_id)
        return found

    def modified_at(self, record_id: str) -> datetime:
        if record_id in self._modified:
            return self._modified[record_id]
        index = self.base_index(record_id)
        if index is None:
            raise KeyError(record_id)
        return self._base_modified(index)

    def is_deleted(self, record_id: str) -> bool:
        return record_id in self._deleted

    def deleted_items(self) -> list[tuple[str, datetime]]:
        return sorted(self._deleted.items(), key=lambda item: (item[1], item[0]))

    def count(self) -> int:
        deleted_base = sum(1 for rid in self._deleted if self.base_index(rid) is not None)
        deleted_created = len(self._deleted) - deleted_base
        return self.base_count - deleted_base + len(self._created) - deleted_created

    def ever_created(self) -> int:
        """Records created through the API so far, deleted ones included (auto-numbers never repeat)."""
        return len(self._created)

    def materialized_count(self) -> int:
        """How many records the table holds in memory (the overlay); seed records are never stored."""
        return len(self._overlay)

    def iter_ids(
        self,
        *,
        order: str = "id",
        descending: bool = False,
        modified_since: datetime | None = None,
    ) -> Iterator[str]:
        """Live ids in id order or in modified-time order (ties broken by id order)."""
        if order == "modified":
            yield from self._iter_by_modified(descending, modified_since)
        elif modified_since is None:
            yield from self._iter_by_id(descending)
        else:
            yield from self._iter_by_id_since(descending, modified_since)

    def iter_records(self, **kwargs: Any) -> Iterator[Record]:
        for record_id in self.iter_ids(**kwargs):
            record = self.get(record_id)
            if record is not None:
                yield record

    def _iter_by_id(self, descending: bool) -> Iterator[str]:
        base = range(self.base_count - 1, -1, -1) if descending else range(self.base_count)
        created = reversed(self._created) if descending else iter(self._created)
        if descending:
            yield from (rid for rid in created if rid not in self._deleted)
        for index in base:
            record_id = self._id_of(index)
            if record_id not in self._deleted:
                yield record_id
        if not descending:
            yield from (rid for rid in created if rid not in self._deleted)

    def _iter_by_id_since(self, descending: bool, since: datetime) -> Iterator[str]:
        """``_iter_by_id`` restricted to ids modified at or after ``since``, without visiting older seed records.

        Seed modified times are non-decreasing in the index, so an untouched seed record is modified since
        ``since`` exactly when its index is at or after the first such index (a binary search); a seed record
        written through the API has its own time in ``_modified`` wherever it is.
        """
        first = self._first_base_index_since(since)
        touched, deleted = self._modified, self._deleted
        early = sorted(
            index
            for record_id, modified in touched.items()
            if modified >= since
            and record_id not in deleted
            and (index := self.base_index(record_id)) is not None
            and index < first
        )
        created = [rid for rid in self._created if rid not in deleted and touched[rid] >= since]

        def tail(indexes: range) -> Iterator[str]:
            for index in indexes:
                record_id = self._id_of(index)
                if record_id in deleted or (record_id in touched and touched[record_id] < since):
                    continue
                yield record_id

        if descending:
            yield from reversed(created)
            yield from tail(range(self.base_count - 1, first - 1, -1))
            yield from (self._id_of(index) for index in reversed(early))
        else:
            yield from (self._id_of(index) for index in early)
            yield from tail(range(first, self.base_count))
            yield from created

    def _first_base_index_since(self, since: datetime) -> int:
        low, high = 0, self.base_count
        while low < high:
            mid = (low + high) // 2
            if self._base_modified(mid) < since:
                low = mid + 1
            else:
                high = mid
        return low

    def _iter_by_modified(self, descending: bool, since: datetime | None) -> Iterator[str]:
        start = 0 if since is None else self._first_base_index_since(since)
        touched = self._modified
        # Sort position of an id: (modified time, creation rank). Seed ranks are their index.
        created_rank = {rid: self.base_count + n for n, rid in enumerate(self._created)}

        def rank(record_id: str) -> int:
            index = self.base_index(record_id)
            return index if index is not None else created_rank.get(record_id, 0)

        overlay = sorted(
            (
                (modified, rank(rid), rid)
                for rid, modified in touched.items()
                if rid not in self._deleted and (since is None or modified >= since)
            ),
            reverse=descending,
        )
        indexes = range(self.base_count - 1, start - 1, -1) if descending else range(start, self.base_count)
        base = (
            (self._base_modified(i), i, rid)
            for i in indexes
            if (rid := self._id_of(i)) not in touched and rid not in self._deleted
        )
        for _modified, _rank, record_id in heapq.merge(base, overlay, reverse=descending):
            yield record_id

    # -- writing -------------------------------------------------------------------------------
    def record_keys(self) -> set[str]:
        """The keys of a seed record (the shape every record of the table has), deleted or not."""
        return set(self._build(0)) if self.base_count else set()

    def new_id(self) -> str:
        return self._id_of(self.base_count + len(self._created))

    def put(self, record_id: str, record: Record, modified: datetime) -> None:
        """Store a record written through the API (create or update)."""
        if record_id not in self._overlay and self.base_index(record_id) is None:
            self._created.append(record_id)
        self._overlay[record_id] = copy.deepcopy(record)
        self._modified[record_id] = modified
        self.version += 1

    def delete(self, record_id: str, at: datetime) -> bool:
        if not self.exists(record_id):
            return False
        self._deleted[record_id] = at
        self._overlay.pop(record_id, None)
        self.version += 1
        return True
