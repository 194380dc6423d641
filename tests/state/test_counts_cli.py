"""``python -m zoho_cscart_sync.cli counts``: the dashboard counts of the latest stored run, from the state store
only."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timezone
from typing import Any

import pytest

from zoho_cscart_sync import cli
from zoho_cscart_sync.state import StateStore
from zoho_cscart_sync.state.models import EntityCounts

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the counts command must not call any API")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def state_url(tmp_path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "state.db"
    # The default store (no --state-url) is the Connection zoho_cscart_state, as in a task.
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CSCART_STATE", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return f"sqlite:///{path}"


def _store(url: str, clock: Clock) -> StateStore:
    return StateStore.from_url(url, clock=clock)


def test_prints_the_six_counts_of_the_latest_run_with_its_id_and_time(state_url, no_network, capsys) -> None:
    clock = Clock()
    with _store(state_url, clock) as store:
        counted = EntityCounts(272028, 55, 271973, 145, 43, 102, "scheduled__first", T0)
        store.save_run_counts("acme_store", "products", "scheduled__first", counted)
        clock.now = T0.replace(hour=13)
        carried = EntityCounts(272030, 57, 271973, 147, 43, 102, "scheduled__first", T0)
        store.save_run_counts("acme_store", "products", "scheduled__second", carried)
        store.save_run_counts("acme_store", "customers", "scheduled__c", EntityCounts(32, 23, 9, None, None, 0))

    assert cli.main(["counts", "--tenant", "acme_store"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "tenant acme_store, products: run scheduled__second, stored 2026-03-01T13:00:00+00:00"
    rows = {line[:19].strip(): line[19:].split() for line in out[1:]}
    assert {label: values[0] for label, values in rows.items()} == {
        "CS-Cart total": "272,030",
        "synced to Zoho": "57",
        "not synced": "271,973",
        "Zoho total": "147",
        "not in CS-Cart": "43",
        "already imported": "102",
    }
    assert "as of run scheduled__first, 2026-03-01T12:00:00+00:00" in " ".join(rows["Zoho total"])

    assert cli.main(["counts", "--tenant", "acme_store", "--entity", "customers", "--state-url", state_url]) == 0
    out = capsys.readouterr().out
    assert "Zoho total" in out and "unknown  (Zoho never read in full: run once with full_refresh)" in out

    assert cli.main(["counts", "--tenant", "acme_store", "--history", "2", "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert [run["run_id"] for run in history] == ["scheduled__second", "scheduled__first"]
    assert history[1] == {
        "run_id": "scheduled__first",
        "recorded_at": "2026-03-01T12:00:00+00:00",
        "cscart_total": 272028,
        "synced": 55,
        "not_synced": 271973,
        "zoho_total": 145,
        "not_in_cscart": 43,
        "already_imported": 102,
        "zoho_counted_run_id": "scheduled__first",
        "zoho_counted_at": "2026-03-01T12:00:00+00:00",
    }


def test_says_so_when_no_run_has_stored_counts(state_url, no_network, capsys) -> None:
    assert cli.main(["counts", "--tenant", "acme_store"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "state store: sqlite:///" in captured.err
    assert "no counts stored yet for tenant acme_store, products" in captured.err
    assert "make a run first" in captured.err
