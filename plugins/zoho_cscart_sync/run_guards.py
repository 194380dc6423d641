"""Checks the plan task makes before a run does anything: trigger conf, connections, explicit intervals, leases.

Airflow validates each Param on its own before a run is created (type, format, enum). What it cannot check
there (keys that are no Param, ``since`` after ``until``, window params on a backfill) is refused here, by the
run's first task, with the key named; these failures are final (AirflowFailException, no retries).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from zoho_cscart_sync.windows import RunWindowError, parse_datetime

log = logging.getLogger(__name__)

INTERVAL_RUN_TYPES = ("scheduled", "backfill")
WINDOW_PARAMS = ("since", "until", "full_refresh", "record_ids")
"""Params that replace what a run reads; refused on scheduled and backfill runs, which read their interval."""

LEASE_WAIT_ENV = "ZCS_RUN_LEASE_WAIT_SECONDS"
LEASE_POKE_ENV = "ZCS_RUN_LEASE_POKE_SECONDS"
LEASE_TTL_ENV = "ZCS_RUN_LEASE_TTL_SECONDS"
DEFAULT_LEASE_WAIT_SECONDS = 600.0
DEFAULT_LEASE_POKE_SECONDS = 10.0
DEFAULT_LEASE_TTL_SECONDS = 3 * 3600.0
"""Each stage renews the lease when it starts; a try runs at most 2 h (execution_timeout) and a retry waits at
most 20 min, so 3 h outlives every gap between renewals of a live run and bounds how long a killed one blocks."""


class RunRefused(ValueError):
    """The run cannot start as triggered; the message names the key or resource at fault."""


def fail(message: str) -> BaseException:
    """An exception that fails the task without retries (AirflowFailException)."""
    from airflow.sdk.exceptions import AirflowFailException

    return AirflowFailException(message)


def check_conf(
    conf: Mapping[str, Any] | None, declared: Iterable[str], params: Mapping[str, Any], run_type: str
) -> None:
    """Refuse conf keys that are not ``declared`` Params, ``since`` not before ``until``, and window params on
    interval runs (``params``: the run's resolved Params)."""
    known = set(declared)
    unknown = sorted(key for key in (conf or {}) if key not in known)
    if unknown:
        raise RunRefused(
            f"unknown run parameter(s) {', '.join(repr(k) for k in unknown)}; this DAG accepts: "
            f"{', '.join(sorted(known))}"
        )
    since, until = params.get("since"), params.get("until")
    if since and until:
        try:
            since_at, until_at = parse_datetime(since), parse_datetime(until)
        except RunWindowError as exc:
            raise RunRefused(str(exc)) from None
        if since_at >= until_at:
            raise RunRefused(f"'since' ({since_at.isoformat()}) must be before 'until' ({until_at.isoformat()})")
    if run_type in INTERVAL_RUN_TYPES:
        given = [name for name in WINDOW_PARAMS if params.get(name)]
        if given:
            raise RunRefused(
                f"{', '.join(repr(k) for k in given)} cannot be used on a {run_type} run: scheduled and backfill "
                "runs read exactly their data interval. Trigger a manual run for another window "
                '(airflow dags trigger <dag_id> --conf \'{"since": ..., "until": ...}\')'
            )


def explicit_manual_interval(
    run_type: str,
    logical_date: datetime | None,
    data_interval: tuple[datetime | None, datetime | None],
    timetable: Any,
) -> tuple[datetime, datetime] | None:
    """The data interval a manual run was given explicitly, or None.

    Airflow 3.3 stores no flag for it. A manual run without a logical date has no data interval; one with a
    logical date gets ``timetable.infer_manual_data_interval(logical_date)`` unless the trigger gave
    ``data_interval_start``/``data_interval_end`` (REST API, or the UI's "Specify Manually"). So an interval that
    differs from the inferred one was given explicitly. An explicit interval equal to the inferred one cannot be
    told apart and is treated like no interval (the run reads from the watermark to its trigger time).
    """
    start, end = data_interval
    if run_type != "manual" or logical_date is None or start is None or end is None:
        return None
    start_at, end_at = parse_datetime(start), parse_datetime(end)
    try:
        import pendulum
        from airflow.serialization.encoders import coerce_to_core_timetable

        inferred = coerce_to_core_timetable(timetable).infer_manual_data_interval(
            run_after=pendulum.instance(parse_datetime(logical_date))
        )
    except Exception:  # a timetable that cannot infer: treat the interval as explicit only if non-empty
        log.warning("could not infer the manual data interval of this DAG's timetable", exc_info=True)
        return (start_at, end_at) if start_at < end_at else None
    if (parse_datetime(inferred.start), parse_datetime(inferred.end)) == (start_at, end_at):
        return None
    return start_at, end_at


def connection_add_hint(conn_id: str) -> str:
    """The command that creates ``conn_id`` (its type from the naming convention, placeholders for secrets)."""
    if conn_id.startswith("cscart"):
        return (
            f"airflow connections add {conn_id} --conn-type cscart --conn-host 'https://shop.example' "
            "--conn-login 'api-user@shop.example' --conn-password '<API key>'"
        )
    return (
        f"airflow connections add {conn_id} --conn-type zoho --conn-login '<client id>' "
        '--conn-password \'<client secret>\' --conn-extra \'{"refresh_token": "<refresh token>", "region": "com"}\''
    )


def check_connections(conn_ids: Iterable[str], tenant_id: str) -> None:
    """Refuse at once when a connection the run needs does not exist (retrying cannot create it)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    for conn_id in dict.fromkeys(conn_ids):
        try:
            BaseHook.get_connection(conn_id)
        except AirflowNotFoundException:
            raise RunRefused(
                f"tenant {tenant_id}: connection {conn_id!r} does not exist. Add it (README, Connections), e.g. "
                f"{connection_add_hint(conn_id)}"
            ) from None


@dataclass(frozen=True)
class LeaseSettings:
    """How long a run waits for another run's lease, how often it looks, and how long a lease lives."""

    wait_seconds: float = DEFAULT_LEASE_WAIT_SECONDS
    poke_seconds: float = DEFAULT_LEASE_POKE_SECONDS
    ttl: timedelta = timedelta(seconds=DEFAULT_LEASE_TTL_SECONDS)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LeaseSettings:
        env = os.environ if environ is None else environ

        def number(name: str, default: float) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise RunRefused(f"{name} must be a number of seconds, got {raw!r}") from None
            if value < 0:
                raise RunRefused(f"{name} must not be negative, got {raw!r}")
            return value

        poke = number(LEASE_POKE_ENV, DEFAULT_LEASE_POKE_SECONDS) or DEFAULT_LEASE_POKE_SECONDS
        ttl = number(LEASE_TTL_ENV, DEFAULT_LEASE_TTL_SECONDS) or DEFAULT_LEASE_TTL_SECONDS
        return cls(number(LEASE_WAIT_ENV, DEFAULT_LEASE_WAIT_SECONDS), poke, timedelta(seconds=ttl))


def take_leases(
    store: Any, tenant_id: str, entity: str, directions: Iterable[str], run_id: str, settings: LeaseSettings
) -> dict[str, dict[str, Any]]:
    """Take the lease of every direction (sorted, so two runs never wait for each other crosswise).

    Returns direction -> {acquired_at, expires_at, waited_for}. On failure releases what it took and raises
    RunRefused naming the holder.
    """
    from zoho_cscart_sync.state import RunLeaseHeld

    taken: dict[str, dict[str, Any]] = {}
    for direction in sorted(directions):
        holders: list[str] = []

        def waiting(lease: Any, direction: str = direction, holders: list[str] = holders) -> None:
            if not holders or holders[-1] != lease.run_id:
                log.info(
                    "tenant %s %s %s: waiting for run %s to release the run lease (up to %g s)",
                    tenant_id,
                    entity,
                    direction,
                    lease.run_id,
                    settings.wait_seconds,
                )
            holders.append(lease.run_id)

        try:
            lease = store.acquire_run_lease(
                tenant_id,
                entity,
                direction,
                run_id,
                ttl=settings.ttl,
                wait_seconds=settings.wait_seconds,
                poke_seconds=settings.poke_seconds,
                on_wait=waiting,
            )
        except RunLeaseHeld as exc:
            release_leases(store, tenant_id, entity, taken, run_id)
            raise RunRefused(
                f"{exc}. Another run of this DAG is still working on it; wait for it, or run backfills with "
                f"--max-active-runs 1 ({LEASE_WAIT_ENV} sets how long a run waits)"
            ) from None
        taken[direction] = {
            "acquired_at": lease.acquired_at.isoformat(),
            "expires_at": lease.expires_at.isoformat(),
            "waited_for": holders[-1] if holders else None,
        }
    return taken


def renew_lease(store: Any, tenant_id: str, entity: str, direction: str, run_id: str, settings: LeaseSettings) -> None:
    """Extend this run's lease before a stage; refuse if another run took it over (ours expired)."""
    from zoho_cscart_sync.state import RunLeaseHeld

    try:
        store.acquire_run_lease(tenant_id, entity, direction, run_id, ttl=settings.ttl, wait_seconds=0)
    except RunLeaseHeld as exc:
        raise RunRefused(f"this run's lease expired and was taken over: {exc}") from None


def release_leases(
    store: Any,
    tenant_id: str,
    entity: str,
    directions: Iterable[str],
    run_id: str,
    warn: Callable[..., None] = log.warning,
) -> None:
    """Release this run's leases (a lease another run took over after ours expired stays with that run)."""
    for direction in directions:
        if not store.release_run_lease(tenant_id, entity, direction, run_id):
            warn("tenant %s %s %s: run %s no longer held its run lease", tenant_id, entity, direction, run_id)
