"""Helpers for the sync-engine tests: a tiny CS-Cart users writer over HTTP, and record factories.

The writer talks to the sandbox's CS-Cart REST API with ``requests`` (the production writers wrap the hooks);
it exists so that the load loop is exercised against a real HTTP target, not an in-process double.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from zoho_cscart_sync.state import RecordLink, StateStore
from zoho_cscart_sync.sync.records import MappedRecord
from zoho_cscart_sync.sync.writer import RecordRejected

_REQUIRED_FIELD = re.compile(r"The (\w+) field")


@dataclass(frozen=True)
class StateLocation:
    """Where a test's state store lives, so that another process can open the same one."""

    url: str
    schema: str | None = None

    def open(self) -> StateStore:
        return StateStore.from_url(self.url, schema=self.schema)


class CsCartUsersWriter:
    """TargetWriter for CS-Cart customers (``/api/users``), matched on e-mail."""

    label = "cscart /api/users"

    def __init__(self, base_url: str, email: str, api_key: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.auth = (email, api_key)

    def find_by_natural_key(self, key_kind: str, key_value: str) -> str | None:
        assert key_kind == "email"
        response = self.session.get(
            f"{self.base_url}/api/users",
            params={"user_type": "C", "email": key_value, "items_per_page": "100"},
            timeout=10,
        )
        response.raise_for_status()
        # CS-Cart's e-mail filter is LIKE %...%: only an exact (case-insensitive) match is the same customer.
        matches = [u["user_id"] for u in response.json()["users"] if u["email"].casefold() == key_value.casefold()]
        if len(matches) > 1:
            raise RecordRejected(f"{len(matches)} CS-Cart customers have e-mail {key_value!r}", field="email")
        return str(matches[0]) if matches else None

    def create(self, payload: Mapping[str, Any]) -> str:
        response = self.session.post(f"{self.base_url}/api/users", json=dict(payload), timeout=10)
        self._reject_client_errors(response)
        return str(response.json()["user_id"])

    def update(self, target_id: str, payload: Mapping[str, Any]) -> None:
        response = self.session.put(f"{self.base_url}/api/users/{target_id}", json=dict(payload), timeout=10)
        self._reject_client_errors(response)

    @staticmethod
    def _reject_client_errors(response: requests.Response) -> None:
        if response.status_code in (400, 404):
            message = str(response.json().get("message", response.reason))
            field = _REQUIRED_FIELD.search(message)
            raise RecordRejected(f"CS-Cart answered {response.status_code}: {message}", field=field and field[1])
        response.raise_for_status()

    def get_user(self, user_id: str) -> dict[str, Any]:
        response = self.session.get(f"{self.base_url}/api/users/{user_id}", timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def users_with_email(self, email: str) -> list[dict[str, Any]]:
        response = self.session.get(
            f"{self.base_url}/api/users",
            params={"user_type": "C", "email": email, "items_per_page": "100"},
            timeout=10,
        )
        response.raise_for_status()
        return [u for u in response.json()["users"] if u["email"].casefold() == email.casefold()]


def linked(state: StateStore, tenant: str, *, zoho_id: str) -> RecordLink:
    """The link of a Zoho record, which the test expects to exist."""
    link = state.get_link(tenant, "customers", zoho_id=zoho_id)
    assert link is not None, f"no link for Zoho record {zoho_id}"
    return link


def customer(index: int, *, prefix: str = "load", firstname: str | None = None, **overrides: Any) -> MappedRecord:
    """A mapped Zoho contact bound for CS-Cart (source id = a Zoho-style id)."""
    email = f"{prefix}.customer{index}@example.test"
    payload: dict[str, Any] = {
        "email": email,
        "user_type": "C",
        "company_id": "0",
        "firstname": firstname or f"First{index}",
        "lastname": f"Last{index}",
        "phone": f"+1 555 01{index:02d}",
    }
    payload.update(overrides)
    return MappedRecord(source_id=f"5725767000000{index:06d}", payload=payload, natural_keys={"email": email})
