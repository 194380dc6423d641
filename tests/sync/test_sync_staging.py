"""Staging: part files round-trip, XCom-sized references, retries, cleanup, the secret guard, flat memory."""

from __future__ import annotations

import json
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from zoho_cscart_sync.sync.secrets_guard import SecretInStagingError
from zoho_cscart_sync.sync.staging import StagingArea, default_staging_base, read_staged_records


def _customer(index: int) -> dict[str, object]:
    return {
        "source_id": str(4_000_000 + index),
        "payload": {
            "email": f"customer{index}@example.com",
            "firstname": f"First{index}",
            "lastname": "Lastname-" + "x" * (index % 17),
            "phone": f"+1 555 {index:07d}",
            "b_city": "Boston",
            "tags": ["a", "b"],
        },
        "natural_keys": {"email": f"customer{index}@example.com"},
    }


def _pages(total: int, page_size: int) -> Iterator[list[dict[str, object]]]:
    for start in range(0, total, page_size):
        yield [_customer(i) for i in range(start, min(start + page_size, total))]


def test_pages_round_trip_through_part_files(tmp_path: Path) -> None:
    area = StagingArea(
        str(tmp_path), "acme_store", "customers", "manual__2026-11-23T08:00:00+00:00", records_per_file=4
    )
    ref = area.write_pages("extract_zoho_to_cscart", _pages(10, 3))

    assert ref["records"] == 10
    assert ref["files"] == ["part-00000.ndjson", "part-00001.ndjson", "part-00002.ndjson"]
    folder = Path(ref["uri"])
    assert (
        folder == tmp_path / "acme_store" / "customers" / "manual__2026-11-23T08_00_00_00_00" / "extract_zoho_to_cscart"
    )
    assert ref["bytes"] == sum((folder / name).stat().st_size for name in ref["files"])
    assert list(area.read_records(ref)) == [_customer(i) for i in range(10)]
    # The reference is all a downstream task gets (through XCom): it must be JSON and small.
    assert len(json.dumps(ref)) < 400
    assert list(read_staged_records(json.loads(json.dumps(ref)))) == [_customer(i) for i in range(10)]


def test_fsspec_url_base_works_like_a_folder(tmp_path: Path) -> None:
    area = StagingArea(f"file://{tmp_path}", "acme_store", "products", "run1")
    ref = area.write_pages("mapped", _pages(5, 2))
    assert ref["uri"].startswith("file://")
    assert [r["source_id"] for r in read_staged_records(ref)] == [str(4_000_000 + i) for i in range(5)]


def test_empty_stage_has_no_files(tmp_path: Path) -> None:
    ref = StagingArea(str(tmp_path), "t", "orders", "r").write_pages("extract", iter([]))
    assert ref["records"] == 0
    assert ref["files"] == []
    assert list(read_staged_records(ref)) == []


def test_retry_rewrites_the_stage_without_stale_files(tmp_path: Path) -> None:
    area = StagingArea(str(tmp_path), "t", "customers", "r", records_per_file=2)
    first = area.write_pages("extract", _pages(6, 6))
    second = area.write_pages("extract", _pages(3, 3))
    assert len(first["files"]) == 3
    assert (
        sorted(p.name for p in Path(second["uri"]).iterdir())
        == second["files"]
        == [
            "part-00000.ndjson",
            "part-00001.ndjson",
        ]
    )
    assert [r["source_id"] for r in read_staged_records(second)] == [str(4_000_000 + i) for i in range(3)]


def test_cleanup_removes_only_this_run(tmp_path: Path) -> None:
    this_run = StagingArea(str(tmp_path), "t", "customers", "run-a")
    other_run = StagingArea(str(tmp_path), "t", "customers", "run-b")
    this_run.write_pages("extract", _pages(2, 2))
    kept = other_run.write_pages("extract", _pages(2, 2))
    this_run.cleanup()
    assert not (tmp_path / "t" / "customers" / "run-a").exists()
    assert len(list(read_staged_records(kept))) == 2
    this_run.cleanup()  # idempotent: a second cleanup of a cleaned run is fine


def test_default_base_is_under_airflow_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    assert default_staging_base() == str(tmp_path / "zoho_cscart_staging")
    ref = StagingArea(None, "t", "customers", "r").write_pages("extract", _pages(1, 1))
    assert Path(ref["uri"]).is_relative_to(tmp_path / "zoho_cscart_staging")


def test_corrupt_staged_line_names_the_file_and_line(tmp_path: Path) -> None:
    ref = StagingArea(str(tmp_path), "t", "customers", "r").write_pages("extract", _pages(2, 2))
    part = Path(ref["uri"]) / ref["files"][0]
    part.write_text(part.read_text() + "{not json\n")
    with pytest.raises(ValueError, match=r"part-00000\.ndjson line 3"):
        list(read_staged_records(ref))


SECRET = "1000.0123456789abcdef0123456789abcdef.fedcba9876543210fedcba9876543210"


@pytest.mark.parametrize(
    ("record", "path"),
    [
        pytest.param({"id": "1", "access_token": SECRET}, "access_token", id="access_token"),
        pytest.param({"id": "1", "auth": {"refresh_token": "r-secret-value"}}, "auth.refresh_token", id="nested"),
        pytest.param({"id": "1", "clientSecret": "s-secret-value"}, "clientSecret", id="camel-case"),
        pytest.param({"payload": {"email": "a@b.c", "password": "hunter22"}}, "payload.password", id="password"),
        pytest.param({"items": [{"ok": 1}, {"API-Key": "k-secret-value"}]}, "items[1].API-Key", id="list-api-key"),
        pytest.param({"headers": {"Authorization": "Basic YWRtaW46a2V5"}}, "headers.Authorization", id="header"),
        pytest.param({"notes": SECRET}, "notes", id="zoho-token-value-under-innocent-key"),
        pytest.param({"notes": "Zoho-oauthtoken " + SECRET}, "notes", id="authorization-value"),
    ],
)
def test_secret_guard_refuses_credentials(tmp_path: Path, record: dict[str, object], path: str) -> None:
    area = StagingArea(str(tmp_path), "acme_store", "customers", "r")
    pages: list[list[dict[str, object]]] = [[{"id": "0", "email": "fine@example.com"}], [record]]
    with pytest.raises(SecretInStagingError) as caught:
        area.write_pages("extract", pages)
    message = str(caught.value)
    assert f"field {path!r}" in message
    assert "acme_store" in message
    assert "record #1" in message
    for secret_value in (
        SECRET,
        "r-secret-value",
        "s-secret-value",
        "hunter22",
        "k-secret-value",
        "YWRtaW46a2V5",
    ):
        assert secret_value not in message
    # Whatever reached disk before the refusal contains no secret either.
    for part in (tmp_path / "acme_store").rglob("*.ndjson"):
        staged_text = part.read_text()
        assert "secret-value" not in staged_text
        assert SECRET not in staged_text


@pytest.mark.parametrize(
    "record",
    [
        pytest.param({"token_count": 3, "password_reset_required": "N"}, id="lookalike-keys"),
        pytest.param({"password": "", "api_key": None}, id="empty-credential-fields"),
        pytest.param({"description": "Use 1000. as a bulk size", "sku": "1000.5"}, id="lookalike-values"),
    ],
)
def test_secret_guard_lets_ordinary_records_through(tmp_path: Path, record: dict[str, object]) -> None:
    ref = StagingArea(str(tmp_path), "t", "products", "r").write_pages("extract", [[record]])
    assert list(read_staged_records(ref)) == [record]


def _peak_bytes_while_staging(tmp_path: Path, total: int) -> tuple[int, int]:
    area = StagingArea(str(tmp_path / str(total)), "t", "customers", "r")
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        ref = area.write_pages("extract", _pages(total, 200))
        write_peak = tracemalloc.get_traced_memory()[1] - baseline
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        count = sum(1 for _ in read_staged_records(ref))
        read_peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert count == total == ref["records"]
    return write_peak, read_peak


def test_memory_stays_flat_as_volume_grows(tmp_path: Path) -> None:
    # tracemalloc slows every allocation down several times, so the test grows the volume tenfold from 5k
    # to 50k records (12 MB staged) instead of going to 200k.
    small_write, small_read = _peak_bytes_while_staging(tmp_path, 5_000)
    large_write, large_read = _peak_bytes_while_staging(tmp_path, 50_000)
    staged_bytes = sum(f.stat().st_size for f in (tmp_path / "50000").rglob("*.ndjson"))
    print(
        f"staged {staged_bytes / 1e6:.1f} MB; peak write {small_write / 1e6:.2f} -> {large_write / 1e6:.2f}"
        f" MB, peak read {small_read / 1e6:.2f} -> {large_read / 1e6:.2f} MB (5k -> 50k records)"
    )
    assert staged_bytes > 10_000_000  # the data really is large compared with the bounds below
    # Ten times the records must not mean more memory: bounded by the write buffer and one page, not volume.
    assert large_write < small_write * 1.5 + 512_000
    assert large_read < small_read * 1.5 + 512_000
    assert large_write < 4_000_000
    assert large_read < 1_000_000


def test_staging_module_does_not_import_airflow_at_import_time() -> None:
    import subprocess
    import sys

    code = (
        "import sys, zoho_cscart_sync.sync.staging, zoho_cscart_sync.sync.load, zoho_cscart_sync.sync.report;"
        "print('airflow' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "plugins")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "False"
