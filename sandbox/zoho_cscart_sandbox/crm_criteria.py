"""CRM search criteria: ((Field:operator:value)and(...)), `email`, `phone`, `word`."""

from __future__ import annotations

import re
from typing import Any

from zoho_cscart_sandbox.clock import parse_zoho_datetime
from zoho_cscart_sandbox.crm_base import EMAIL_FIELDS, values_equal
from zoho_cscart_sandbox.lazy import Record

_CONDITION = re.compile(r"\(([A-Za-z0-9_.$]+):([a-z_]+):((?:\\.|[^)\\])*)\)")


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def search_predicate(params: Any) -> Any:
    """A record predicate from `criteria` / `email` / `phone` / `word`, or None if none was given."""
    if params.get("email"):
        email = params["email"]
        return lambda r: any(values_equal(r.get(f), email) for f in EMAIL_FIELDS)
    if params.get("phone"):
        phone = params["phone"]
        return lambda r: any(values_equal(r.get(f), phone) for f in ("Phone", "Mobile", "Home_Phone"))
    if params.get("word"):
        word = params["word"].casefold()
        return lambda r: any(isinstance(v, str) and word in v.casefold() for v in r.values())
    criteria = params.get("criteria")
    if not criteria:
        return None
    return parse_criteria(criteria)


def parse_criteria(text: str) -> Any:
    """((A:equals:x)and(B:starts_with:y)) with and/or; at most 10 conditions (v2 docs)."""
    tokens: list[Any] = []
    position = 0
    while position < len(text):
        match = _CONDITION.match(text, position)
        if match:
            tokens.append(_condition(match.group(1), match.group(2), _unescape(match.group(3))))
            position = match.end()
            continue
        char = text[position]
        if char in "()":
            tokens.append(char)
            position += 1
        elif char.isspace():
            position += 1
        elif text[position : position + 3].lower() == "and":
            tokens.append("and")
            position += 3
        elif text[position : position + 2].lower() == "or":
            tokens.append("or")
            position += 2
        else:
            raise ValueError(f"unexpected {text[position : position + 10]!r}")
    if sum(1 for t in tokens if callable(t)) > 10:
        raise ValueError("more than 10 conditions")
    predicate, rest = _parse_expression(tokens)
    if rest:
        raise ValueError("malformed criteria")
    return predicate


def _parse_expression(tokens: list[Any]) -> tuple[Any, list[Any]]:
    left, tokens = _parse_term(tokens)
    while tokens and tokens[0] in ("and", "or"):
        operator, (right, tokens) = tokens[0], _parse_term(tokens[1:])
        if operator == "and":
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        else:
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
    return left, tokens


def _parse_term(tokens: list[Any]) -> tuple[Any, list[Any]]:
    if not tokens:
        raise ValueError("malformed criteria")
    head = tokens[0]
    if callable(head):
        return head, tokens[1:]
    if head == "(":
        inner, rest = _parse_expression(tokens[1:])
        if not rest or rest[0] != ")":
            raise ValueError("unbalanced parentheses")
        return inner, rest[1:]
    raise ValueError("malformed criteria")


def _condition(field: str, operator: str, value: str) -> Any:
    def get(record: Record) -> Any:
        current: Any = record
        for part in field.split("."):
            current = current.get(part) if isinstance(current, dict) else None
        return current

    def as_number_or_time(v: Any) -> Any:
        if isinstance(v, (int, float)):
            return v
        if isinstance(v, str):
            parsed = parse_zoho_datetime(v) if "T" in v or "-" in v[:5] else None
            if parsed is not None:
                return parsed
            try:
                return float(v)
            except ValueError:
                return v
        return v

    if operator == "equals":
        return lambda r: values_equal(get(r), value)
    if operator == "not_equal":
        return lambda r: not values_equal(get(r), value)
    if operator == "starts_with":
        return lambda r: isinstance(get(r), str) and get(r).casefold().startswith(value.casefold())
    if operator == "in":
        options = [v.strip() for v in value.split(",")]
        return lambda r: any(values_equal(get(r), o) for o in options)
    if operator == "between":
        low, _, high = value.partition(",")
        return lambda r: (
            get(r) is not None and as_number_or_time(low) <= as_number_or_time(get(r)) <= as_number_or_time(high)
        )
    comparisons = {
        "greater_than": lambda a, b: a > b,
        "greater_equal": lambda a, b: a >= b,
        "less_than": lambda a, b: a < b,
        "less_equal": lambda a, b: a <= b,
    }
    if operator in comparisons:
        compare = comparisons[operator]
        return lambda r: get(r) is not None and compare(as_number_or_time(get(r)), as_number_or_time(value))
    raise ValueError(f"unsupported operator {operator}")
