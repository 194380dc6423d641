"""Hierarchies inside one stream (Zoho CRM accounts and their parents): load order, parents first.

CS-Cart users have no hierarchy, so the hierarchy shows in the *order* of writes: an account's customer is
created only after its parent's, and a contact's user only after its account's customer. Only ids are held
(``{account id: parent id}`` of the accounts a run reads), never records.
"""

from __future__ import annotations

from collections.abc import Mapping

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
