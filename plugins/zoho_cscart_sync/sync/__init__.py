"""The sync engine shared by every entity pipeline: staging, run reports and the idempotent load loop.

Submodules are imported explicitly (``from zoho_cscart_sync.sync.load import load_records``) so that importing
this package stays free of Airflow and SQLAlchemy.
"""

from __future__ import annotations
