"""What an entity declares: its source streams, its targets, what its records require, and its settings.

An :class:`EntitySpec` is data. The runner (``kit/runner.py``) reads it to extract, map, gate, load, report
and advance watermarks; the few things no declaration can say (Zoho account hierarchies folding into their
root, CRM Leads for non-buyers, how a CS-Cart row looks after a PUT) are the entity's *quirks*
(``kit/quirks.py``), kept next to its spec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from zoho_cscart_sync.directions import Direction

SourceSystem = Literal["zoho_crm", "zoho_inventory", "zoho_books", "cscart"]

WindowStrategy = Literal[
    "crm_coql", "crm_list", "full_scan", "finance_modified", "cscart_newest_first", "cscart_updated_at"
]
"""How a stream reads "modified in the window":

* ``crm_coql``: keyset COQL on (Modified_Time, id), 2,000 rows a call, no 2,000-record wall;
* ``crm_list``: list API sorted by Modified_Time with If-Modified-Since (for lookups COQL returns bare);
* ``full_scan``: the API has no modified filter (CS-Cart users): every page, compared by content hash;
* ``finance_modified``: Zoho Inventory / Books lists filtered by ``last_modified_time`` (200 a page);
* ``cscart_newest_first``: CS-Cart list sorted by ``updated_timestamp`` descending, read until a page reaches
  the window's start (CS-Cart products): an idle run costs one call whatever the catalogue size;
* ``cscart_updated_at``: CS-Cart's own ``updated_at_from`` / ``updated_at_to`` filter (orders): the server
  selects the window, so an idle run costs one call.
"""

ByIdsStrategy = Literal["coql_in", "get_each"]
"""How a stream fetches given ids: COQL ``id in (...)`` 50 at a time, or one GET per id (full records)."""

WriteStrategy = Literal["batch_upsert", "create_then_adopt", "find_then_create"]
"""How a record not linked yet reaches the target without ever being created twice:

* ``batch_upsert``: the target matches on the natural key itself (Zoho CRM ``/upsert``, 100 a call);
* ``create_then_adopt``: create first; the target refuses a duplicate natural key, and only then is the
  existing record looked up and adopted (CS-Cart users: e-mail is unique). An interrupted or ambiguous create
  is looked up before it is tried again;
* ``find_then_create``: look up by natural key, then create (Zoho Books, Inventory: no upsert, no uniqueness).
"""


class EntitySettings(BaseModel):
    """Base of an entity's typed settings (``entities.<entity>.settings`` in the tenant file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Requirement:
    """A record that must exist in the target before this stream's record is written.

    ``field`` is the source field holding the required record's id (a CRM lookup ``{"id": ...}`` or a bare
    id). ``stream`` names the stream of the same entity that provides it: a required record neither in the
    run nor linked yet is fetched by id from that stream, up the chain. A requirement into the record's own
    stream is a hierarchy: parents are loaded first, level by level, at any depth; cycles wait. ``entity``
    instead names another entity's ID map (orders require products): such records are never fetched here,
    they wait in quarantine until that entity's sync links them.
    """

    field: str
    label: str
    stream: str | None = None
    entity: str | None = None


def _setting_matches(condition: tuple[str, object] | None, setting: Callable[[str], Any]) -> bool:
    """``enabled_when`` of a stream or a target: the setting has the value, or one of a tuple of values."""
    if condition is None:
        return True
    name, wanted = condition
    value = setting(name)
    return value in wanted if isinstance(wanted, tuple) else bool(value == wanted)


@dataclass(frozen=True)
class StreamSpec:
    """One kind of source record of a direction (CRM Accounts, CRM Contacts, CS-Cart users...)."""

    name: str
    system: SourceSystem
    resource: str
    id_field: str
    mapping: str
    """Mapping variant (``include/mappings/<entity>/<direction>/<variant>.yaml``)."""
    window: WindowStrategy
    by_ids: ByIdsStrategy = "get_each"
    requires: Requirement | None = None
    deleted_feed: bool = False
    """The source has a deleted-records feed for this stream (CRM ``/<module>/deleted``)."""
    flags: tuple[str, ...] = ()
    """Flags stored on the link of every record of the stream (e.g. ``crm_account``)."""
    list_params: Mapping[str, Any] = field(default_factory=dict)
    """Fixed list parameters (``user_type=C``); also checked on records fetched by id."""
    read_params: Mapping[str, Any] = field(default_factory=dict)
    """List parameters that shape the answer, not the selection (``get_features=0``): sent, never checked."""
    extra_fields: tuple[str, ...] = ()
    """Source fields read besides the mapping's own (the requirement's field is added automatically)."""
    full_records: bool = False
    """List rows lack fields the mapping needs (Zoho sales orders: no line items; CRM ``Sales_Orders``: COQL cannot
    select them, so a CRM window lists ids only): each listed record is read whole by id (one call per record in
    the window), unless its list row already decides it is skipped (``EntityQuirks.listed_skip``)."""
    list_fields: tuple[str, ...] = ()
    """A ``full_records`` CRM stream: fields its window's COQL selects besides the id, for ``listed_skip`` to
    decide on (CRM sales orders: ``Status``, ``Subject``)."""
    enabled_when: tuple[str, object] | None = None
    """``(setting name, value or tuple of values)``: the stream is read only when the setting has (one of) that
    value (``("sales_orders_in", "books")``: one of several sources chosen by a setting); None: always read."""

    def enabled(self, setting: Callable[[str], Any]) -> bool:
        """Whether the tenant's settings (``setting(name)`` -> value) switch this stream on."""
        return _setting_matches(self.enabled_when, setting)


@dataclass(frozen=True)
class TargetSpec:
    """Where a direction writes, and how a record not linked yet is matched there."""

    name: str
    system: SourceSystem
    resource: str
    match_key: str | None
    write: WriteStrategy
    namespace: str | None = None
    """ID-map entity of this target's links when it is a second home of the same source record (Books
    beside CRM: a customer has one CRM and one Books twin). None: the entity itself."""
    mapping: str | None = None
    """A mapping of its own for this target; None: the stream's mapping (or the quirk's route)."""
    enabled_by: str | None = None
    """Name of a boolean setting that switches this target on (``also_to_books``); None: always on."""
    enabled_when: tuple[str, object] | None = None
    """``(setting name, value or tuple of values)``: the target is on when that setting has (one of) that value
    (``("sales_orders_in", "books")``: one of several targets chosen by a setting); None: no such condition. With
    ``enabled_by`` too, both must hold."""
    report_prefix: str | None = None
    """Counters of a second target appear in the direction's report as ``<prefix>_<counter>``."""
    call_budget: str | None = None
    """Name of the setting holding the most write calls one run may spend on this target (None: no limit).
    A target slower than the hour (Zoho Inventory: ~100 requests a minute, no bulk create) then works through
    a backlog run by run: what is left is counted as ``deferred`` and the watermark waits for it."""
    reader_mapping: str | None = None
    """The opposite direction's mapping variant that reads this target's records back (two-way entities):
    echo hashes and conflicts are computed with it. None: the opposite direction never reads this target."""

    def enabled(self, setting: Callable[[str], Any]) -> bool:
        """Whether the tenant's settings (``setting(name)`` -> value) switch this target on."""
        if self.enabled_by is not None and not bool(setting(self.enabled_by)):
            return False
        return _setting_matches(self.enabled_when, setting)


@dataclass(frozen=True)
class DirectionSpec:
    """One direction of an entity: the streams it reads, in load order, and the targets it writes."""

    direction: Direction
    streams: tuple[StreamSpec, ...]
    targets: tuple[TargetSpec, ...]
    overridable: str
    """The mapping variant a tenant's ``mapping_overrides.<entity>.<direction>`` applies to."""
    delete_policy: str | None = None
    """Name of the setting (``deactivate`` / ``ignore``) applied to records the source's deleted feed reports."""

    def stream(self, name: str) -> StreamSpec:
        for stream in self.streams:
            if stream.name == name:
                return stream
        raise KeyError(f"{self.direction}: no stream {name!r} (streams: {[s.name for s in self.streams]})")


@dataclass(frozen=True)
class CountsSpec:
    """The entity's dashboard counts (the seeds' six tiles, see the README's "Dashboard counts").

    ``cscart_stream`` names the CS-Cart -> Zoho stream whose list, in the tenant's scope, is the CS-Cart total
    (its ``params.total_items``: taken from the page that direction reads anyway, else one call of one row).
    ``zoho_streams`` name the Zoho -> CS-Cart streams whose records make the Zoho total, counted when that
    direction reads them in full. Everything else comes from the entity's links in the state store.
    """

    cscart_stream: str
    zoho_streams: tuple[str, ...]


@dataclass(frozen=True)
class EntitySpec:
    """An entity: its directions and its settings model. The quirks are named by import path."""

    entity: str
    settings_model: type[EntitySettings]
    directions: tuple[DirectionSpec, ...]
    quirks: str
    """``package.module:Class`` of the entity's :class:`~zoho_cscart_sync.kit.quirks.EntityQuirks`."""
    counts: CountsSpec | None = None
    """Dashboard counts per run (None: the entity has none)."""

    def __post_init__(self) -> None:
        if self.counts is None:
            return
        # A misspelt stream name would silently count nothing: refuse it when the entity is declared.
        self.direction(Direction.CSCART_TO_ZOHO).stream(self.counts.cscart_stream)
        zoho = self.direction(Direction.ZOHO_TO_CSCART)
        for name in self.counts.zoho_streams:
            zoho.stream(name)

    def direction(self, direction: Direction | str) -> DirectionSpec:
        wanted = Direction.parse(direction)
        for spec in self.directions:
            if spec.direction is wanted:
                return spec
        raise KeyError(f"{self.entity}: direction {wanted.value} is not declared")

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Every ID-map entity this entity writes links under (itself first)."""
        names = [self.entity]
        for direction in self.directions:
            names.extend(t.namespace for t in direction.targets if t.namespace and t.namespace not in names)
        return tuple(names)
