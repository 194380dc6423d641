"""Airflow hooks for Zoho (CRM / Inventory / Books) and CS-Cart; import the submodules (they pull in requests)."""

from __future__ import annotations
