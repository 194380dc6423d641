"""Who is looking, and what Airflow's auth manager lets them do with a tenant's DAG.

The console never decides permissions itself: it reads the user from the same JWT the Airflow UI uses (the
``_token`` cookie, or an ``Authorization: Bearer`` header) and asks the configured auth manager
(``is_authorized_dag``): GET on the DAG to see a tenant's data, POST on its DAG runs to trigger, retry or reset.
The run itself is then created by Airflow's REST API with that same token, so the auth manager decides twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import HTTPException, Request

COOKIE_NAME = "_token"
"""Airflow's JWT cookie (``airflow.api_fastapi.auth.managers.base_auth_manager.COOKIE_NAME_JWT_TOKEN``)."""


@dataclass(frozen=True)
class Caller:
    """The logged-in user and the token that proves it (forwarded to Airflow's REST API, never shown)."""

    user: Any
    token: str

    @property
    def name(self) -> str:
        getter = getattr(self.user, "get_name", None)
        return str(getter()) if callable(getter) else str(self.user)


class Access(Protocol):
    """What the app needs from authentication and authorisation."""

    async def caller(self, request: Request) -> Caller: ...
    def can_view(self, caller: Caller, dag_id: str) -> bool: ...
    def can_trigger(self, caller: Caller, dag_id: str) -> bool: ...
    def login_url(self, next_url: str) -> str | None: ...


def request_token(request: Request) -> str | None:
    """The bearer token if one is sent, else the Airflow UI's cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE_NAME) or None


class AirflowAccess:
    """The running api-server's auth manager (``get_auth_manager()``), or one given (tests)."""

    def __init__(self, auth_manager: Any | None = None) -> None:
        self._auth_manager = auth_manager

    @property
    def auth_manager(self) -> Any:
        if self._auth_manager is None:
            from airflow.api_fastapi.app import get_auth_manager

            return get_auth_manager()
        return self._auth_manager

    async def caller(self, request: Request) -> Caller:
        from jwt import ExpiredSignatureError, InvalidTokenError

        token = request_token(request)
        if not token:
            raise HTTPException(status_code=401, detail="Not authenticated: log in to Airflow first")
        try:
            user = await self.auth_manager.get_user_from_token(token)
        except ExpiredSignatureError:
            raise HTTPException(status_code=401, detail="Token expired: log in to Airflow again") from None
        except InvalidTokenError:
            raise HTTPException(status_code=403, detail="Invalid token") from None
        return Caller(user, token)

    def _dag(self, caller: Caller, dag_id: str, method: str, entity: Any) -> bool:
        from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

        return bool(
            self.auth_manager.is_authorized_dag(
                method=method, access_entity=entity, details=DagDetails(id=dag_id), user=caller.user
            )
        )

    def can_view(self, caller: Caller, dag_id: str) -> bool:
        return self._dag(caller, dag_id, "GET", None)

    def can_trigger(self, caller: Caller, dag_id: str) -> bool:
        from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity

        return self._dag(caller, dag_id, "POST", DagAccessEntity.RUN)

    def login_url(self, next_url: str) -> str | None:
        try:
            return str(self.auth_manager.get_url_login(next_url=next_url))
        except Exception:  # noqa: BLE001 - a login link is a convenience; the 401 text says what to do
            return None
