"""The local Airflow of `airflow_cluster`, on CeleryExecutor: Redis broker, PostgreSQL metadata and results, N workers.

Each worker is `airflow celery worker` on a queue of its own test run (so other users of the same Redis are
not disturbed), names itself through `ZCS_WORKER_NAME` (task instances record it as their hostname, so a
test can tell which worker ran what), and skips the log server (two workers on one machine would fight for
its port; task logs go to the shared AIRFLOW_HOME anyway).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.airflow_cluster import AIRFLOW_BIN, AirflowCluster, _free_port, _fresh_database, airflow_env

REDIS_URL = os.environ.get("ZCS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def worker_hostname() -> str:
    """`[core] hostname_callable` of the cluster: the worker's name when it has one, else the host."""
    name = os.environ.get("ZCS_WORKER_NAME")
    return f"{name}@{socket.getfqdn()}" if name else socket.getfqdn()


def redis_reachable(url: str = REDIS_URL) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@contextmanager
def start_celery_airflow_cluster(
    home: Path,
    dags_folder: Path,
    extra_env: Mapping[str, str],
    *,
    postgres_server_url: str,
    tenants: Sequence[str],
    workers: int = 2,
    worker_concurrency: int = 2,
    redis_url: str = REDIS_URL,
    pool_slots: Mapping[str, int] | None = None,
) -> Iterator[AirflowCluster]:
    """api-server, scheduler, dag-processor and `workers` Celery workers until the block exits."""
    home.mkdir(parents=True, exist_ok=True)
    queue = f"zcs_{secrets.token_hex(4)}"
    with _fresh_database(postgres_server_url) as metadata_url:
        env = airflow_env(home, dags_folder, metadata_url, api_port=_free_port())
        result_backend = "db+" + metadata_url  # keeps +psycopg2: SQLAlchemy 2.1's default driver is psycopg 3
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__PARALLELISM": str(workers * worker_concurrency),
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.e2e.celery_cluster.worker_hostname",
                "AIRFLOW__CELERY__BROKER_URL": redis_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(worker_concurrency),
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
            }
        )
        env.update(extra_env)
        cluster = AirflowCluster(home, env, metadata_url)
        try:
            cluster.start(tenants, pool_slots=pool_slots)
            for number in range(1, workers + 1):
                name = f"worker{number}"
                log = (home / f"celery-{name}.log").open("wb")
                command = [
                    str(AIRFLOW_BIN), "celery", "worker", "--queues", queue,
                    "--concurrency", str(worker_concurrency), "--celery-hostname", f"{name}-{queue}@%h",
                    "--skip-serve-logs",
                ]  # fmt: skip
                cluster.processes.append(
                    subprocess.Popen(
                        command,
                        env={**env, "ZCS_WORKER_NAME": name},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            yield cluster
        finally:
            cluster.stop()
            _forget_queue(redis_url, queue)


def _forget_queue(redis_url: str, queue: str) -> None:
    import redis

    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
        client.delete(queue)
    except redis.RedisError:
        pass


def worker_names(cluster: AirflowCluster, dag_ids: Sequence[str]) -> dict[str, str]:
    """task-instance key -> the worker (ZCS_WORKER_NAME) that ran it."""
    rows = cluster._query(
        "select dag_id, run_id, task_id, map_index, hostname from task_instance where dag_id = any(:dag_ids)",
        dag_ids=list(dag_ids),
    )
    return {f"{r[0]}/{r[1]}/{r[2]}/{r[3]}": str(r[4]).split("@", 1)[0] for r in rows}
