"""`make airflow`: a real local Airflow 3.3 on PostgreSQL, pointed at the sandbox, for clicking through the UI.

    python -m tools.local_airflow [--port 8080] [--postgres-url postgresql+psycopg2://postgres@127.0.0.1:5432/postgres]

Starts the sandbox (in this process, on free ports, from its seed), creates the metadata database
`zcs_airflow_local` and the sync-state database `zcs_state_local` afresh (each start begins from scratch, like
the sandbox), runs `airflow db migrate`, creates the sample tenants' pools with the documented command
(`python -m zoho_cscart_sync.cli pools --apply`) and their connections (`airflow connections import`, so they
show in Admin > Connections), then runs api-server, scheduler, dag-processor and triggerer (LocalExecutor)
until Ctrl-C. Logs: `.airflow_home/local/<component>.log`. The components are the e2e harness's
(`tests/e2e/airflow_cluster.py`), with the schedules on: an unpaused DAG runs its latest hour at once.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_HOME = REPO_ROOT / ".airflow_home" / "local"
DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
METADATA_DB = "zcs_airflow_local"
STATE_DB = "zcs_state_local"
LOGIN = ("admin", "admin")
STATE_CONN_ID = "zoho_cscart_state"
CLI_ENV = {
    "AIRFLOW_HOME",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CORE__DAGS_FOLDER",
    "AIRFLOW__CORE__LOAD_EXAMPLES",
    "AIRFLOW__CORE__TEST_CONNECTION",
    "ZCS_TENANTS_DIR",
    "PYTHONPATH",
}
"""What `airflow` commands in another shell need to reach this Airflow (written to <home>/env.sh)."""


def connections_document(conn_env: Mapping[str, str], state_url: str) -> dict[str, dict[str, Any]]:
    """`airflow connections import` JSON from `AIRFLOW_CONN_<ID>` JSON values, plus the state store's connection.

    Importing them (instead of exporting the variables) makes them visible and editable in the UI.
    """
    import sqlalchemy as sa

    document: dict[str, dict[str, Any]] = {}
    for key, value in conn_env.items():
        if not key.startswith("AIRFLOW_CONN_"):
            raise ValueError(f"{key} is not an AIRFLOW_CONN_* variable")
        fields = dict(json.loads(value))
        if isinstance(fields.get("extra"), Mapping):
            fields["extra"] = json.dumps(fields["extra"])
        document[key.removeprefix("AIRFLOW_CONN_").lower()] = fields
    url = sa.make_url(state_url)
    document[STATE_CONN_ID] = {
        "conn_type": "postgres",
        "host": url.host,
        "port": url.port or 5432,
        "login": url.username,
        "password": url.password,
        "schema": url.database,
    }
    return document


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def run(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.local_airflow", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8080, help="api-server (UI) port (default 8080)")
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="AIRFLOW_HOME (default .airflow_home/local)")
    parser.add_argument("--postgres-url", default=os.environ.get("ZCS_LOCAL_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    parser.add_argument("--tenants-dir", type=Path, default=REPO_ROOT / "include" / "tenants")
    args = parser.parse_args(argv)

    from tests.e2e.airflow_cluster import ALL_COMPONENTS, AirflowCluster, airflow_env, database, drop_database
    from zoho_cscart_sandbox.demo import sandbox_connections
    from zoho_cscart_sandbox.handle import start_in_process
    from zoho_cscart_sync.tenants import iter_tenants

    home: Path = args.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    tenants = [r.config.tenant_id for r in iter_tenants(args.tenants_dir) if r.config is not None]
    for name in (METADATA_DB, STATE_DB):
        drop_database(args.postgres_url, name)
    metadata_url = database(args.postgres_url, METADATA_DB)
    state_url = database(args.postgres_url, STATE_DB)

    # SIGTERM (e.g. `kill`) stops everything like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    sandbox = start_in_process()
    cluster: AirflowCluster | None = None
    try:
        env = airflow_env(home, REPO_ROOT / "dags", metadata_url, api_port=args.port, for_tests=False)
        passwords = home / "simple_auth_manager_passwords.json"
        passwords.write_text(json.dumps({LOGIN[0]: LOGIN[1]}))
        env.update(
            {
                "ZCS_TENANTS_DIR": str(args.tenants_dir.resolve()),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{LOGIN[0]}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",  # the Test button of the zoho / cscart forms
            }
        )
        cluster = AirflowCluster(home, env, metadata_url)
        _say(f"Sandbox: Zoho {sandbox.zoho_url}, CS-Cart {sandbox.cscart_url}")
        _say(f"Metadata DB {METADATA_DB}, sync state DB {STATE_DB} (fresh); AIRFLOW_HOME {home}")
        _say("airflow db migrate ...")
        cluster.cli("db", "migrate", timeout=600)
        pools = subprocess.run(  # noqa: S603 - this Python, fixed arguments
            [sys.executable, "-m", "zoho_cscart_sync.cli", "pools", "--tenants-dir", str(args.tenants_dir), "--apply"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if pools.returncode != 0:
            raise RuntimeError(f"creating the pools failed:\n{pools.stdout}\n{pools.stderr}")
        _say(pools.stdout.strip().splitlines()[-1])
        conn_file = home / "connections.json"
        conn_file.write_text(json.dumps(connections_document(sandbox_connections(sandbox, tenants), state_url)))
        try:
            cluster.cli("connections", "import", "--overwrite", str(conn_file))
        finally:
            conn_file.unlink()
        _say(f"connections: {', '.join(f'zoho_{t}, cscart_{t}' for t in tenants)}, {STATE_CONN_ID}")
        env_file = home / "env.sh"
        env_file.write_text(
            "# source me to run `airflow ...` and `python -m zoho_cscart_sync.cli ...` against `make airflow`\n"
            + "".join(f"export {key}={shlex.quote(env[key])}\n" for key in sorted(env) if key in CLI_ENV)
        )
        cluster.launch(ALL_COMPONENTS)
        cluster.wait_healthy()
        _say(
            "\nAirflow is up (api-server, scheduler, dag-processor, triggerer; LocalExecutor on PostgreSQL)\n"
            f"  UI     {cluster.api_url}\n"
            f"  login  {LOGIN[0]} / {LOGIN[1]}\n"
            f"  logs   {home}/<component>.log\n"
            f"  CLI    source {env_file}  (then airflow dags list, airflow dags trigger ...)\n"
            "DAGs appear within a minute, paused: unpause one to run its latest hour against the sandbox.\n"
            "Ctrl-C stops everything."
        )
        while True:
            time.sleep(2)
            cluster._check_alive()
    except KeyboardInterrupt:
        _say("\nstopping ...")
    finally:
        if cluster is not None:
            cluster.stop()
        if sandbox.servers is not None:
            sandbox.servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(run())
