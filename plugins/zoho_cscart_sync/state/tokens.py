"""Token cache rows and the log of token mints (Zoho allows only a few mints per refresh token per window)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoho_cscart_sync.state.engine import upsert_insert
from zoho_cscart_sync.state.models import CachedToken
from zoho_cscart_sync.state.tables import token_cache, token_mints

# Mint history older than this is pruned; Zoho's limits look back 10 minutes, a day leaves room for audit.
MINT_HISTORY = timedelta(days=1)


def get_token(connection: Connection, cache_key: str) -> CachedToken | None:
    """The cached token for ``cache_key``, expired or not (the caller decides what is fresh enough)."""
    row = connection.execute(
        sa.select(
            token_cache.c.access_token_ciphertext,
            token_cache.c.api_domain,
            token_cache.c.expires_at,
            token_cache.c.minted_at,
        ).where(token_cache.c.cache_key == cache_key)
    ).one_or_none()
    if row is None:
        return None
    return CachedToken(
        access_token_ciphertext=row.access_token_ciphertext,
        api_domain=row.api_domain,
        expires_at=row.expires_at,
        minted_at=row.minted_at,
    )


def put_token(connection: Connection, cache_key: str, token: CachedToken, now: datetime) -> None:
    """Insert or replace the cached token for ``cache_key``."""
    values = {
        "access_token_ciphertext": token.access_token_ciphertext,
        "api_domain": token.api_domain,
        "expires_at": token.expires_at,
        "minted_at": token.minted_at,
        "updated_at": now,
    }
    insert = upsert_insert(connection, token_cache).values(cache_key=cache_key, **values)
    connection.execute(insert.on_conflict_do_update(index_elements=[token_cache.c.cache_key], set_=values))


def delete_token(connection: Connection, cache_key: str) -> None:
    """Drop the cached token (e.g. after Zoho rejected it)."""
    connection.execute(sa.delete(token_cache).where(token_cache.c.cache_key == cache_key))


def record_token_mint(connection: Connection, cache_key: str, minted_at: datetime) -> None:
    """Log one mint and prune this key's history older than MINT_HISTORY before ``minted_at``."""
    connection.execute(token_mints.insert().values(cache_key=cache_key, minted_at=minted_at))
    connection.execute(
        sa.delete(token_mints).where(
            token_mints.c.cache_key == cache_key, token_mints.c.minted_at < minted_at - MINT_HISTORY
        )
    )


def token_mints_since(connection: Connection, cache_key: str, since: datetime) -> int:
    """How many mints were recorded for ``cache_key`` at or after ``since``."""
    count: int = connection.execute(
        sa.select(sa.func.count())
        .select_from(token_mints)
        .where(token_mints.c.cache_key == cache_key, token_mints.c.minted_at >= since)
    ).scalar_one()
    return count
