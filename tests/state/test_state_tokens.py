"""Token cache and mint log (the hooks encrypt; the store keeps the ciphertext opaque)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from zoho_cscart_sync.state import CachedToken, StateStore

MINTED = datetime(2026, 3, 1, 11, 0, tzinfo=timezone.utc)


def _token(ciphertext: str = "gAAAAB-ciphertext-1", minted_at: datetime = MINTED) -> CachedToken:
    return CachedToken(
        access_token_ciphertext=ciphertext,
        api_domain="https://www.zohoapis.eu",
        expires_at=minted_at + timedelta(hours=1),
        minted_at=minted_at,
    )


def test_missing_token_is_none(store: StateStore) -> None:
    assert store.get_token("zoho:acme_store") is None


def test_put_then_get_round_trips_every_field(store: StateStore) -> None:
    store.put_token("zoho:acme_store", _token())
    assert store.get_token("zoho:acme_store") == _token()


def test_put_replaces_the_previous_token(store: StateStore) -> None:
    store.put_token("zoho:acme_store", _token())
    newer = _token("gAAAAB-ciphertext-2", MINTED + timedelta(minutes=55))
    store.put_token("zoho:acme_store", newer)
    assert store.get_token("zoho:acme_store") == newer


def test_tokens_are_kept_per_cache_key(store: StateStore) -> None:
    store.put_token("zoho:acme_store", _token("a"))
    store.put_token("zoho:northwind_vendor", _token("b"))
    acme = store.get_token("zoho:acme_store")
    northwind = store.get_token("zoho:northwind_vendor")
    assert acme is not None
    assert northwind is not None
    assert (acme.access_token_ciphertext, northwind.access_token_ciphertext) == ("a", "b")


def test_delete_token(store: StateStore) -> None:
    store.put_token("zoho:acme_store", _token())
    store.delete_token("zoho:acme_store")
    assert store.get_token("zoho:acme_store") is None
    store.delete_token("zoho:acme_store")  # deleting nothing is not an error


def test_token_from_another_zone_comes_back_in_utc(store: StateStore) -> None:
    pacific = timezone(timedelta(hours=-8))
    store.put_token("k", _token(minted_at=MINTED.astimezone(pacific)))
    cached = store.get_token("k")
    assert cached is not None
    assert cached.minted_at == MINTED
    assert cached.minted_at.tzinfo == timezone.utc


def test_naive_expiry_is_refused(store: StateStore) -> None:
    naive = CachedToken("c", "https://www.zohoapis.com", datetime(2026, 3, 1), MINTED)
    with pytest.raises(ValueError, match="expires_at must be timezone-aware"):
        store.put_token("k", naive)


def test_ciphertext_is_not_in_the_repr() -> None:
    assert "SECRET-ish" not in repr(_token("SECRET-ish"))


def test_mints_are_counted_from_a_point_in_time(store: StateStore) -> None:
    for minutes in (0, 3, 9, 12):
        store.record_token_mint("zoho:acme_store", MINTED + timedelta(minutes=minutes))
    store.record_token_mint("zoho:northwind_vendor", MINTED + timedelta(minutes=12))

    assert store.token_mints_since("zoho:acme_store", MINTED + timedelta(minutes=2)) == 3
    # The boundary is inclusive: a mint exactly at `since` counts.
    assert store.token_mints_since("zoho:acme_store", MINTED + timedelta(minutes=9)) == 2
    assert store.token_mints_since("zoho:acme_store", MINTED + timedelta(minutes=13)) == 0
    assert store.token_mints_since("zoho:unknown", MINTED) == 0


def test_mint_history_older_than_a_day_is_pruned(store: StateStore) -> None:
    store.record_token_mint("k", MINTED)
    store.record_token_mint("k", MINTED + timedelta(hours=23))
    assert store.token_mints_since("k", MINTED - timedelta(days=30)) == 2
    store.record_token_mint("k", MINTED + timedelta(hours=25))
    assert store.token_mints_since("k", MINTED - timedelta(days=30)) == 2
