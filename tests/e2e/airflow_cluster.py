"""A real, local Airflow (api-server + scheduler + dag-processor [+ triggerer], LocalExecutor) for end-to-end tests.

Scheduled runs and backfills only happen through the scheduler, so `dag.test()` (always a manual run)
cannot prove them. This starts the three components as subprocesses on free loopback ports in a throwaway
AIRFLOW_HOME, drives them with the `airflow` CLI, and reads run states from the metadata DB. The metadata
DB is a fresh PostgreSQL database (dropped afterwards): three components writing one SQLite file fail
with "database is locked" under the scheduler's load.

`tools/local_airflow.py` (`make airflow`) runs the same components for evaluation from `airflow_env`,
`AirflowCluster` and `database`.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_BIN = Path(sys.executable).with_name("airflow")
TERMINAL_STATES = {"success", "failed"}
TEST_COMPONENTS = ("api-server", "scheduler", "dag-processor")
ALL_COMPONENTS = (*TEST_COMPONENTS, "triggerer")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AirflowCluster:
    """Handle on a running local Airflow; see `start_airflow_cluster`."""

    def __init__(self, home: Path, env: dict[str, str], metadata_url: str) -> None:
        self.home = home
        self.env = env
        self.metadata_url = metadata_url
        self.processes: list[subprocess.Popen[bytes]] = []

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(
        self,
        tenants: Sequence[str],
        *,
        components: Sequence[str] = TEST_COMPONENTS,
        pool_slots: Mapping[str, int] | None = None,
    ) -> None:
        self.cli("db", "migrate")
        if tenants:
            # The DAGs run their remote-system stages in one pool per tenant x system (see README, Pools).
            from zoho_cscart_sync.http.ratelimit import pools_for_tenants

            pools = pools_for_tenants(tenants, slots=pool_slots)
            pools_file = self.home / "pools.json"
            pools_file.write_text(
                json.dumps({p["name"]: {"slots": p["slots"], "description": p["description"]} for p in pools})
            )
            self.cli("pools", "import", str(pools_file))
        self.launch(components)

    def launch(self, components: Sequence[str]) -> None:
        """Start the components (`db migrate` done), each logging to <home>/<component>.log."""
        for component in components:
            args = [component, "--port", self.env["AIRFLOW__API__PORT"]] if component == "api-server" else [component]
            log = (self.home / f"{component}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    [str(AIRFLOW_BIN), *args],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.env['AIRFLOW__API__PORT']}"

    def wait_healthy(self, timeout: float = 120) -> dict[str, object]:
        """Wait until the api-server answers /api/v2/monitor/health; returns its JSON."""
        import urllib.request

        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            try:
                with urllib.request.urlopen(f"{self.api_url}/api/v2/monitor/health", timeout=5) as response:
                    return dict(json.loads(response.read()))
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the api-server did not answer within {timeout}s; see {self.home}") from None
                time.sleep(1)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    # -- driving ---------------------------------------------------------------------------------------
    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(AIRFLOW_BIN), *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def _query(self, sql: str, **params: object) -> list[tuple]:
        import sqlalchemy as sa

        engine = sa.create_engine(self.metadata_url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text(sql), params)]
        finally:
            engine.dispose()

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        """Wait until the DAG processor has parsed the DAG, then unpause it (generated DAGs start paused).

        The cluster runs with `use_job_schedule = False`, so unpausing creates no scheduled runs: only the
        backfills and triggers a test asks for run.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self._query("select is_paused from dag where dag_id = :dag_id", dag_id=dag_id)
            if rows:
                if rows[0][0]:
                    self.cli("dags", "unpause", dag_id)
                return
            self._check_alive()
            time.sleep(2)
        raise TimeoutError(f"DAG {dag_id} was not parsed within {timeout}s; see {self.home}/dag-processor.log")

    def runs(self, dag_id: str) -> list[tuple[str, str, str]]:
        """(run_id, run_type, state) of every run of a DAG, oldest logical date first."""
        return [
            (str(r[0]), str(r[1]), str(r[2]))
            for r in self._query(
                "select run_id, run_type, state from dag_run where dag_id = :dag_id order by logical_date, run_after",
                dag_id=dag_id,
            )
        ]

    def backfill(
        self,
        dag_id: str,
        from_date: str,
        to_date: str,
        *,
        reprocess: str = "none",
        expected_runs: int,
        max_active_runs: int = 1,
        dag_run_conf: Mapping[str, object] | None = None,
        timeout: float = 600,
    ) -> list[str]:
        """`airflow backfill create …`, then wait for its runs; returns their final states in order."""
        self.wait_for_dag(dag_id)
        before = {run_id for run_id, run_type, _ in self.runs(dag_id) if run_type == "backfill"}
        conf = ["--dag-run-conf", json.dumps(dict(dag_run_conf))] if dag_run_conf is not None else []
        self.cli(
            "backfill", "create", "--dag-id", dag_id, "--from-date", from_date, "--to-date", to_date,
            "--reprocess-behavior", reprocess, "--max-active-runs", str(max_active_runs), *conf,
        )  # fmt: skip
        states = self._wait_runs(
            dag_id, "backfill", expected_runs, timeout, exclude=set() if reprocess != "none" else before
        )
        # Only one backfill may run per DAG: wait until the scheduler marks this one completed.
        deadline = time.monotonic() + 60
        while self._query("select 1 from backfill where dag_id = :dag_id and completed_at is null", dag_id=dag_id):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the backfill of {dag_id} was never marked completed")
            time.sleep(1)
        return states

    def trigger(self, dag_id: str, conf: Mapping[str, object] | None = None, *, timeout: float = 300) -> str:
        """`airflow dags trigger` with conf, then wait for that manual run; returns its final state."""
        self.wait_for_dag(dag_id)
        before = {run_id for run_id, run_type, _ in self.runs(dag_id) if run_type == "manual"}
        self.cli("dags", "trigger", dag_id, "--conf", json.dumps(dict(conf or {})))
        return self._wait_runs(dag_id, "manual", 1, timeout, exclude=before)[0]

    def _wait_runs(self, dag_id: str, run_type: str, expected: int, timeout: float, exclude: set[str]) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = [(run_id, state) for run_id, kind, state in self.runs(dag_id) if kind == run_type]
            runs = [r for r in runs if r[0] not in exclude]
            if len(runs) >= expected and all(state in TERMINAL_STATES for _, state in runs):
                return [state for _, state in runs]
            self._check_alive()
            time.sleep(2)
        raise TimeoutError(f"{run_type} runs of {dag_id} did not finish within {timeout}s: {self.runs(dag_id)}")

    def _check_alive(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"an Airflow component exited ({process.args}); see logs in {self.home}")

    def task_times(self, dag_id: str) -> list[tuple[str, str, object, object, str]]:
        """(run_id, task_id, start_date, end_date, state) of every task instance of a DAG, by start."""
        return [
            (str(r[0]), str(r[1]), r[2], r[3], str(r[4]))
            for r in self._query(
                "select run_id, task_id, start_date, end_date, state from task_instance where dag_id = :dag_id "
                "order by start_date",
                dag_id=dag_id,
            )
        ]

    def task_log(self, dag_id: str, run_id: str, task_id: str) -> str:
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        return "\n".join(p.read_text() for p in sorted(folder.glob("*.log")))


@contextmanager
def _fresh_database(server_url: str) -> Iterator[str]:
    name = f"zcs_airflow_{secrets.token_hex(4)}"
    url = database(server_url, name)
    try:
        yield url
    finally:
        drop_database(server_url, name)


def database(server_url: str, name: str) -> str:
    """Create database `name` on the server unless it exists; returns its URL."""
    import sqlalchemy as sa

    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            exists = conn.execute(sa.text("select 1 from pg_database where datname = :name"), {"name": name}).first()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def airflow_env(
    home: Path,
    dags_folder: Path,
    metadata_url: str,
    *,
    api_port: int,
    for_tests: bool = True,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of every component: `base` (default os.environ) without Airflow settings, plus ours.

    `for_tests`: no scheduled runs (only what a test asks for), two task slots, a one-second heartbeat.
    Otherwise (evaluation): the schedules run once a DAG is unpaused, Airflow's default slots and heartbeat.
    """
    env = {
        key: value
        for key, value in (os.environ if base is None else base).items()
        if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "_AIRFLOW", "PYTEST"))
    }
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "plugins"), str(REPO_ROOT / "sandbox"), str(REPO_ROOT)]),
        }
    )
    if for_tests:
        env.update(
            {
                "AIRFLOW__CORE__PARALLELISM": "2",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            }
        )
    return env


@contextmanager
def start_airflow_cluster(
    home: Path,
    dags_folder: Path,
    extra_env: Mapping[str, str],
    *,
    postgres_server_url: str,
    tenants: Sequence[str],
    pool_slots: Mapping[str, int] | None = None,
) -> Iterator[AirflowCluster]:
    """Run a local Airflow on `dags_folder` until the block exits; `extra_env` adds connections etc."""
    home.mkdir(parents=True, exist_ok=True)
    with _fresh_database(postgres_server_url) as metadata_url:
        env = airflow_env(home, dags_folder, metadata_url, api_port=_free_port())
        env.update(extra_env)
        cluster = AirflowCluster(home, env, metadata_url)
        try:
            cluster.start(tenants, pool_slots=pool_slots)
            yield cluster
        finally:
            cluster.stop()
