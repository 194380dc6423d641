"""CS-Cart's duplicate-e-mail refusal stays exact with the sandbox's e-mail index (over HTTP).

The sandbox answers "already exists" from an index of live users by case-folded e-mail instead of scanning
every user per write (a 50,000-customer first sync made the scan quadratic). These tests pin that the index
follows every way a user's e-mail can change: create, update (to another e-mail, to itself in another case,
without the field), delete (created and generated seed users), reset, and lazily generated seed users.
"""

from __future__ import annotations

from typing import Any

from zoho_cscart_sandbox import seed

TAKEN = "already exists"


def _create(cscart_admin: Any, email: str) -> Any:
    return cscart_admin("POST", "/users", json={"email": email, "user_type": "C", "company_id": 0})


def _refused(response: Any) -> bool:
    return response.status_code == 400 and TAKEN in response.json()["message"]


def test_duplicate_email_refused_after_create_update_and_delete(cscart_admin):
    first = _create(cscart_admin, "First.Buyer@Example.com")
    assert first.status_code == 201
    first_id = first.json()["user_id"]
    assert _refused(_create(cscart_admin, "first.buyer@example.COM"))  # case-insensitive
    assert _refused(_create(cscart_admin, "  first.buyer@example.com  "))  # stripped before the check

    # Update to a new e-mail: the new one is taken, the old one is free again.
    moved = cscart_admin("PUT", f"/users/{first_id}", json={"email": "Renamed.Buyer@Example.com"})
    assert moved.status_code == 200
    assert _refused(_create(cscart_admin, "renamed.buyer@example.com"))
    second = _create(cscart_admin, "first.buyer@example.com")
    assert second.status_code == 201
    second_id = second.json()["user_id"]

    # A user may keep (or re-case) its own e-mail, never take another user's.
    assert cscart_admin("PUT", f"/users/{first_id}", json={"email": "RENAMED.buyer@example.com"}).status_code == 200
    assert cscart_admin("GET", f"/users/{first_id}").json()["email"] == "RENAMED.buyer@example.com"
    assert _refused(cscart_admin("PUT", f"/users/{second_id}", json={"email": "renamed.buyer@example.com"}))
    assert _refused(cscart_admin("PUT", f"/users/{second_id}", json={"email": seed.SHARED_CUSTOMER_EMAIL}))
    assert cscart_admin("GET", f"/users/{second_id}").json()["email"] == "first.buyer@example.com"

    # An update without the e-mail field keeps the e-mail taken.
    assert cscart_admin("PUT", f"/users/{first_id}", json={"firstname": "Still"}).status_code == 200
    assert _refused(_create(cscart_admin, "renamed.buyer@example.com"))

    # Delete frees the e-mail (once), for created and for generated seed users alike.
    assert cscart_admin("DELETE", f"/users/{first_id}").status_code == 204
    assert cscart_admin("DELETE", f"/users/{first_id}").status_code == 404
    again = _create(cscart_admin, "renamed.buyer@example.com")
    assert again.status_code == 201
    assert _refused(_create(cscart_admin, "Renamed.Buyer@example.com"))

    seed_user = cscart_admin("GET", "/users/8").json()
    assert seed_user["email"] == "jane.doe@example.com"
    assert _refused(_create(cscart_admin, "Jane.Doe@Example.com"))
    assert cscart_admin("DELETE", "/users/8").status_code == 204
    assert _create(cscart_admin, "Jane.Doe@Example.com").status_code == 201
    assert _refused(_create(cscart_admin, "jane.doe@example.com"))


def test_reset_restores_the_seed_emails_and_frees_created_ones(cscart_admin, sandbox_clean):
    assert _create(cscart_admin, "made.before.reset@example.com").status_code == 201
    assert cscart_admin("PUT", "/users/8", json={"email": "jane.moved@example.com"}).status_code == 200
    assert _create(cscart_admin, "jane.doe@example.com").status_code == 201

    sandbox_clean.reset()
    assert _refused(_create(cscart_admin, "JANE.DOE@example.com"))  # the seed user has its e-mail back
    assert _create(cscart_admin, "jane.moved@example.com").status_code == 201
    assert _create(cscart_admin, "made.before.reset@example.com").status_code == 201
    assert _refused(_create(cscart_admin, "Made.Before.Reset@example.com"))


def test_lazily_generated_users_emails_are_taken(cscart_admin, sandbox_clean):
    sandbox_clean.reset(scale={"cscart_users": 500})
    generated = cscart_admin("GET", "/users/437").json()  # never written: built by the generator on demand
    assert generated["user_id"] == "437" and generated["email"].endswith("@shoppers.example")
    assert _refused(_create(cscart_admin, generated["email"].upper()))
    beyond = _create(cscart_admin, "beyond.the.seed@example.com")
    assert beyond.status_code == 201 and beyond.json()["user_id"] == 501
    assert _refused(cscart_admin("PUT", "/users/437", json={"email": "beyond.the.seed@example.com"}))
    assert cscart_admin("DELETE", "/users/437").status_code == 204
    assert _create(cscart_admin, generated["email"]).status_code == 201
