"""Operator commands for the connections (run where Airflow's connections are reachable).

    python -m zoho_cscart_sync.cli token-status --tenant acme_store
    python -m zoho_cscart_sync.cli test --tenant northwind_vendor
    python -m zoho_cscart_sync.cli revoke --tenant acme_store --yes          # disconnect
    python -m zoho_cscart_sync.cli reconnect --tenant acme_store --code 1000.xxx --output conn.json
    python -m zoho_cscart_sync.cli pools --tenants-dir include/tenants > pools.json   # for `airflow pools import`
    python -m zoho_cscart_sync.cli pools --tenants-dir include/tenants --commands     # `airflow pools set` lines
    python -m zoho_cscart_sync.cli pools --tenants-dir include/tenants --apply        # create/update them now
    python -m zoho_cscart_sync.cli counts --tenant acme_store --entity products [--history 24] [--json]
    python -m zoho_cscart_sync.cli status --tenant acme_store [--entity products] [--json]
    python -m zoho_cscart_sync.cli quarantine --tenant acme_store --entity products [--kind content] [--after CURSOR]
    python -m zoho_cscart_sync.cli conflicts --tenant acme_store --entity customers [--limit 50] [--after CURSOR]
    python -m zoho_cscart_sync.cli retry --tenant acme_store --entity products [--direction D] [--ids 1 2] [--print]
    python -m zoho_cscart_sync.cli unlinked --tenant acme_store --entity products [--limit 50] [--after ZOHO_ID]
    python -m zoho_cscart_sync.cli import --tenant acme_store --entity products (--ids 1 2 | --listed) [--print]
    python -m zoho_cscart_sync.cli reset --tenant acme_store --entity products --yes

The last seven are the operator console's reads and actions (README "Operator CLI"); status, quarantine, conflicts
and unlinked read the state store only, retry and import create runs through Airflow's REST API (or print the
`airflow dags trigger` lines).

Nothing here prints a secret: token-status shows expiry, API domain and mint count only; reconnect writes
the new refresh token into a 0600 file for ``airflow connections import --overwrite`` instead of printing it.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_TENANTS_DIR = Path(
    os.environ.get("ZCS_TENANTS_DIR") or Path(__file__).resolve().parents[2] / "include" / "tenants"
)
"""``$ZCS_TENANTS_DIR`` (as for the DAG file), else ``<repo>/include/tenants`` of a checkout."""


@dataclass(frozen=True)
class Target:
    """Which tenant and connections a command acts on."""

    tenant: str
    zoho_conn_id: str | None
    cscart_conn_id: str | None
    company_id: int | None


def _target(args: argparse.Namespace) -> Target:
    if args.tenant and not (args.conn_id or args.cscart_conn_id):
        from zoho_cscart_sync.tenants import load_tenant

        config = load_tenant(Path(args.tenants_dir), args.tenant)
        return Target(config.tenant_id, config.zoho_conn_id, config.cscart_conn_id, config.company_id)
    if not (args.conn_id or args.cscart_conn_id):
        raise SystemExit("give --tenant, or --conn-id (Zoho) and/or --cscart-conn-id")
    tenant = args.tenant or args.conn_id or args.cscart_conn_id
    return Target(tenant, args.conn_id, args.cscart_conn_id, args.company_id)


def _zoho_hook(target: Target) -> Any:
    from zoho_cscart_sync.hooks.zoho import ZohoHook

    if not target.zoho_conn_id:
        raise SystemExit("this command needs a Zoho connection (--conn-id or --tenant)")
    return ZohoHook(target.zoho_conn_id, tenant=target.tenant)


def _echo(text: str, *, error: bool = False) -> None:
    # The CLI's output is its interface, so it writes to stdout/stderr rather than a logger.
    (sys.stderr if error else sys.stdout).write(text + "\n")


def _print(data: Any) -> None:
    _echo(json.dumps(data, indent=2, sort_keys=True))


def cmd_token_status(args: argparse.Namespace) -> int:
    """Show when the shared access token expires (no secret is printed)."""
    hook = _zoho_hook(_target(args))
    _print({"tenant": hook.tenant, "conn_id": hook.conn_id, **hook.token_status().as_dict()})
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    """Run test_connection for the tenant's Zoho and/or CS-Cart connection."""
    from zoho_cscart_sync.hooks.cscart import CsCartHook

    target = _target(args)
    results = {}
    if target.zoho_conn_id:
        results["zoho"] = _zoho_hook(target).test_connection()
    if target.cscart_conn_id:
        hook = CsCartHook(target.cscart_conn_id, tenant=target.tenant, company_id=target.company_id)
        results["cscart"] = hook.test_connection()
    _print({system: {"ok": ok, "message": message} for system, (ok, message) in results.items()})
    return 0 if all(ok for ok, _ in results.values()) else 1


def cmd_revoke(args: argparse.Namespace) -> int:
    """Disconnect: revoke the refresh token at Zoho and drop the cached access token."""
    hook = _zoho_hook(_target(args))
    if not args.yes:
        _echo(f"This revokes the Zoho refresh token of connection {hook.conn_id!r}; re-run with --yes.")
        return 2
    hook.revoke()
    _echo(f"Revoked. Tenant {hook.tenant!r} is disconnected until `reconnect` stores a new refresh token.")
    return 0


def cmd_reconnect(args: argparse.Namespace) -> int:
    """Exchange a grant code for a refresh token; write an importable connection file (mode 0600)."""
    hook = _zoho_hook(_target(args))
    refresh_token = hook.reconnect(args.code, redirect_uri=args.redirect_uri)
    from zoho_cscart_sync.hooks.config import lookup_connection

    conn = lookup_connection(hook.conn_id)
    extras = dict(conn.extra_dejson or {})
    extras["refresh_token"] = refresh_token
    document = {
        hook.conn_id: {
            "conn_type": conn.conn_type or "zoho",
            "login": conn.login,
            "password": conn.password,
            "extra": json.dumps(extras),
        }
    }
    output = Path(args.output)
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
    _echo(
        f"New refresh token written to {output} (mode 0600). Apply it with:\n"
        f"  airflow connections import --overwrite {output} && rm {output}\n"
        "or copy it into your secrets backend, then run `test`."
    )
    return 0


def pools_document(tenants_dir: Path, *, zoho_slots: int = 1, cscart_slots: int = 1) -> dict[str, dict[str, Any]]:
    """The pools the valid tenant files of ``tenants_dir`` need, as `airflow pools import` reads them.

    An invalid tenant file is skipped with a warning on stderr (its DAG is a ``config_error`` DAG that uses no pool).
    """
    from zoho_cscart_sync.http.ratelimit import pools_for_tenants
    from zoho_cscart_sync.tenants import iter_tenants

    tenants = []
    for result in iter_tenants(tenants_dir):
        if result.config is None:
            _echo(f"warning: skipped invalid tenant file {result.path}: {result.error}", error=True)
        else:
            tenants.append(result.config)
    pools = pools_for_tenants(tenants, slots={"zoho": zoho_slots, "cscart": cscart_slots})
    return {pool["name"]: {"slots": pool["slots"], "description": pool["description"]} for pool in pools}


def airflow_executable() -> str:
    """The `airflow` next to this Python (the same virtualenv or image), else the one on PATH."""
    sibling = Path(sys.executable).with_name("airflow")
    return str(sibling) if sibling.is_file() else (shutil.which("airflow") or "airflow")


def cmd_pools(args: argparse.Namespace) -> int:
    """Print the pools JSON for `airflow pools import` (one pool per tenant x system), or the commands, or apply it."""
    document = pools_document(Path(args.tenants_dir), zoho_slots=args.zoho_slots, cscart_slots=args.cscart_slots)
    if not document:
        _echo(f"no valid tenant file in {args.tenants_dir}: no pool needed", error=True)
        return 1
    airflow = args.airflow_bin or airflow_executable()
    if args.commands:
        for name, pool in document.items():
            _echo(shlex.join([airflow, "pools", "set", name, str(pool["slots"]), pool["description"]]))
        return 0
    if not args.apply:
        _print(document)
        return 0
    # `airflow pools import` creates missing pools and sets the slots and description of existing ones.
    with tempfile.TemporaryDirectory(prefix="zcs-pools-") as folder:
        pools_file = Path(folder) / "pools.json"
        pools_file.write_text(json.dumps(document, indent=2), encoding="utf-8")
        result = subprocess.run([airflow, "pools", "import", str(pools_file)], check=False)  # noqa: S603
    if result.returncode != 0:
        _echo(f"error: `{airflow} pools import` exited with {result.returncode}", error=True)
        return result.returncode
    _echo(f"{len(document)} pools created or updated: {', '.join(document)}")
    return 0


COUNT_LABELS = {
    "cscart_total": "CS-Cart total",
    "synced": "synced to Zoho",
    "not_synced": "not synced",
    "zoho_total": "Zoho total",
    "not_in_cscart": "not in CS-Cart",
    "already_imported": "already imported",
}
"""The dashboard tiles as the seeds name them (definitions: README "Dashboard counts")."""


@contextmanager
def _state_store(args: argparse.Namespace) -> Iterator[Any]:
    """The state store of ``--state-url``, else Connection ``zoho_cscart_state``, else the SQLite default; where it
    is goes to stderr (password masked), and the store's info logs are kept off stdout (the commands' output)."""
    import logging

    from zoho_cscart_sync.state import StateStore
    from zoho_cscart_sync.state.store import resolve_default_url

    # Airflow's logging writes to stdout, which is this command's output (--json): say where the store is on stderr.
    state_log = logging.getLogger("zoho_cscart_sync.state")
    level = state_log.level
    state_log.setLevel(logging.WARNING)
    try:
        if args.state_url:
            store = StateStore.from_url(args.state_url)
        else:
            url, schema = resolve_default_url()
            store = StateStore.from_url(url, schema=schema)
        _echo(f"state store: {store.describe()}", error=True)
        with store:
            yield store
    finally:
        state_log.setLevel(level)


def cmd_counts(args: argparse.Namespace) -> int:
    """Print the dashboard counts the latest run(s) stored; reads the state store only (no API call)."""
    with _state_store(args) as store:
        runs = store.list_run_counts(args.tenant, args.entity, limit=args.history)
    if not runs:
        _echo(
            f"no counts stored yet for tenant {args.tenant}, {args.entity}: the report task of every sync run "
            "stores them (dry runs excepted); make a run first",
            error=True,
        )
        return 1
    if args.json:
        _print(
            [{"run_id": run.run_id, "recorded_at": run.recorded_at.isoformat(), **_count_values(run)} for run in runs]
        )
        return 0
    for index, run in enumerate(runs):
        if index:
            _echo("")
        _echo(f"tenant {run.tenant}, {run.entity}: run {run.run_id}, stored {run.recorded_at.isoformat()}")
        values = _count_values(run)
        for name, label in COUNT_LABELS.items():
            value = values[name]
            line = f"  {label:<17} {value:>10,}" if value is not None else f"  {label:<17} {'unknown':>10}"
            if name == "zoho_total":
                line += "  " + _zoho_basis(run.run_id, values)
            _echo(line)
    return 0


def _count_values(run: Any) -> dict[str, Any]:
    counts = run.counts
    values: dict[str, Any] = {name: getattr(counts, name) for name in COUNT_LABELS}
    values["zoho_counted_run_id"] = counts.zoho_counted_run_id
    values["zoho_counted_at"] = counts.zoho_counted_at.isoformat() if counts.zoho_counted_at else None
    return values


def _zoho_basis(run_id: str, values: dict[str, Any]) -> str:
    """Which full read of Zoho the Zoho total rests on (Zoho lists return no totals: README)."""
    if values["zoho_total"] is None:
        return "(Zoho never read in full: run once with full_refresh)"
    if values["zoho_counted_run_id"] == run_id:
        return "(counted in this run)"
    return f"(as of run {values['zoho_counted_run_id']}, {values['zoho_counted_at']}, plus this sync's creates since)"


# ----------------------------------------------------------------- the console's operations (README "Operator CLI")

STATUS_RUNS = 20
"""Runs ``status`` looks back through for each direction's last run (a run may have synced one direction only)."""
QUARANTINE_PAGE_MAX = 500
"""The largest ``quarantine --limit`` (the console's largest page too)."""
API_URL_ENV = "ZCS_AIRFLOW_API_URL"
API_TOKEN_ENV = "ZCS_AIRFLOW_API_TOKEN"  # noqa: S105 - the variable's name, not a secret
API_USER_ENV = "ZCS_AIRFLOW_API_USER"
API_PASSWORD_ENV = "ZCS_AIRFLOW_API_PASSWORD"  # noqa: S105 - the variable's name, not a secret
EXIT_NEEDS_YES = 2
EXIT_RUN_HOLDS_SCOPE = 3


class CliRefused(Exception):
    """A command refused or failed with an operator-facing message (always naming the tenant and entity)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _where(tenant: str, entity: str | None = None) -> str:
    return f"tenant {tenant}, {entity}" if entity else f"tenant {tenant}"


def _tenant_scopes(args: argparse.Namespace) -> list[Any]:
    """The tenant's (tenant, entity) scopes, as the console reads them from the tenant files."""
    from zoho_cscart_sync.console.views import load_scopes
    from zoho_cscart_sync.tenants import TenantConfigError, load_tenant

    tenants_dir = Path(args.tenants_dir)
    try:
        load_tenant(tenants_dir, args.tenant)  # a missing or invalid file is named here, not skipped
    except (LookupError, TenantConfigError) as exc:
        raise CliRefused(f"{_where(args.tenant, getattr(args, 'entity', None))}: {exc}") from None
    scopes = [scope for scope in load_scopes(tenants_dir) if scope.tenant == args.tenant]
    if not scopes:
        raise CliRefused(f"{_where(args.tenant)}: no enabled entity in its tenant file ({tenants_dir})")
    return scopes


def _scope(args: argparse.Namespace) -> Any:
    """The (tenant, entity) scope of ``--tenant`` / ``--entity``, with ``--direction`` checked against it."""
    from zoho_cscart_sync.console.operations import OperationError, find_scope, require_direction

    try:
        scope = find_scope(_tenant_scopes(args), args.tenant, args.entity)
        if getattr(args, "direction", None):
            require_direction(scope, args.direction)
    except OperationError as exc:
        raise CliRefused(f"{_where(args.tenant, args.entity)}: {exc.detail}") from None
    return scope


def _watermark_item(mark: Any) -> dict[str, str]:
    return {"value": mark.value.isoformat(), "run_id": mark.run_id, "updated_at": mark.updated_at.isoformat()}


def status_document(store: Any, scopes: Sequence[Any]) -> dict[str, Any]:
    """Per entity and direction what the console's entity page shows, from the state store alone."""
    from zoho_cscart_sync.console.operations import live_leases
    from zoho_cscart_sync.console.views import tiles_of, zoho_basis
    from zoho_cscart_sync.state.console_reads import direction_totals

    entities = []
    for scope in scopes:
        tiles, latest = tiles_of(store, scope)
        counts = None
        if latest is not None:
            counts = {
                "run_id": latest.run_id,
                "recorded_at": latest.recorded_at.isoformat(),
                "zoho_basis": zoho_basis(latest),
                **{tile.key: tile.value for tile in tiles},
            }
        quarantined = store.quarantine_counts(scope.tenant, scope.entity)
        marks = {mark.direction: mark for mark in store.list_watermarks(scope.tenant, scope.entity)}
        leases = {lease.direction: lease for lease in live_leases(store, scope)}
        last_runs: dict[str, dict[str, Any]] = {}
        for run in store.list_run_stats(scope.tenant, scope.entity, limit=STATUS_RUNS):
            for direction, totals in direction_totals(run["stats"]).items():
                last_runs.setdefault(
                    direction,
                    {"run_id": run["run_id"], "recorded_at": run["recorded_at"].isoformat(), **vars(totals)},
                )
        seen = set(marks) | {direction for direction, _ in quarantined} | set(last_runs)
        directions = list(scope.directions) + sorted(seen - set(scope.directions))
        per_direction = {}
        for direction in directions:
            kinds = {kind: n for (d, kind), n in sorted(quarantined.items()) if d == direction}
            mark = marks.get(direction)
            lease = leases.get(direction)
            per_direction[direction] = {
                "enabled": direction in scope.directions,
                "watermark": None if mark is None else _watermark_item(mark),
                "quarantine": kinds,
                "quarantine_total": sum(kinds.values()),
                "last_run": last_runs.get(direction),
                "lease": None
                if lease is None
                else {
                    "run_id": lease.run_id,
                    "acquired_at": lease.acquired_at.isoformat(),
                    "expires_at": lease.expires_at.isoformat(),
                },
            }
        entities.append(
            {
                "entity": scope.entity,
                "dag_id": scope.dag_id,
                "counts": counts,
                "quarantine_total": sum(quarantined.values()),
                "directions": per_direction,
            }
        )
    return {"tenant": scopes[0].tenant if scopes else None, "entities": entities}


def cmd_status(args: argparse.Namespace) -> int:
    """Per entity and direction: watermark, latest counts, quarantine by kind, last run, lease; state store only."""
    from zoho_cscart_sync.console.views import TILES

    scopes = _tenant_scopes(args)
    if args.entity:
        scopes = [_scope(args)]
    with _state_store(args) as store:
        document = status_document(store, scopes)
    if args.json:
        _print(document)
        return 0
    labels = dict(TILES)
    for index, entity in enumerate(document["entities"]):
        if index:
            _echo("")
        _echo(f"{_where(document['tenant'], entity['entity'])} (DAG {entity['dag_id']})")
        counts = entity["counts"]
        if counts is None:
            _echo("  counts: none stored yet (the report task of a sync run stores them)")
        else:
            _echo(f"  counts of run {counts['run_id']}, stored {counts['recorded_at']}:")
            for key, label in labels.items():
                value = counts[key]
                shown = f"{value:>10,}" if value is not None else f"{'unknown':>10}"
                extra = f"  ({counts['zoho_basis']})" if key == "zoho_total" else ""
                _echo(f"    {label:<17} {shown}{extra}")
        for direction, item in entity["directions"].items():
            _echo(f"  {direction}{'' if item['enabled'] else ' (not enabled in the tenant file)'}:")
            mark = item["watermark"]
            _echo(
                f"    watermark   {mark['value']} (run {mark['run_id']})"
                if mark
                else "    watermark   none (the next run reads from start_date)"
            )
            kinds = ", ".join(f"{kind} {n:,}" for kind, n in item["quarantine"].items())
            _echo(f"    quarantine  {item['quarantine_total']:,} open" + (f": {kinds}" if kinds else ""))
            run = item["last_run"]
            if run is None:
                _echo("    last run    none stored")
            else:
                _echo(
                    f"    last run    {run['run_id']} {'ok' if run['succeeded'] else 'FAILED'}: created "
                    f"{run['created']:,}, updated {run['updated']:,}, failed {run['failed']:,}, "
                    f"API calls {run['api_calls']:,}"
                )
            lease = item["lease"]
            _echo(
                f"    running     run {lease['run_id']} holds the lease until {lease['expires_at']}"
                if lease
                else "    running     no run holds it"
            )
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    """The open quarantine entries, a page at a time by key (as the console pages them)."""
    from zoho_cscart_sync.console.operations import (
        OperationError,
        cursor_of,
        parse_cursor,
        parse_recent_cursor,
        quarantine_item,
        recent_cursor_of,
    )

    scope = _scope(args)
    recent = args.sort == "last_seen"
    try:
        if recent:
            before = parse_recent_cursor(args.after) if args.after else None
        else:
            after = parse_cursor(args.after) if args.after else None
    except OperationError as exc:
        raise CliRefused(f"{_where(args.tenant, args.entity)}: {exc.detail}") from None
    with _state_store(args) as store:
        if recent:
            rows = store.quarantine_recent_page(
                scope.tenant,
                scope.entity,
                direction=args.direction,
                before=before,
                limit=args.limit + 1,
                kind=args.kind,
            )
        else:
            rows = store.quarantine_page(
                scope.tenant, scope.entity, direction=args.direction, after=after, limit=args.limit + 1, kind=args.kind
            )
        totals = store.quarantine_counts(scope.tenant, scope.entity)
    more = len(rows) > args.limit
    rows = rows[: args.limit]
    next_cursor = (recent_cursor_of(rows[-1]) if recent else cursor_of(rows[-1])) if more else None
    total = sum(
        n
        for (direction, kind), n in totals.items()
        if (args.direction is None or direction == args.direction) and (args.kind is None or kind == args.kind)
    )
    if args.json:
        _print(
            {
                "tenant": scope.tenant,
                "entity": scope.entity,
                "direction": args.direction,
                "kind": args.kind,
                "sort": args.sort,
                "total": total,
                "items": [quarantine_item(row) for row in rows],
                "next": next_cursor,
            }
        )
        return 0
    which = ", ".join(part for part in (args.direction, args.kind) if part)
    _echo(f"{_where(scope.tenant, scope.entity)}: {total:,} open quarantine entries" + (f" ({which})" if which else ""))
    for row in rows:
        item = quarantine_item(row)
        _echo(
            f"  {item['direction']}  {item['source_id']}  {item['kind']}  field {item['field'] or '-'}  "
            f"attempts {item['attempts']}  first {item['first_seen']}  last {item['last_seen']}"
        )
        _echo(f"      {item['reason']}")
    if next_cursor:
        _echo(f"next page: --after {shlex.quote(next_cursor)}")
    return 0


def cmd_conflicts(args: argparse.Namespace) -> int:
    """The lost conflicts (the change that lost to the master, latest per record), a page at a time by key."""
    from zoho_cscart_sync.console.operations import OperationError, conflict_cursor, conflict_item, parse_cursor

    scope = _scope(args)
    try:
        after = parse_cursor(args.after) if args.after else None
    except OperationError as exc:
        raise CliRefused(f"{_where(args.tenant, args.entity)}: {exc.detail}") from None
    with _state_store(args) as store:
        rows = store.lost_conflicts_page(scope.tenant, scope.entity, after=after, limit=args.limit + 1)
        total = store.count_lost_conflicts(scope.tenant, scope.entity)
    more = len(rows) > args.limit
    rows = rows[: args.limit]
    next_cursor = conflict_cursor(rows[-1]) if more else None
    if args.json:
        _print(
            {
                "tenant": scope.tenant,
                "entity": scope.entity,
                "total": total,
                "items": [conflict_item(row) for row in rows],
                "next": next_cursor,
            }
        )
        return 0
    _echo(f"{_where(scope.tenant, scope.entity)}: {total:,} records with a lost conflict (latest per record)")
    for row in rows:
        item = conflict_item(row)
        _echo(
            f"  lost {item['direction']} {item['source_id']}  master {item['master']} {item['target_id']}  "
            f"times {item['occurrences']}  decided {item['decided_at']}  run {item['run_id']}"
        )
    if next_cursor:
        _echo(f"next page: --after {shlex.quote(next_cursor)}")
    return 0


def _retry_picks(args: argparse.Namespace, scope: Any, store: Any) -> dict[str, list[str]]:
    """{direction: record ids} a retry asks runs for: the given ids (one side), else the open quarantine."""
    from zoho_cscart_sync.console.operations import OperationError, check_record_ids, retry_ids

    where = _where(scope.tenant, scope.entity)
    try:
        if args.ids:
            ids = [value for text in args.ids for value in text.replace(",", " ").split()]
            if args.direction:
                direction = args.direction
            elif len(scope.directions) == 1:
                direction = scope.directions[0]
            else:
                raise CliRefused(
                    f"{where} is two-way ({', '.join(scope.directions)}): record ids are of one side, "
                    "say which with --direction"
                )
            ids = check_record_ids(scope, ids)
            quarantined = set(retry_ids(store, scope, direction, ids))
            others = [value for value in ids if value not in quarantined]
            if others:
                note = f"{len(others)} of the ids are not quarantined in {direction}; sent anyway"
                _echo(f"note: {where}: {note}", error=True)
            return {direction: ids} if ids else {}
        directions = [args.direction] if args.direction else list(scope.directions)
        picked = {direction: retry_ids(store, scope, direction) for direction in directions}
    except OperationError as exc:
        raise CliRefused(f"{where}: {exc.detail}") from None
    return {direction: ids for direction, ids in picked.items() if ids}


def _api_url(args: argparse.Namespace, where: str) -> str:
    from urllib.parse import urlsplit

    url = args.api_url or os.environ.get(API_URL_ENV)
    if not url:
        from airflow.configuration import conf

        url = conf.get("api", "base_url", fallback="") or ""
    if not url:
        raise CliRefused(
            f"{where}: no Airflow REST API address: give --api-url or ${API_URL_ENV} (or [api] base_url), "
            "or --print to get the `airflow dags trigger` commands instead"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliRefused(f"{where}: the Airflow API address must be an http(s) URL")
    if parts.username or parts.password:
        raise CliRefused(
            f"{where}: the Airflow API address carries credentials; put them in ${API_USER_ENV} / "
            f"${API_PASSWORD_ENV} or ${API_TOKEN_ENV} instead"
        )
    return url


def _api_token(args: argparse.Namespace, api_url: str, where: str) -> str:
    """A bearer token: ``$ZCS_AIRFLOW_API_TOKEN``, ``--token-file``, else one for user and password from the
    api-server (``POST /auth/token``); the password only from ``$ZCS_AIRFLOW_API_PASSWORD`` or a prompt."""
    from zoho_cscart_sync.console.airflow_api import fetch_token

    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CliRefused(f"{where}: cannot read --token-file: {exc.strerror}") from None
        if not token:
            raise CliRefused(f"{where}: --token-file {args.token_file} is empty")
        return token
    token = os.environ.get(API_TOKEN_ENV, "").strip()
    if token:
        return token
    user = args.api_user or os.environ.get(API_USER_ENV)
    if not user:
        raise CliRefused(
            f"{where}: no Airflow credentials: set ${API_TOKEN_ENV} (or --token-file), or ${API_USER_ENV} "
            f"(--api-user) with ${API_PASSWORD_ENV}"
        )
    password = os.environ.get(API_PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            raise CliRefused(f"{where}: no password for Airflow user {user!r}: set ${API_PASSWORD_ENV}")
        import getpass

        password = getpass.getpass(f"Airflow password for {user}: ")
    return fetch_token(api_url, user, password, timeout=args.timeout)


def cmd_unlinked(args: argparse.Namespace) -> int:
    """The Zoho records not in CS-Cart (what `import` can bring in), a page at a time by Zoho id."""
    from zoho_cscart_sync.console.operations import IMPORT_DIRECTION, unlinked_item

    scope = _scope(args)
    where = _where(scope.tenant, scope.entity)
    if IMPORT_DIRECTION not in scope.directions:
        raise CliRefused(f"{where} does not sync {IMPORT_DIRECTION}: no Zoho record is read, none is listed")
    with _state_store(args) as store:
        rows = store.unlinked_page(scope.tenant, scope.entity, after=args.after, limit=args.limit + 1)
        total = store.count_unlinked(scope.tenant, scope.entity)
    more = len(rows) > args.limit
    rows = rows[: args.limit]
    next_cursor = rows[-1].zoho_id if more else None
    if args.json:
        _print(
            {
                "tenant": scope.tenant,
                "entity": scope.entity,
                "total": total,
                "items": [unlinked_item(row) for row in rows],
                "next": next_cursor,
            }
        )
        return 0
    _echo(f"{where}: {total:,} Zoho records not in CS-Cart")
    for row in rows:
        item = unlinked_item(row)
        _echo(f"  {item['zoho_id']}  {item['stream']}  {item['label'] or '-'}  first {item['first_seen']}  "
              f"last {item['last_seen']}")  # fmt: skip
        _echo(f"      {item['reason'] or '-'}")
    if next_cursor:
        _echo(f"next page: --after {shlex.quote(next_cursor)}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Create a Zoho -> CS-Cart run for Zoho records not in CS-Cart (given, or the first listed), as the console's
    "Import selected"."""
    from zoho_cscart_sync.console.operations import (
        IMPORT_DIRECTION,
        MAX_RECORD_IDS,
        OperationError,
        check_record_ids,
        import_ids,
        run_conf,
    )

    scope = _scope(args)
    where = _where(scope.tenant, scope.entity)
    with _state_store(args) as store:
        try:
            if args.ids:
                ids = check_record_ids(scope, [value for text in args.ids for value in text.replace(",", " ").split()])
                listed = set(import_ids(store, scope, ids))
                others = [value for value in ids if value not in listed]
                if others:
                    _echo(f"note: {where}: {len(others)} of the ids are not listed as not in CS-Cart; sent anyway",
                          error=True)  # fmt: skip
            else:
                import_ids(store, scope, [])  # refuses a tenant that does not sync Zoho -> CS-Cart
                rows = store.unlinked_page(scope.tenant, scope.entity, limit=MAX_RECORD_IDS)
                ids = [row.zoho_id for row in rows]
        except OperationError as exc:
            raise CliRefused(f"{where}: {exc.detail}") from None
    if not ids:
        raise CliRefused(f"{where}: no Zoho record is listed as not in CS-Cart; nothing to import")
    return _create_runs(args, scope, [(IMPORT_DIRECTION, run_conf(scope, IMPORT_DIRECTION, ids))], "import")


def cmd_retry(args: argparse.Namespace) -> int:
    """Create a run per direction with the quarantined (or given) record ids, through Airflow's REST API."""
    from zoho_cscart_sync.console.operations import run_conf

    scope = _scope(args)
    where = _where(scope.tenant, scope.entity)
    with _state_store(args) as store:
        picked = _retry_picks(args, scope, store)
    if not picked:
        which = f" in {args.direction}" if args.direction else ""
        raise CliRefused(f"{where}: nothing is quarantined{which}; nothing to retry")
    confs = [(direction, run_conf(scope, direction, ids)) for direction, ids in sorted(picked.items())]
    return _create_runs(args, scope, confs, "retry")


def _create_runs(args: argparse.Namespace, scope: Any, confs: list[tuple[str, dict[str, Any]]], action: str) -> int:
    """One DAG run per conf through Airflow's REST API (or, with ``--print``, the `airflow dags trigger` lines)."""
    import httpx

    from zoho_cscart_sync.console.airflow_api import CLI_RUN_NOTE, RestRunTrigger, TriggerError

    where = _where(scope.tenant, scope.entity)
    if args.print:
        if args.json:
            _print([{"dag_id": scope.dag_id, "direction": d, "conf": conf} for d, conf in confs])
        else:
            airflow = args.airflow_bin or "airflow"
            for _, conf in confs:
                _echo(shlex.join([airflow, "dags", "trigger", scope.dag_id, "--conf", json.dumps(conf)]))
        return 0
    api_url = _api_url(args, where)
    runs = []
    try:
        token = _api_token(args, api_url, where)
        trigger = RestRunTrigger(api_url, timeout=args.timeout, note=CLI_RUN_NOTE)
        for direction, conf in confs:
            run_id = trigger.trigger(scope.dag_id, conf, token)
            runs.append({"dag_run_id": run_id, "direction": direction, "records": len(conf["record_ids"])})
            if not args.json:
                _echo(f"run {run_id} created for {len(conf['record_ids'])} record(s) of {where}, {direction}")
    except TriggerError as exc:
        raise CliRefused(f"{where}: Airflow refused the run: {exc}") from None
    except httpx.HTTPError as exc:
        raise CliRefused(f"{where}: cannot reach Airflow's REST API at {api_url}: {type(exc).__name__}") from None
    finally:
        if args.json and runs:
            _print({"runs": runs, "action": action})
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    """StateStore.reset_sync of the pair (hashes, watermarks, backlog, open quarantine; ID map kept), guarded."""
    from zoho_cscart_sync.console.operations import RESET_DOES, ResetRefused, live_leases, reset_scope

    scope = _scope(args)
    where = _where(scope.tenant, scope.entity)
    if args.direction and len(scope.directions) > 1:
        raise CliRefused(
            f"{where}: reset works on both directions together ({', '.join(scope.directions)}): StateStore.reset_sync "
            "clears the pair's hashes and watermarks in one transaction; run it without --direction"
        )
    with _state_store(args) as store:
        if not args.yes:
            held = live_leases(store, scope)
            marks = store.list_watermarks(scope.tenant, scope.entity)
            quarantined = sum(store.quarantine_counts(scope.tenant, scope.entity).values())
            _echo(f"This resets synchronisation of {where} ({', '.join(scope.directions)}): {RESET_DOES}")
            _echo(f"  watermarks removed: {', '.join(f'{m.direction} {m.value.isoformat()}' for m in marks) or 'none'}")
            _echo(f"  open quarantine entries closed: {quarantined:,}")
            for lease in held:
                _echo(f"  refused now: run {lease.run_id} holds {lease.direction} until {lease.expires_at.isoformat()}")
            _echo("Re-run with --yes to do it.")
            return EXIT_NEEDS_YES
        try:
            message = reset_scope(store, scope)
        except ResetRefused as exc:
            raise CliRefused(f"{where}: {exc.detail}", EXIT_RUN_HOLDS_SCOPE) from None
    _echo(message)
    return 0


def _page_limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= QUARANTINE_PAGE_MAX:
        raise argparse.ArgumentTypeError(f"must be between 1 and {QUARANTINE_PAGE_MAX}, got {value}")
    return value


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _api_options(command: argparse.ArgumentParser) -> None:
    """The options of the commands that create runs through Airflow's REST API (retry, import)."""
    command.add_argument("--print", action="store_true", help="print `airflow dags trigger` commands, call nothing")
    command.add_argument("--airflow-bin", help="the airflow command --print writes (default: airflow)")
    command.add_argument(
        "--api-url", help=f"Airflow's REST API base URL (default: ${API_URL_ENV}, else [api] base_url)"
    )
    command.add_argument("--api-user", help=f"Airflow user (default: ${API_USER_ENV}); password: ${API_PASSWORD_ENV}")
    command.add_argument("--token-file", help=f"file holding an Airflow JWT (default: ${API_TOKEN_ENV})")
    command.add_argument("--timeout", type=float, default=30.0, help="seconds per REST call (default 30)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one sub-command per operation)."""
    parser = argparse.ArgumentParser(prog="python -m zoho_cscart_sync.cli", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text)
        command.set_defaults(handler=handler)
        command.add_argument("--tenant", help="tenant id (reads include/tenants/<tenant>.yaml)")
        command.add_argument("--tenants-dir", default=str(DEFAULT_TENANTS_DIR))
        command.add_argument("--conn-id", help="Zoho connection id (overrides the tenant file)")
        command.add_argument("--cscart-conn-id", help="CS-Cart connection id")
        command.add_argument("--company-id", type=int, help="vendor company_id (vendor tenants)")
        return command

    add("token-status", cmd_token_status, "show the cached Zoho token's expiry (no secrets)")
    add("test", cmd_test, "test the tenant's connections")
    add("revoke", cmd_revoke, "disconnect: revoke the Zoho refresh token").add_argument("--yes", action="store_true")
    reconnect = add("reconnect", cmd_reconnect, "exchange a Zoho grant code for a new refresh token")
    reconnect.add_argument("--code", required=True, help="grant code (Self Client or redirect flow)")
    reconnect.add_argument("--redirect-uri", help="redirect URI of the authorization request, if any")
    reconnect.add_argument("--output", required=True, help="file to write the updated connection to")
    pools = sub.add_parser("pools", help="pools JSON for `airflow pools import`")
    pools.set_defaults(handler=cmd_pools)
    pools.add_argument("--tenants-dir", default=str(DEFAULT_TENANTS_DIR))
    pools.add_argument("--zoho-slots", type=_at_least_one, default=1)
    pools.add_argument("--cscart-slots", type=_at_least_one, default=1)
    how = pools.add_mutually_exclusive_group()
    how.add_argument("--commands", action="store_true", help="print one `airflow pools set` command per pool")
    how.add_argument("--apply", action="store_true", help="create/update the pools now (`airflow pools import`)")
    pools.add_argument("--airflow-bin", help="the airflow command (default: the one next to this Python, else PATH)")
    counts = sub.add_parser("counts", help="dashboard counts of the latest run(s), from the state store only")
    counts.set_defaults(handler=cmd_counts)
    counts.add_argument("--tenant", required=True, help="tenant id")
    counts.add_argument("--entity", default="products", help="entity (default: products)")
    counts.add_argument("--history", type=_at_least_one, default=1, help="how many of the latest runs (default: 1)")
    counts.add_argument("--json", action="store_true", help="print JSON instead of a table")
    counts.add_argument("--state-url", help="state database URL (default: Connection zoho_cscart_state, else SQLite)")

    def operator(name: str, handler: Any, help_text: str, *, entity_required: bool = True) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text)
        command.set_defaults(handler=handler)
        command.add_argument("--tenant", required=True, help="tenant id (its file in --tenants-dir)")
        command.add_argument("--entity", required=entity_required, help="entity (customers, products, orders, ...)")
        command.add_argument("--tenants-dir", default=str(DEFAULT_TENANTS_DIR))
        command.add_argument(
            "--state-url", help="state database URL (default: Connection zoho_cscart_state, else SQLite)"
        )
        command.add_argument("--json", action="store_true", help="print JSON")
        return command

    operator("status", cmd_status, "watermarks, counts, quarantine, last run, lease (state store only)",
             entity_required=False)  # fmt: skip
    quarantine = operator("quarantine", cmd_quarantine, "open quarantine entries, a page at a time")
    quarantine.add_argument("--direction", help="zoho_to_cscart or cscart_to_zoho (default: both)")
    quarantine.add_argument("--kind", choices=("content", "transient", "waiting"), help="one kind only")
    quarantine.add_argument("--limit", type=_page_limit, default=50, help="entries per page (default 50, max 500)")
    quarantine.add_argument("--after", metavar="CURSOR", help="the cursor the previous page printed")
    quarantine.add_argument("--sort", choices=("key", "last_seen"), default="key",
                            help="key: by direction and id (default); last_seen: newest last seen first")  # fmt: skip
    conflicts = operator("conflicts", cmd_conflicts, "lost conflicts (the master won), a page at a time")
    conflicts.add_argument("--limit", type=_page_limit, default=50, help="entries per page (default 50, max 500)")
    conflicts.add_argument("--after", metavar="CURSOR", help="the cursor the previous page printed")
    retry = operator("retry", cmd_retry, "create runs for the quarantined (or given) record ids")
    retry.add_argument("--direction", help="the direction to retry (needed with --ids on a two-way entity)")
    retry.add_argument("--ids", nargs="+", metavar="ID", help="record ids of the direction's source (default: the "
                       "open quarantine, oldest key first, up to 1,000 per direction)")  # fmt: skip
    _api_options(retry)
    unlinked = operator(
        "unlinked", cmd_unlinked, "Zoho records not in CS-Cart (what import brings in), a page at a time"
    )
    unlinked.add_argument("--limit", type=_page_limit, default=50, help="entries per page (default 50, max 500)")
    unlinked.add_argument("--after", metavar="ZOHO_ID", help="the cursor the previous page printed")
    importing = operator("import", cmd_import, "create a Zoho -> CS-Cart run for Zoho records not in CS-Cart")
    which = importing.add_mutually_exclusive_group(required=True)
    which.add_argument("--ids", nargs="+", metavar="ID", help="Zoho record ids (space- or comma-separated)")
    which.add_argument("--listed", action="store_true", help="the first 1,000 listed by `unlinked`, by Zoho id")
    _api_options(importing)
    reset = operator("reset", cmd_reset, "reset synchronisation: hashes and watermarks cleared, ID map kept")
    reset.add_argument("--direction", help="only accepted for a one-way entity: reset covers both directions")
    reset.add_argument("--yes", action="store_true", help="do it (without: print what it would do, exit 2)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code. API errors are printed (they never contain secrets)."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    from zoho_cscart_sync.hooks.config import ConnectionConfigError
    from zoho_cscart_sync.http.errors import ApiError

    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except CliRefused as exc:
        _echo(f"error: {exc}", error=True)
        return exc.code
    except (ApiError, ConnectionConfigError, LookupError, AirflowNotFoundException) as exc:
        _echo(f"error: {exc}", error=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
