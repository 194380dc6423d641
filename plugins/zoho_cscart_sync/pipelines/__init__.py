"""Entity pipelines (extract -> map -> load per direction). Imported inside tasks only, never at parse time."""

from __future__ import annotations
