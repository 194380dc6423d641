"""Create DAG runs through Airflow's public REST API as the logged-in user (``POST /api/v2/dags/{id}/dagRuns``).

The console forwards the user's own JWT, so the api-server's auth manager decides again, the run is attributed
to the user, and every rule of the REST API (params validation, paused DAGs, ``max_active_runs``) applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx

RUN_NOTE = "Created from the Zoho ⇄ CS-Cart console"


class TriggerError(Exception):
    """The REST API refused the run; ``status`` is its HTTP status (403: the auth manager said no)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class RunTrigger(Protocol):
    def trigger(self, dag_id: str, conf: dict[str, Any], token: str) -> str: ...


@dataclass
class RestRunTrigger:
    """Posts to ``<api_url>/api/v2/dags/{dag_id}/dagRuns``; ``transport`` lets tests answer in-process."""

    api_url: str
    timeout: float = 30.0
    transport: httpx.BaseTransport | None = None

    def trigger(self, dag_id: str, conf: dict[str, Any], token: str) -> str:
        """Create a manual run with ``conf``; returns its run id, raises :class:`TriggerError` when refused."""
        url = f"{self.api_url.rstrip('/')}/api/v2/dags/{quote(dag_id, safe='')}/dagRuns"
        with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
            response = client.post(
                url,
                json={"logical_date": None, "conf": conf, "note": RUN_NOTE},
                headers={"Authorization": f"Bearer {token}"},
            )
        if response.status_code >= 400:
            raise TriggerError(response.status_code, _detail(response))
        return str(response.json()["dag_run_id"])


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    detail = body.get("detail") if isinstance(body, dict) else body
    return str(detail)[:500]
