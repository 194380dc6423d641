"""Operator commands for the connections (run where Airflow's connections are reachable).

    python -m zoho_cscart_sync.cli token-status --tenant acme_store
    python -m zoho_cscart_sync.cli test --tenant northwind_vendor
    python -m zoho_cscart_sync.cli revoke --tenant acme_store --yes          # disconnect
    python -m zoho_cscart_sync.cli reconnect --tenant acme_store --code 1000.xxx --output conn.json
    python -m zoho_cscart_sync.cli pools --tenants-dir include/tenants > pools.json   # for `airflow pools import`
    python -m zoho_cscart_sync.cli pools --tenants-dir include/tenants --commands     # `airflow pools set` lines
    python -m zoho_cscart_sync.cli pools --tenants-dir include/tenants --apply        # create/update them now
    python -m zoho_cscart_sync.cli counts --tenant acme_store --entity products [--history 24] [--json]

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
from collections.abc import Sequence
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


def cmd_counts(args: argparse.Namespace) -> int:
    """Print the dashboard counts the latest run(s) stored; reads the state store only (no API call)."""
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
            runs = store.list_run_counts(args.tenant, args.entity, limit=args.history)
    finally:
        state_log.setLevel(level)
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


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code. API errors are printed (they never contain secrets)."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    from zoho_cscart_sync.hooks.config import ConnectionConfigError
    from zoho_cscart_sync.http.errors import ApiError

    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (ApiError, ConnectionConfigError, LookupError, AirflowNotFoundException) as exc:
        _echo(f"error: {exc}", error=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
