"""Content hashes: stable across key order and formatting, sensitive to any value change."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from zoho_cscart_sync.sync.hashing import canonical_json, content_hash


def test_key_order_does_not_change_the_hash() -> None:
    one = {"email": "a@b.c", "address": {"city": "Boston", "zip": "02134"}, "tags": ["x", "y"]}
    other = {"tags": ["x", "y"], "address": {"zip": "02134", "city": "Boston"}, "email": "a@b.c"}
    assert content_hash(one) == content_hash(other)
    assert canonical_json(one) == '{"address":{"city":"Boston","zip":"02134"},"email":"a@b.c","tags":["x","y"]}'


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param({"email": "A@b.c"}, id="case"),
        pytest.param({"email": "a@b.c "}, id="whitespace"),
        pytest.param({"email": "a@b.c", "phone": None}, id="added-null"),
        pytest.param({"email": "a@b.c", "tags": ["y", "x"]}, id="list-order"),
    ],
)
def test_any_content_change_changes_the_hash(changed: dict[str, object]) -> None:
    assert content_hash({"email": "a@b.c", "tags": ["x", "y"]} if "tags" in changed else {"email": "a@b.c"}) != (
        content_hash(changed)
    )


def test_hash_format_and_non_json_values() -> None:
    value = {
        "price": decimal.Decimal("10.50"),
        "at": dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc),
        "name": "Zoë",
        "ids": {3, 1, 2},
    }
    digest = content_hash(value)
    assert digest.startswith("sha256:")
    assert len(digest) == len("sha256:") + 64
    assert canonical_json(value) == '{"at":"2026-11-23T09:00:00+00:00","ids":[1,2,3],"name":"Zoë","price":"10.50"}'
    with pytest.raises(TypeError, match="cannot hash a value of type object"):
        content_hash({"x": object()})
