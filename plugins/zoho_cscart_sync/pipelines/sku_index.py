"""A SKU -> record index of a whole catalogue, for first imports where one list read beats a lookup per SKU.

Neither CS-Cart nor Zoho Inventory refuses a second record with one SKU, so a product not linked yet is looked
up by SKU before it is created (``find_then_create``). One lookup per record doubles the calls of a first
import; reading the target's whole list once (200 records a call) costs ``ceil(total / 200)`` calls instead.
The writer chooses per run (:meth:`SkuIndex.worth_reading`): the index only when it is cheaper than the
lookups the run will make. Rows are kept in a SQLite file, not in memory, so a 272k catalogue costs no RSS.
"""

from __future__ import annotations

import math
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

PAGE_SIZE = 200


class SkuIndex:
    """Records of one target catalogue by SKU: ``(id, owner)``; ``owner`` is CS-Cart's company_id or ``""``."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="zcs-sku-index-")
        self._db = sqlite3.connect(Path(self._folder.name) / "index.db")
        self._db.execute("create table sku (code text not null, record_id text not null, owner text not null)")
        self.ready = False

    @staticmethod
    def worth_reading(total_records: int, expected_lookups: int) -> bool:
        """True when reading the whole list costs fewer calls than one lookup per unlinked record."""
        return math.ceil(total_records / PAGE_SIZE) < expected_lookups

    def add_rows(self, rows: Iterable[Mapping[str, Any]], *, code_field: str, id_field: str, owner_field: str) -> None:
        self._db.executemany(
            "insert into sku values (?, ?, ?)",
            (
                (str(row.get(code_field) or "").strip(), str(row[id_field]), str(row.get(owner_field) or ""))
                for row in rows
                if str(row.get(code_field) or "").strip()
            ),
        )

    def add(self, code: str, record_id: str, owner: str = "") -> None:
        if code.strip():
            self._db.execute("insert into sku values (?, ?, ?)", (code.strip(), record_id, owner))

    def finish(self) -> None:
        self._db.execute("create index if not exists sku_code on sku (code)")
        self._db.commit()
        self.ready = True

    def matches(self, code: str) -> list[tuple[str, str]]:
        """``(id, owner)`` of every record with exactly this SKU (surrounding blanks ignored, case kept)."""
        rows = self._db.execute("select record_id, owner from sku where code = ?", (code.strip(),)).fetchall()
        return [(str(record_id), str(owner)) for record_id, owner in dict.fromkeys(rows)]

    def close(self) -> None:
        self._db.close()
        self._folder.cleanup()
