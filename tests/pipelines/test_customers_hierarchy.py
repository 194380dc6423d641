"""Parents-first ordering of Zoho account hierarchies, and which account a contact waits for."""

from __future__ import annotations

from zoho_cscart_sync.kit.hierarchy import CYCLE, account_depths
from zoho_cscart_sync.pipelines.customers import contact_anchor


def test_three_levels_and_a_deeper_chain_load_parents_first():
    parents = {"root": None, "mid": "root", "leaf": "mid", "deep": "leaf", "other": None}
    assert account_depths(parents) == {"root": 0, "mid": 1, "leaf": 2, "deep": 3, "other": 0}


def test_order_of_the_input_does_not_matter():
    parents = {"deep": "leaf", "leaf": "mid", "mid": "root", "root": None}
    assert account_depths(parents) == {"root": 0, "mid": 1, "leaf": 2, "deep": 3}


def test_a_parent_outside_the_set_counts_as_a_root_of_the_set():
    # The load checks that the outside parent is already in CS-Cart before it loads the child.
    assert account_depths({"child": "imported-earlier", "grandchild": "child"}) == {"child": 0, "grandchild": 1}


def test_cycles_are_marked_not_looped_over():
    depths = account_depths({"a": "b", "b": "a", "c": None, "d": "a"})
    assert depths["a"] == depths["b"] == depths["d"] == CYCLE
    assert depths["c"] == 0


def test_contact_anchor_is_the_own_account_when_sub_accounts_are_imported():
    parents = {"root": None, "sub": "root"}
    assert contact_anchor("sub", parents, import_sub_accounts=True) == "sub"


def test_contact_anchor_folds_sub_accounts_into_the_root_when_they_are_not_imported():
    parents = {"root": None, "mid": "root", "leaf": "mid"}
    assert contact_anchor("leaf", parents, import_sub_accounts=False) == "root"
    # An ancestor already imported (e.g. a former root) is as far as it needs to go.
    assert contact_anchor("leaf", parents, import_sub_accounts=False, imported={"mid"}) == "mid"
    # Unknown chain: the account itself.
    assert contact_anchor("unknown", parents, import_sub_accounts=False) == "unknown"
    # A cycle ends instead of looping.
    assert contact_anchor("a", {"a": "b", "b": "a"}, import_sub_accounts=False) in {"a", "b"}
