"""Local, faithful Zoho (Accounts, CRM v8, Inventory v1, Books v3) and CS-Cart REST API servers.

The sandbox is what the demo, the integration tests and the benchmarks talk to instead of the real
services: real HTTP on 127.0.0.1, the vendors' limits and traps included, deterministic seed data.
"""

from __future__ import annotations

__all__ = ["SEED_NOW"]

from zoho_cscart_sandbox.clock import SEED_NOW
