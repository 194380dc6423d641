"""Argument checks shared by the store's methods, so a bad call fails before it touches the database."""

from __future__ import annotations

from zoho_cscart_sync.directions import DIRECTIONS


def require_text(value: object, what: str) -> str:
    """``value`` as a non-empty stripped string; ints are accepted because CS-Cart ids arrive as ints."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{what} must be a string, got {type(value).__name__}")
    text = str(value).strip()
    if not text:
        raise ValueError(f"{what} must not be empty")
    return text


def require_direction(direction: str) -> str:
    """One of the two concrete directions (a tenant's ``both`` is split before it reaches the store)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    return direction
