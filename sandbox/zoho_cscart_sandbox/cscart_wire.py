"""CS-Cart wire format: PHP-style JSON, the error body, and PHP parse_str body decoding."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi.responses import Response

REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def php_json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """PHP json_encode defaults: non-ASCII as \\uXXXX and slashes escaped as \\/."""
    body = json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def error(status: int, *messages: str, errors: list[str] | None = None) -> Response:
    """Every non-2xx body: message = reason phrase [+ ': ' + messages joined with '. ']."""
    parts = [*messages, *(errors or [])]
    body: dict[str, Any] = {"message": REASONS[status] + (": " + ". ".join(parts) if parts else "")}
    if messages:
        body["messages"] = list(messages)
    if errors:
        body["errors"] = errors
    body["status"] = status
    headers = {"WWW-Authenticate": 'Basic realm="User email/API key"'} if status == 401 else None
    return php_json(body, status, headers)


def php_parse_str(text: str) -> dict[str, Any]:
    """PHP parse_str: `a=1&p[12][amount]=2` -> {"a": "1", "p": {"12": {"amount": "2"}}}."""
    result: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        match = re.match(r"^([^\[]+)((?:\[[^\]]*\])*)$", key)
        if not match:
            continue
        parts = [match.group(1), *re.findall(r"\[([^\]]*)\]", match.group(2))]
        target = result
        for n, part in enumerate(parts):
            last = n == len(parts) - 1
            if part == "":
                part = str(len(target))
            if last:
                target[part] = value
            else:
                existing = target.get(part)
                if not isinstance(existing, dict):
                    existing = {}
                    target[part] = existing
                target = existing
    return result
