"""Airflow DAGs for the Zoho <-> CS-Cart sync: one DAG per tenant x entity, generated from include/tenants/.

This file only declares. Everything else lives in the `zoho_cscart_sync` package (plugins/).
Set ZCS_TENANTS_DIR to read tenant files from another folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from zoho_cscart_sync.dag_factory import register_dags

TENANTS_DIR = Path(os.environ.get("ZCS_TENANTS_DIR") or Path(__file__).resolve().parents[1] / "include" / "tenants")

register_dags(globals(), TENANTS_DIR)
