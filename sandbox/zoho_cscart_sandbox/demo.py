"""`make demo`: show the sample tenants and run every generated DAG once against the local sandbox.

Until an entity pipeline exists there is nothing to run for it; the demo then lists the tenants and what
will be generated for them instead of pretending to sync.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TENANTS_DIR = REPO_ROOT / "include" / "tenants"


def main() -> int:
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO_ROOT / "dags"))
    from zoho_cscart_sync.dag_factory import describe_tenants
    from zoho_cscart_sync.pipeline import PIPELINES

    print(f"Tenants in {TENANTS_DIR.relative_to(REPO_ROOT)}:\n")
    print(describe_tenants(TENANTS_DIR))
    if not PIPELINES:
        print("\nNo entity pipeline is built yet, so no DAG is generated and there is nothing to sync.")
        return 0
    raise SystemExit("entity pipelines exist: the demo sync runner must be wired in (see README)")


if __name__ == "__main__":
    sys.exit(main())
