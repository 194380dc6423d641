"""Endpoint labels for call counting: ids in a path become ``{id}`` so calls group by endpoint."""

from __future__ import annotations

import re

# Numeric ids (CS-Cart 123, Zoho 5725767000000000001) are the only variable path segments the hooks send.
_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def endpoint_template(path: str) -> str:
    """``/api/users/123`` -> ``/api/users/{id}``; the query string is not part of a path."""
    return _ID_SEGMENT.sub("/{id}", path.split("?", 1)[0])
