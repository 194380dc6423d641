"""Transport layer shared by the Zoho and CS-Cart hooks: errors, retries, pagination, redaction, limits."""

from __future__ import annotations
