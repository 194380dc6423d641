"""``python -m zoho_cscart_sync.cli status | quarantine | retry | reset``: the console's reads and actions from the
command line, on SQLite and PostgreSQL; ``retry`` against a small local HTTP server standing in for Airflow's REST
API (``POST /auth/token``, ``POST /api/v2/dags/{dag_id}/dagRuns``)."""

from __future__ import annotations

import json
import shlex
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.console.support import C2Z, TENANT, Z2C, fill_store, write_tenants
from tests.state.conftest import StoreTarget
from zoho_cscart_sync import cli

DAG = f"zoho_cscart__{TENANT}__products"
ONE_WAY = "northwind_vendor"
ONE_WAY_FILE = """\
tenant_id: northwind_vendor
kind: vendor
company_id: 7
start_date: 2026-11-01T00:00:00Z
entities:
  customers: {direction: zoho_to_cscart}
"""
PASSWORD = "s3cret-Pa55"  # a test value that must never be printed
TOKEN = "eyJ.test-token.sig"  # the JWT the test server hands out


@pytest.fixture
def env(store_target: StoreTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A filled store (real clock: leases are compared with the time now), the tenant files, the CLI's options."""
    for name in ("ZCS_AIRFLOW_API_URL", "ZCS_AIRFLOW_API_TOKEN", "ZCS_AIRFLOW_API_USER", "ZCS_AIRFLOW_API_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    tenants = write_tenants(tmp_path)
    (tenants / f"{ONE_WAY}.yaml").write_text(ONE_WAY_FILE)
    store = store_target.open()
    fill_store(store)
    store.quarantine(
        TENANT,
        "products",
        C2Z,
        "cs-9",
        reason="price refused",
        stage="load",
        run_id="r",
        field="rate",
        kind="transient",
    )
    url = store_target.url
    if store_target.schema:
        url += f"?state_schema={store_target.schema}"
    try:
        yield {"store": store, "opts": ["--tenants-dir", str(tenants), "--state-url", url]}
    finally:
        store.close()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def only_the_database(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[1] != 5432:
            raise AssertionError(f"status/quarantine/reset must call no API (tried {address})")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", only_the_database)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ----------------------------------------------------------------- status


def test_status_shows_per_direction_watermark_counts_quarantine_last_run_and_lease(env, capsys, no_network):
    store = env["store"]
    store.acquire_run_lease(TENANT, "products", C2Z, "manual__running", ttl=timedelta(hours=1))
    code, out, err = run(capsys, "status", "--tenant", TENANT, "--entity", "products", "--json", *env["opts"])
    assert code == 0, err
    document = json.loads(out)
    assert document["tenant"] == TENANT
    [products] = document["entities"]
    assert products["dag_id"] == DAG
    counts = products["counts"]
    assert counts["run_id"] == "manual__2026-11-21T09:00:00+00:00"
    assert {k: counts[k] for k in ("cscart_total", "synced", "not_synced", "zoho_total", "not_in_cscart")} == {
        "cscart_total": 272_028, "synced": 55, "not_synced": 271_973, "zoho_total": 145, "not_in_cscart": 43,
    }  # fmt: skip
    assert counts["already_imported"] == 102
    assert products["quarantine_total"] == 4
    z2c, c2z = products["directions"][Z2C], products["directions"][C2Z]
    assert z2c["watermark"]["value"] == "2026-11-21T09:00:00+00:00" and z2c["watermark"]["run_id"] == "manual__x"
    assert z2c["quarantine"] == {"content": 3} and c2z["quarantine"] == {"transient": 1}
    assert z2c["last_run"] == {
        "run_id": "manual__2026-11-21T09:00:00+00:00", "recorded_at": z2c["last_run"]["recorded_at"],
        "created": 40, "updated": 0, "failed": 3, "api_calls": 43, "succeeded": True,
    }  # fmt: skip
    assert c2z["last_run"] is None and c2z["watermark"] is None
    assert z2c["lease"] is None and c2z["lease"]["run_id"] == "manual__running"

    code, out, _ = run(capsys, "status", "--tenant", TENANT, *env["opts"])
    assert code == 0
    assert "tenant acme_store, customers" in out and "tenant acme_store, products" in out
    assert "CS-Cart total        272,028" in out
    assert "quarantine  3 open: content 3" in out and "quarantine  1 open: transient 1" in out
    assert "created 40, updated 0, failed 3, API calls 43" in out
    assert "run manual__running holds the lease until" in out


def test_status_errors_name_the_tenant_and_entity(env, capsys, no_network):
    code, _, err = run(capsys, "status", "--tenant", TENANT, "--entity", "invoices", *env["opts"])
    assert code == 1 and "tenant acme_store, invoices" in err and "customers, products" in err
    code, _, err = run(capsys, "status", "--tenant", "nobody", *env["opts"])
    assert code == 1 and "tenant nobody" in err


# ----------------------------------------------------------------- quarantine


def test_quarantine_pages_by_key_with_filters(env, capsys, no_network):
    args = ["quarantine", "--tenant", TENANT, "--entity", "products", *env["opts"]]
    code, out, _ = run(capsys, *args, "--limit", "2", "--json")
    assert code == 0
    first = json.loads(out)
    assert first["total"] == 4
    assert [(i["direction"], i["source_id"]) for i in first["items"]] == [(C2Z, "cs-9"), (Z2C, "5725767000000000")]
    item = first["items"][1]
    assert (item["kind"], item["field"], item["attempts"], item["reason"]) == ("content", "sku", 1, "sku refused 0")
    assert item["first_seen"] and item["last_seen"]
    assert first["next"] == f"{Z2C}:5725767000000000"

    code, out, _ = run(capsys, *args, "--limit", "2", "--after", first["next"], "--json")
    second = json.loads(out)
    assert [i["source_id"] for i in second["items"]] == ["5725767000000001", "5725767000000002"]
    assert second["next"] is None

    code, out, _ = run(capsys, *args, "--kind", "transient", "--json")
    assert [i["source_id"] for i in json.loads(out)["items"]] == ["cs-9"]
    code, out, _ = run(capsys, *args, "--direction", Z2C, "--limit", "1")
    assert code == 0
    assert "3 open quarantine entries (zoho_to_cscart)" in out and "sku refused 0" in out
    assert f"next page: --after {Z2C}:5725767000000000" in out

    code, _, err = run(capsys, *args, "--direction", "sideways")
    assert code == 1 and "tenant acme_store, products" in err and "'sideways' is not a direction" in err
    code, _, err = run(capsys, *args, "--after", "nocolon")
    assert code == 1 and "tenant acme_store, products: Bad cursor" in err


# ----------------------------------------------------------------- conflicts


def test_conflicts_pages_by_key(env, capsys, no_network):
    store = env["store"]
    for number in range(3):
        store.record_lost_conflict(TENANT, "customers", Z2C, f"z{number}", target_id=f"u{number}", master="cscart",
                                   run_id="run-c")  # fmt: skip
    store.record_lost_conflict(TENANT, "customers", C2Z, "u9", target_id="z9", master="zoho", run_id="run-z")
    args = ["conflicts", "--tenant", TENANT, "--entity", "customers", *env["opts"]]
    code, out, err = run(capsys, *args, "--limit", "2", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["total"] == 4
    assert [(i["direction"], i["source_id"], i["target_id"], i["master"]) for i in first["items"]] == [
        (C2Z, "u9", "z9", "zoho"),
        (Z2C, "z0", "u0", "cscart"),
    ]
    assert first["items"][0]["run_id"] == "run-z" and first["items"][0]["occurrences"] == 1
    assert first["next"] == f"{Z2C}:z0"
    code, out, _ = run(capsys, *args, "--limit", "2", "--after", first["next"], "--json")
    second = json.loads(out)
    assert [i["source_id"] for i in second["items"]] == ["z1", "z2"] and second["next"] is None

    code, out, _ = run(capsys, *args, "--limit", "1")
    assert code == 0
    assert "4 records with a lost conflict" in out and "lost cscart_to_zoho u9  master zoho z9" in out
    assert f"next page: --after {C2Z}:u9" in out
    code, out, _ = run(capsys, "conflicts", "--tenant", TENANT, "--entity", "products", *env["opts"])
    assert code == 0 and "0 records with a lost conflict" in out
    code, _, err = run(capsys, *args, "--after", "nocolon")
    assert code == 1 and "tenant acme_store, customers: Bad cursor" in err


# ----------------------------------------------------------------- reset


def test_reset_needs_yes_keeps_the_id_map_and_is_refused_while_a_run_holds_the_scope(env, capsys, no_network):
    store = env["store"]
    store.record_write(
        TENANT, "products", Z2C, source_id="z0", target_id="100", target_hash="h", echo_hash=None,
        natural_keys={"sku": "SKU-0"}, flags=None, run_id="r2",
    )  # fmt: skip
    args = ["reset", "--tenant", TENANT, "--entity", "products", *env["opts"]]
    code, out, _ = run(capsys, *args)
    assert code == cli.EXIT_NEEDS_YES
    assert "ID map kept" in out and f"{Z2C} 2026-11-21T09:00:00+00:00" in out and "closed: 4" in out
    assert store.get_watermark(TENANT, "products", Z2C) is not None  # nothing done

    code, _, err = run(capsys, *args, "--direction", Z2C, "--yes")
    assert code == 1 and "tenant acme_store, products: reset works on both directions together" in err

    store.acquire_run_lease(TENANT, "products", Z2C, "scheduled__busy", ttl=timedelta(hours=1))
    code, _, err = run(capsys, *args, "--yes")
    assert code == cli.EXIT_RUN_HOLDS_SCOPE
    assert "tenant acme_store, products: Run scheduled__busy is syncing zoho_to_cscart" in err
    assert store.get_watermark(TENANT, "products", Z2C) is not None
    store.release_run_lease(TENANT, "products", Z2C, "scheduled__busy")

    code, out, err = run(capsys, *args, "--yes")
    assert code == 0, err
    assert "reset: content hashes and watermarks cleared" in out
    assert store.get_watermark(TENANT, "products", Z2C) is None
    assert store.quarantine_counts(TENANT, "products") == {}
    link = store.get_link(TENANT, "products", zoho_id="z0")
    assert link is not None and link.cscart_id == "100" and link.hash_to_cscart is None


def test_reset_of_a_one_way_entity_takes_its_direction(env, capsys, no_network):
    args = ["reset", "--tenant", ONE_WAY, "--entity", "customers", "--yes", *env["opts"]]
    code, _, err = run(capsys, *args, "--direction", C2Z)
    assert code == 1 and "tenant northwind_vendor, customers" in err
    code, out, _ = run(capsys, *args, "--direction", Z2C)
    assert code == 0 and "northwind_vendor/customers reset" in out


# ----------------------------------------------------------------- retry --print


def test_retry_print_gives_the_airflow_dags_trigger_lines(env, capsys, no_network):
    args = ["retry", "--tenant", TENANT, "--entity", "products", "--print", *env["opts"]]
    code, out, _ = run(capsys, *args)
    assert code == 0
    lines = [shlex.split(line) for line in out.splitlines()]
    assert [line[:4] for line in lines] == [["airflow", "dags", "trigger", DAG]] * 2
    assert [json.loads(line[5]) for line in lines] == [
        {"record_ids": ["cs-9"], "direction": C2Z},
        {"record_ids": ["5725767000000000", "5725767000000001", "5725767000000002"], "direction": Z2C},
    ]
    code, out, _ = run(capsys, *args, "--direction", Z2C, "--ids", "a,b", "c", "a", "--json")
    assert json.loads(out) == [{"dag_id": DAG, "direction": Z2C, "conf": {"record_ids": ["a", "b", "c"],
                                                                            "direction": Z2C}}]  # fmt: skip

    code, _, err = run(capsys, *args, "--ids", "a")
    assert code == 1 and "tenant acme_store, products is two-way" in err and "--direction" in err
    code, _, err = run(capsys, "retry", "--tenant", TENANT, "--entity", "customers", "--print", *env["opts"])
    assert code == 1 and "tenant acme_store, customers: nothing is quarantined" in err
    # A one-way DAG's `direction` parameter takes `configured` only: the conf has record_ids alone.
    one_way = ["retry", "--tenant", ONE_WAY, "--entity", "customers", "--print", "--json", *env["opts"]]
    code, out, _ = run(capsys, *one_way, "--ids", "acc-1")
    assert json.loads(out)[0]["conf"] == {"record_ids": ["acc-1"]}


# ----------------------------------------------------------------- retry through the REST API


class FakeAirflow(ThreadingHTTPServer):
    """Answers ``POST /auth/token`` and ``POST /api/v2/dags/{dag_id}/dagRuns`` like the api-server does."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.refuse: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeAirflow

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"null")
        self.server.requests.append((self.path, dict(self.headers), body))
        if self.path == "/auth/token":
            ok = body == {"username": "ops", "password": PASSWORD}
            self._answer(201 if ok else 401, {"access_token": TOKEN} if ok else {"detail": "Invalid credentials"})
        elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._answer(401, {"detail": "Not authenticated"})
        elif self.server.refuse:
            self._answer(self.server.refuse, {"detail": "Forbidden"})
        else:
            self._answer(200, {"dag_run_id": f"manual__cli_{len(self.server.requests)}"})

    def _answer(self, status: int, document: dict[str, Any]) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def airflow() -> Iterator[FakeAirflow]:
    server = FakeAirflow()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_retry_logs_in_and_creates_one_run_per_direction(env, capsys, airflow, monkeypatch):
    monkeypatch.setenv("ZCS_AIRFLOW_API_USER", "ops")
    monkeypatch.setenv("ZCS_AIRFLOW_API_PASSWORD", PASSWORD)
    args = ["retry", "--tenant", TENANT, "--entity", "products", "--api-url", airflow.url, *env["opts"]]
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "action": "retry",
        "runs": [
            {"dag_run_id": "manual__cli_2", "direction": C2Z, "records": 1},
            {"dag_run_id": "manual__cli_3", "direction": Z2C, "records": 3},
        ],
    }
    paths = [path for path, _, _ in airflow.requests]
    assert paths == ["/auth/token", f"/api/v2/dags/{DAG}/dagRuns", f"/api/v2/dags/{DAG}/dagRuns"]
    _, headers, body = airflow.requests[2]
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert body["conf"] == {"record_ids": ["5725767000000000", "5725767000000001", "5725767000000002"],
                            "direction": Z2C}  # fmt: skip
    assert body["logical_date"] is None and "CLI" in body["note"]
    assert PASSWORD not in out + err and TOKEN not in out + err


def test_retry_with_a_token_and_given_ids_and_airflow_refusing(env, capsys, airflow, monkeypatch, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    monkeypatch.setenv("ZCS_AIRFLOW_API_URL", airflow.url)
    args = ["retry", "--tenant", TENANT, "--entity", "products", "--direction", Z2C, *env["opts"]]
    code, out, err = run(capsys, *args, "--ids", "5725767000000001", "new-1", "--token-file", str(token_file))
    assert code == 0, err
    assert "run manual__cli_1 created for 2 record(s) of tenant acme_store, products, zoho_to_cscart" in out
    assert "1 of the ids are not quarantined" in err
    assert airflow.requests[0][2]["conf"] == {"record_ids": ["5725767000000001", "new-1"], "direction": Z2C}

    airflow.refuse = 403
    monkeypatch.setenv("ZCS_AIRFLOW_API_TOKEN", TOKEN)
    code, out, err = run(capsys, *args)
    assert code == 1
    assert "tenant acme_store, products: Airflow refused the run: 403: Forbidden" in err
    assert TOKEN not in out + err

    monkeypatch.delenv("ZCS_AIRFLOW_API_TOKEN")
    monkeypatch.setenv("ZCS_AIRFLOW_API_USER", "ops")
    monkeypatch.setenv("ZCS_AIRFLOW_API_PASSWORD", "wrong-" + PASSWORD)
    code, out, err = run(capsys, *args)
    assert code == 1 and "tenant acme_store, products" in err and "login as 'ops' refused" in err
    assert PASSWORD not in out + err


def test_retry_without_credentials_or_address_says_what_to_set(env, capsys, monkeypatch):
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "")
    args = ["retry", "--tenant", TENANT, "--entity", "products", *env["opts"]]
    code, _, err = run(capsys, *args, "--api-url", "http://user:hunter2x@127.0.0.1:1")
    assert code == 1 and "carries credentials" in err and "hunter2x" not in err
    code, _, err = run(capsys, *args, "--api-url", "http://127.0.0.1:1")
    assert code == 1 and "tenant acme_store, products: no Airflow credentials" in err
    monkeypatch.setenv("ZCS_AIRFLOW_API_TOKEN", TOKEN)
    code, _, err = run(capsys, *args, "--api-url", "http://127.0.0.1:1", "--timeout", "2")
    assert code == 1 and "cannot reach Airflow's REST API at http://127.0.0.1:1: ConnectError" in err
