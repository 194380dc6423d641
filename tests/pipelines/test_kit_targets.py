"""Which of a direction's targets a tenant's settings switch on (``TargetSpec.enabled_by`` / ``enabled_when``)."""

from __future__ import annotations

from typing import Any, Literal

from zoho_cscart_sync.directions import Direction
from zoho_cscart_sync.kit.context import EntityRun
from zoho_cscart_sync.kit.spec import DirectionSpec, EntitySettings, StreamSpec, TargetSpec

STREAM = StreamSpec(
    name="orders", system="cscart", resource="orders", id_field="order_id", mapping="m", window="cscart_updated_at"
)
ALWAYS = TargetSpec(name="always", system="zoho_crm", resource="Contacts", match_key=None, write="batch_upsert")
BY_FLAG = TargetSpec(
    name="books_contacts",
    system="zoho_books",
    resource="contacts",
    match_key=None,
    write="find_then_create",
    namespace="books_customers",
    enabled_by="also_to_books",
)
INVENTORY = TargetSpec(
    name="inventory",
    system="zoho_inventory",
    resource="salesorders",
    match_key=None,
    write="find_then_create",
    enabled_when=("sales_orders_in", "inventory"),
)
BOOKS = TargetSpec(
    name="books",
    system="zoho_books",
    resource="salesorders",
    match_key=None,
    write="find_then_create",
    enabled_when=("sales_orders_in", "books"),
)
BOTH = TargetSpec(
    name="both",
    system="zoho_books",
    resource="invoices",
    match_key=None,
    write="find_then_create",
    enabled_by="also_to_books",
    enabled_when=("sales_orders_in", "books"),
)


class Settings(EntitySettings):
    also_to_books: bool = False
    sales_orders_in: Literal["inventory", "books"] = "inventory"


def _targets(**settings: Any) -> list[str]:
    direction = DirectionSpec(
        direction=Direction.CSCART_TO_ZOHO,
        streams=(STREAM,),
        targets=(ALWAYS, BY_FLAG, INVENTORY, BOOKS, BOTH),
        overridable="m",
    )
    run = EntityRun.__new__(EntityRun)
    run.__dict__.update(direction_spec=direction, settings=Settings(**settings))
    return [target.name for target in run.targets()]


def test_enabled_by_is_a_boolean_setting_and_enabled_when_a_setting_value():
    assert _targets() == ["always", "inventory"]
    assert _targets(also_to_books=True) == ["always", "books_contacts", "inventory"]
    assert _targets(sales_orders_in="books") == ["always", "books"]
    # With both conditions, both must hold.
    assert _targets(also_to_books=True, sales_orders_in="books") == ["always", "books_contacts", "books", "both"]


def test_enabled_reads_settings_by_name():
    seen: list[str] = []

    def setting(name: str) -> Any:
        seen.append(name)
        return {"sales_orders_in": "books"}[name]

    assert BOOKS.enabled(setting) and not INVENTORY.enabled(setting) and ALWAYS.enabled(setting)
    assert seen == ["sales_orders_in", "sales_orders_in"]
