"""Operator console at catalogue scale: page times with 272,028 product links, as many quarantine entries and as many
Zoho items not in CS-Cart.

    python bench/console_page.py [--links 272028] [--quarantine 272028] [--unlinked 272028] [--runs 2000]
        [--postgres URL] [--repeat 7]

Fills a fresh state store (SQLite file, or a throwaway schema on PostgreSQL) in bulk, then times, through the
console's FastAPI app (TestClient, the real templates, the simple auth manager deciding), the products page (first
quarantine page and the last one, reached by its key), the customers page with its no-e-mail list, the index, and
each page's queries on their own; the quarantine also newest last seen first (first page and a deep one, by key), and
the "Not in CS-Cart" list (first and last page). Prints the medians in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]

from tests.console.support import COUNTS, TENANT, Z2C, SimpleUsers, write_tenants  # noqa: E402
from zoho_cscart_sync.console.app import ConsoleSettings, create_app  # noqa: E402
from zoho_cscart_sync.console.views import Scope, entity_page, load_scopes  # noqa: E402
from zoho_cscart_sync.state import StateStore  # noqa: E402
from zoho_cscart_sync.state import tables as t  # noqa: E402

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
BATCH = 20_000


def fill(store: StateStore, links: int, quarantined: int, runs: int, customers: int, unlinked: int = 0) -> None:
    """Bulk rows as the sync leaves them: product links (all from Zoho), open quarantine, run stats, customers."""
    store.migrate()
    engine = store.engine
    with engine.begin() as conn:
        for start in range(0, links, BATCH):
            conn.execute(
                t.links.insert(),
                [
                    {
                        "tenant": TENANT,
                        "entity": "products",
                        "zoho_id": f"57257670{n:010d}",
                        "cscart_id": str(n + 1),
                        "hash_to_cscart": "h",
                        "flags": "",
                        "run_id": "r",
                        "created_at": T0,
                        "last_synced_at": T0,
                        "origin": Z2C,
                    }
                    for n in range(start, min(links, start + BATCH))
                ],
            )
        for start in range(0, quarantined, BATCH):
            conn.execute(
                t.quarantine.insert(),
                [
                    {
                        "tenant": TENANT,
                        "entity": "products",
                        "direction": Z2C if n % 2 else "cscart_to_zoho",
                        "source_id": f"9{n:010d}",
                        "reason": f"CS-Cart refused product {n}: price must be a number",
                        "stage": "load",
                        "field": "price",
                        "run_id": "r",
                        "attempts": 1 + n % 5,
                        "first_seen": T0 + timedelta(seconds=n),
                        "last_seen": T0 + timedelta(seconds=n),
                        "kind": "content",
                    }
                    for n in range(start, min(quarantined, start + BATCH))
                ],
            )
        for start in range(0, unlinked, BATCH):
            # Zoho items the Zoho -> CS-Cart runs left out (e.g. an import filter); half of them linked since by
            # CS-Cart -> Zoho adoptions and not swept yet, so every read must leave them out by the anti-join.
            conn.execute(
                t.unlinked.insert(),
                [
                    {
                        "tenant": TENANT,
                        "entity": "products",
                        "zoho_id": f"57257670{n:010d}" if n % 2 else f"46{n:014d}",
                        "stream": "items",
                        "label": f"Item {n} · SKU-{n}",
                        "reason": "status 'inactive' is not imported",
                        "first_seen": T0,
                        "last_seen": T0 + timedelta(seconds=n),
                        "run_id": "r",
                    }
                    for n in range(start, min(unlinked, start + BATCH))
                ],
            )
        stats = (
            '{"zoho_to_cscart": {"succeeded": true, "created": 40, "updated": 3, "failed": 1, "api_calls": {"a": 44}}}'
        )
        conn.execute(
            t.run_stats.insert(),
            [
                {
                    "tenant": TENANT,
                    "entity": "products",
                    "run_id": f"scheduled__{n}",
                    "recorded_at": T0 + timedelta(hours=n),
                    "stats": stats,
                }
                for n in range(runs)
            ],
        )
        first_customer = links + 1
        conn.execute(
            t.links.insert(),
            [
                {
                    "tenant": TENANT,
                    "entity": "customers",
                    "zoho_id": f"c{n}",
                    "cscart_id": f"u{n}",
                    "flags": ",no_email," if n % 10 == 0 else "",
                    "run_id": "r",
                    "created_at": T0,
                    "last_synced_at": T0,
                    "origin": Z2C,
                }
                for n in range(customers)
            ],
        )
        del first_customer
    store.save_run_counts(TENANT, "products", "scheduled__last", COUNTS)


def median_ms(action: Callable[[], object], repeat: int) -> float:
    action()  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--links", type=int, default=272_028)
    parser.add_argument("--quarantine", type=int, default=272_028)
    parser.add_argument("--runs", type=int, default=2_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--unlinked", type=int, default=272_028)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a throwaway schema is used and dropped)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="zcs-console-bench-"))
    schema = None
    if args.postgres:
        schema = f"zcs_bench_{uuid.uuid4().hex[:10]}"
        store = StateStore.from_url(args.postgres, schema=schema)
    else:
        store = StateStore.from_url(f"sqlite:///{work / 'state.db'}")
    try:
        started = time.perf_counter()
        fill(store, args.links, args.quarantine, args.runs, args.customers, args.unlinked)
        if store.engine.dialect.name == "postgresql":
            with store.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        f'ANALYZE "{schema}".zcs_links, "{schema}".zcs_quarantine, "{schema}".zcs_run_stats, '
                        f'"{schema}".zcs_unlinked'
                    )
                )
        print(
            f"backend {store.engine.dialect.name}: filled {args.links:,} product links, "
            f"{args.quarantine:,} open quarantine entries, {args.unlinked:,} Zoho items not in CS-Cart (half linked "
            f"since), {args.runs:,} runs, {args.customers:,} customers "
            f"in {time.perf_counter() - started:.1f} s"
        )

        tenants = write_tenants(work)
        settings = ConsoleSettings(
            tenants_dir=tenants,
            store_factory=lambda: store,
            access=SimpleUsers(),
            trigger_factory=lambda request: None,  # type: ignore[arg-type,return-value]
            token_key_for=lambda conn_id: f"zoho:{conn_id}",
        )
        from fastapi.testclient import TestClient

        client = TestClient(create_app(settings))
        headers = {"Authorization": "Bearer operator"}
        last = store.quarantine_page(
            TENANT, "products", direction=Z2C, after=(Z2C, f"9{args.quarantine - 200:010d}"), limit=500
        )
        deep = (Z2C, last[-51].source_id) if len(last) > 51 else None
        oldest = store.quarantine_recent_page(TENANT, "products", before=None, limit=1)
        recent_deep = None
        if oldest:
            # A page near the end of the newest-first order: its key is an old entry's.
            old_n = 60
            recent_deep = {
                "qsort": "last_seen",
                "qls": (T0 + timedelta(seconds=old_n)).isoformat(),
                "qad": Z2C if old_n % 2 else "cscart_to_zoho",
                "qaid": f"9{old_n:010d}",
            }
        unlinked_last = store.unlinked_page(TENANT, "products", after="57257670" + "9" * 10, limit=1)
        del unlinked_last
        scopes = {s.entity: s for s in load_scopes(tenants)}
        products: Scope = scopes["products"]

        def page(path: str, **params: str) -> None:
            response = client.get(path, params=params, headers=headers)
            assert response.status_code == 200, response.text[:500]

        rows = [
            ("products page (HTTP + render), first page", lambda: page(f"/t/{TENANT}/products")),
            (
                "products page, last quarantine page (by key)",
                lambda: page(f"/t/{TENANT}/products", qdir=Z2C, qad=deep[0], qaid=deep[1]) if deep else None,
            ),
            ("products page, oldest runs (offset 1,980)", lambda: page(f"/t/{TENANT}/products", roff="1980")),
            (
                "products page, quarantine newest last seen first",
                lambda: page(f"/t/{TENANT}/products", qsort="last_seen"),
            ),
            (
                "products page, quarantine by last seen, deep page",
                lambda: page(f"/t/{TENANT}/products", **recent_deep) if recent_deep else None,
            ),
            (
                "products page, last Not in CS-Cart page (by key)",
                lambda: page(f"/t/{TENANT}/products", uafter=f"46{max(0, args.unlinked - 120):014d}"),
            ),
            ("customers page with no-e-mail list", lambda: page(f"/t/{TENANT}/customers")),
            ("index (every tenant's tiles)", lambda: page("/")),
            ("products queries only (no HTTP, no render)", lambda: entity_page(store, products, page_size=50)),
            ("  quarantine page (50 rows)", lambda: store.quarantine_page(TENANT, "products", limit=51)),
            ("  quarantine counts (GROUP BY)", lambda: store.quarantine_counts(TENANT, "products")),
            (
                "  quarantine newest last seen (50 rows)",
                lambda: store.quarantine_recent_page(TENANT, "products", limit=51),
            ),
            ("  Not in CS-Cart page (50 rows)", lambda: store.unlinked_page(TENANT, "products", limit=51)),
            ("  Not in CS-Cart count", lambda: store.count_unlinked(TENANT, "products")),
            (
                "  run history page + count",
                lambda: (store.run_totals_page(TENANT, "products"), store.count_runs(TENANT, "products")),
            ),
            ("  no-e-mail count (customers)", lambda: store.count_flagged_links(TENANT, "customers", "no_email")),
        ]
        for label, action in rows:
            print(f"{label:<48} {median_ms(action, args.repeat):8.1f} ms")
    finally:
        store.close()
        if schema and args.postgres:
            engine = sa.create_engine(args.postgres)
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()


if __name__ == "__main__":
    main()
