"""Create DAG runs through Airflow's public REST API as the logged-in user (``POST /api/v2/dags/{id}/dagRuns``).

The console forwards the user's own JWT, so the api-server's auth manager decides again, the run is attributed
to the user, and every rule of the REST API (params validation, paused DAGs, ``max_active_runs``) applies. The CLI
(``cli.py retry``) posts the same way with a token it is given, or one :func:`fetch_token` gets for a user name and
password from the api-server's ``POST /auth/token``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx

RUN_NOTE = "Created from the Zoho ⇄ CS-Cart console"
CLI_RUN_NOTE = "Created from the Zoho ⇄ CS-Cart CLI"


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
    note: str = RUN_NOTE

    def trigger(self, dag_id: str, conf: dict[str, Any], token: str) -> str:
        """Create a manual run with ``conf``; returns its run id, raises :class:`TriggerError` when refused."""
        url = f"{self.api_url.rstrip('/')}/api/v2/dags/{quote(dag_id, safe='')}/dagRuns"
        with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
            response = client.post(
                url,
                json={"logical_date": None, "conf": conf, "note": self.note},
                headers={"Authorization": f"Bearer {token}"},
            )
        if response.status_code >= 400:
            raise TriggerError(response.status_code, _detail(response))
        return str(response.json()["dag_run_id"])


def fetch_token(
    api_url: str,
    username: str,
    password: str,
    *,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """A JWT for ``username`` from the api-server's ``POST /auth/token`` (the simple and the FAB auth managers both
    answer it); raises :class:`TriggerError` when refused. Neither the password nor the token is in any error."""
    url = f"{api_url.rstrip('/')}/auth/token"
    with httpx.Client(timeout=timeout, transport=transport) as client:
        response = client.post(url, json={"username": username, "password": password})
    if response.status_code >= 400:
        raise TriggerError(response.status_code, f"login as {username!r} refused: {_detail(response)}")
    try:
        token = response.json()["access_token"]
    except (ValueError, KeyError, TypeError):
        raise TriggerError(response.status_code, f"{url} answered no access_token") from None
    return str(token)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    detail = body.get("detail") if isinstance(body, dict) else body
    return str(detail)[:500]
