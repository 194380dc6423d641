"""Zoho CRM account hierarchies: load order (parents first, at any depth) and who a contact belongs to.

CS-Cart users have no hierarchy, so the hierarchy shows in the *order* of writes: an account's customer is
created only after its parent's, and a contact's user only after its account's customer. Only ids are held
(``{account id: parent id}`` of the accounts a run reads), never records.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

CYCLE = -1
"""Depth given to accounts whose parent chain loops back on itself (Zoho should prevent it; never trust it)."""


def account_depths(parents: Mapping[str, str | None]) -> dict[str, int]:
    """Depth of every account of ``parents`` within that set.

    0: no parent, or a parent outside the set (already imported, or missing: the load checks which).
    n: the parent has depth n - 1. Accounts on a cycle get :data:`CYCLE`.
    """
    depths: dict[str, int] = {}
    for start in parents:
        chain: list[str] = []
        on_chain: set[str] = set()
        current: str | None = start
        base = 0
        while current is not None and current in parents and current not in depths:
            if current in on_chain:
                base = CYCLE
                break
            chain.append(current)
            on_chain.add(current)
            current = parents[current]
        if base != CYCLE and current is not None and current in depths:
            base = depths[current] + 1 if depths[current] != CYCLE else CYCLE
        # Assign from the top of the chain down: the last element is the one nearest the root.
        for offset, account in enumerate(reversed(chain)):
            depths[account] = CYCLE if base == CYCLE else base + offset
    return depths


def contact_anchor(
    account_id: str,
    parents: Mapping[str, str | None],
    *,
    import_sub_accounts: bool,
    imported: Collection[str] = (),
) -> str:
    """The account whose CS-Cart customer must exist before a contact of ``account_id`` is loaded.

    With ``import_sub_accounts`` that is the contact's own account. Without (the vendor seed: sub-accounts
    are shown, not imported on their own) a sub-account folds into its nearest imported ancestor, else its
    root account.
    """
    if import_sub_accounts:
        return account_id
    current = account_id
    seen: set[str] = set()
    while current not in imported and parents.get(current) is not None and current not in seen:
        seen.add(current)
        parent = parents[current]
        assert parent is not None
        current = parent
    return current
