"""The run-window rule (README table): scheduled/backfill, manual, explicit, full refresh, record ids."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from zoho_cscart_sync.windows import RunWindow, RunWindowError, WindowMode, parse_datetime, resolve_window

UTC = timezone.utc
START = datetime(2026, 11, 1, tzinfo=UTC)
INTERVAL = (datetime(2026, 11, 5, 10, tzinfo=UTC), datetime(2026, 11, 5, 11, tzinfo=UTC))
TRIGGERED = datetime(2026, 11, 20, 9, 17, 30, tzinfo=UTC)
NO_PARAMS = {"since": None, "until": None, "full_refresh": False, "record_ids": None}


def _resolve(run_type="scheduled", params=None, watermark=None, interval=INTERVAL):
    return resolve_window(
        run_type=run_type,
        data_interval_start=interval[0] if interval else None,
        data_interval_end=interval[1] if interval else None,
        run_after=TRIGGERED,
        params={**NO_PARAMS, **(params or {})},
        watermark=watermark,
        start_date=START,
    )


@pytest.mark.parametrize("run_type", ["scheduled", "backfill"])
def test_scheduled_and_backfill_runs_read_exactly_their_interval(run_type):
    window = _resolve(run_type, watermark=datetime(2026, 11, 19, tzinfo=UTC))
    assert (window.since, window.until, window.mode) == (*INTERVAL, WindowMode.INTERVAL)


def test_zero_width_interval_is_refused():
    with pytest.raises(RunWindowError, match="empty data interval"):
        _resolve("scheduled", interval=(INTERVAL[0], INTERVAL[0]))


def test_manual_run_continues_from_the_watermark_to_the_trigger_time():
    watermark = datetime(2026, 11, 20, 8, tzinfo=UTC)
    # Manual runs may carry a data interval (dag.test, UI): it is ignored in favour of the watermark.
    window = _resolve("manual", watermark=watermark)
    assert (window.since, window.until, window.mode) == (watermark, TRIGGERED, WindowMode.MANUAL)


def test_manual_run_without_data_interval_and_without_watermark_starts_at_start_date():
    window = _resolve("manual", interval=None)
    assert (window.since, window.until) == (START, TRIGGERED)


def test_manual_run_already_synced_is_an_empty_window():
    window = _resolve("manual", watermark=TRIGGERED + timedelta(minutes=5))
    assert window.since == window.until == TRIGGERED


def test_explicit_since_until():
    window = _resolve("manual", {"since": "2026-11-02T00:00:00Z", "until": "2026-11-03T12:00:00+01:00"})
    assert window.since == datetime(2026, 11, 2, tzinfo=UTC)
    assert window.until == datetime(2026, 11, 3, 11, tzinfo=UTC)
    assert window.mode is WindowMode.EXPLICIT


def test_explicit_until_only_starts_from_watermark():
    watermark = datetime(2026, 11, 10, tzinfo=UTC)
    window = _resolve("manual", {"until": "2026-11-12T00:00:00Z"}, watermark=watermark)
    assert (window.since, window.mode) == (watermark, WindowMode.EXPLICIT)


@pytest.mark.parametrize("run_type", ["scheduled", "backfill"])
@pytest.mark.parametrize("key", ["since", "until", "full_refresh"])
def test_window_params_on_scheduled_and_backfill_runs_are_refused_naming_the_key(run_type, key):
    # `airflow backfill create --dag-run-conf '{"since": ...}'` used to make every run read [since, its end).
    value = True if key == "full_refresh" else "2026-11-02T00:00:00Z"
    with pytest.raises(RunWindowError, match=f"'{key}' cannot be used on a {run_type} run"):
        _resolve(run_type, {key: value})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "2026-11-03T00:00:00Z", "until": "2026-11-02T00:00:00Z"}, "must be before"),
        ({"since": "2026-11-21T00:00:00Z"}, "must be before"),
        ({"since": "last tuesday"}, "not an ISO-8601 datetime"),
        ({"full_refresh": True, "since": "2026-11-02T00:00:00Z"}, "leave 'since' empty"),
        ({"record_ids": ["  ", ""]}, "only empty values"),
    ],
)
def test_bad_manual_params_are_refused(params, message):
    with pytest.raises(RunWindowError, match=message):
        _resolve("manual", params)


def test_full_refresh_reads_everything_up_to_the_trigger_time_or_until():
    window = _resolve("manual", {"full_refresh": True}, watermark=datetime(2026, 11, 19, tzinfo=UTC))
    assert (window.since, window.until, window.mode) == (None, TRIGGERED, WindowMode.FULL_REFRESH)
    window = _resolve("manual", {"full_refresh": True, "until": "2026-11-10T00:00:00Z"})
    assert window.until == datetime(2026, 11, 10, tzinfo=UTC)


def test_record_ids_ignore_the_window_and_keep_order_without_duplicates():
    window = _resolve("manual", {"record_ids": ["42", " 7 ", "42"]})
    assert window.mode is WindowMode.RECORDS
    assert window.record_ids == ("42", "7")
    assert window.advances_watermark is False


def test_round_trip_through_xcom_form():
    for window in (
        _resolve("scheduled"),
        _resolve("manual", {"full_refresh": True}),
        _resolve("manual", {"record_ids": ["1"]}),
    ):
        assert RunWindow.from_dict(window.to_dict()) == window


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-05T10:00:00Z", datetime(2026, 11, 5, 10, tzinfo=UTC)),
        ("2026-11-05T15:30:00+05:30", datetime(2026, 11, 5, 10, tzinfo=UTC)),
        ("2026-11-05T10:00:00", datetime(2026, 11, 5, 10, tzinfo=UTC)),
    ],
)
def test_parse_datetime_normalises_to_utc(text, expected):
    assert parse_datetime(text) == expected
