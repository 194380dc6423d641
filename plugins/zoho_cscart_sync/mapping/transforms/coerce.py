"""Type coercions between CS-Cart's all-strings JSON and Zoho's typed JSON."""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pydantic import Field

from zoho_cscart_sync.mapping.errors import TransformError
from zoho_cscart_sync.mapping.transforms.base import NoArgs, TransformArgs, TransformContext, is_empty

_TRUE_WORDS = frozenset({"y", "yes", "true", "1"})
_FALSE_WORDS = frozenset({"n", "no", "false", "0"})


def _as_bool(value: Any, transform: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise TransformError(f"{transform} cannot read {value!r} as a yes/no value (Y, N, true, false, 1, 0)")


def bool_to_yn(value: Any, args: NoArgs, ctx: TransformContext) -> Any:
    """``True``/``"true"``/``1`` -> ``"Y"``; false-ish -> ``"N"`` (CS-Cart flags)."""
    if is_empty(value):
        return None
    return "Y" if _as_bool(value, "bool_to_yn") else "N"


def yn_to_bool(value: Any, args: NoArgs, ctx: TransformContext) -> Any:
    """CS-Cart ``"Y"``/``"N"`` -> ``True``/``False``."""
    if is_empty(value):
        return None
    return _as_bool(value, "yn_to_bool")


def _as_decimal(value: Any, transform: str) -> Decimal:
    if isinstance(value, bool):
        raise TransformError(f"{transform} expects a number, got bool")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TransformError(f"{transform} expects a finite number, got {value!r}")
        value = repr(value)  # the shortest round-tripping text, so 0.1 stays 0.1
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise TransformError(f"{transform} cannot read {value!r} as a number") from exc
    if not number.is_finite():
        raise TransformError(f"{transform} expects a finite number, got {value!r}")
    return number


class DecimalToStrArgs(TransformArgs):
    places: int = Field(default=2, ge=0, le=6)


def decimal_to_str(value: Any, args: DecimalToStrArgs, ctx: TransformContext) -> Any:
    """Number -> fixed-point string with ``places`` decimals, half-up (``12.5`` -> ``"12.50"``)."""
    if is_empty(value):
        return None
    number = _as_decimal(value, "decimal_to_str")
    quantum = Decimal(1).scaleb(-args.places)
    return str(number.quantize(quantum, rounding=ROUND_HALF_UP))


def to_float(value: Any, args: NoArgs, ctx: TransformContext) -> Any:
    """``"30.00"`` -> ``30.0``; blank -> ``None``."""
    if is_empty(value):
        return None
    return float(_as_decimal(value, "to_float"))


def to_int(value: Any, args: NoArgs, ctx: TransformContext) -> Any:
    """``"10"`` / ``10.000000`` -> ``10``; a fractional value is an error, never silently truncated."""
    if is_empty(value):
        return None
    number = _as_decimal(value, "to_int")
    if number != number.to_integral_value():
        raise TransformError(f"to_int refuses to truncate the fractional value {value!r}")
    return int(number)


def floor_int(value: Any, args: NoArgs, ctx: TransformContext) -> Any:
    """``"2.75"`` -> ``2``, ``-1.5`` -> ``-2``: rounds down, for stock kept in whole units (CS-Cart ``amount``).

    Rounding down never promises a customer stock that is not there.
    """
    if is_empty(value):
        return None
    number = _as_decimal(value, "floor_int")
    return int(number.to_integral_value(rounding=ROUND_FLOOR))


def split_csv(value: Any, args: NoArgs, ctx: TransformContext) -> Any:
    """CS-Cart comma lists (``"6,7"``) -> ``["6", "7"]``; lists pass through as strings."""
    if is_empty(value):
        return None
    if isinstance(value, list):
        return [str(item).strip() for item in value if not is_empty(item)]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def join_csv(value: Any, args: NoArgs, ctx: TransformContext) -> Any:
    """``[6, 7]`` -> ``"6,7"``; a string passes through."""
    if is_empty(value):
        return None
    if isinstance(value, (list, tuple)):
        return ",".join(str(item).strip() for item in value if not is_empty(item)) or None
    return str(value)
