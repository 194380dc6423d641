"""An entity's genuine quirks: the few decisions no declaration can express. Every hook has a neutral default.

The runner calls these at fixed points; an entity overrides only what it needs (customers: hierarchy folding,
Leads for non-buyers, skip rules, how a written CS-Cart user or CRM contact reads back).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zoho_cscart_sync.kit.context import EntityRun
    from zoho_cscart_sync.kit.spec import StreamSpec, TargetSpec
    from zoho_cscart_sync.mapping.transforms.base import IdResolver
    from zoho_cscart_sync.state.models import RecordLink
    from zoho_cscart_sync.sync.records import MappedRecord
    from zoho_cscart_sync.sync.staging import StagedRef


class EntityQuirks:
    """Neutral behaviour: one route per target, the stream's mapping, no skips, no echo."""

    def __init__(self, run: EntityRun) -> None:
        self.run = run
        self.counters: Counter[str] = Counter()
        """Entity-specific report counters (explained in the README's report legend)."""

    # -- run scope -------------------------------------------------------------------------------------
    def idle_reason(self) -> str | None:
        """Why this direction has nothing to move in this run (it then reads nothing); None: it has work."""
        return None

    def writes_records(self) -> bool:
        """False for a run that writes no record through the load loop, only what :meth:`after_load` does
        (products' stock-only runs); the watermark stays (``RunOption.narrows_run``)."""
        return True

    # -- extract ---------------------------------------------------------------------------------------
    def source_pages(self, stream: StreamSpec, pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
        """The pages a stream's source returned, as the entity's records (orders: a Multi-Vendor cart's vendor
        orders become its parent order, or a parent fetched by id becomes its vendor orders). Applied to window
        reads and by-id reads alike; the extract stages each id once."""
        return pages

    def extract_extras(self) -> dict[str, StagedRef | None]:
        """Extra staged inputs the map stage needs besides the streams (e.g. who ever ordered)."""
        return {}

    # -- map -------------------------------------------------------------------------------------------
    def prepare_map(self, extracted: Mapping[str, Any]) -> None:
        """Read what :meth:`extract_extras` staged (small id sets only)."""

    def routes(self, target: TargetSpec) -> tuple[str | None, ...]:
        """Sub-targets of a target, in load order (CRM Contacts, then Leads). ``None``: the target itself."""
        return (None,)

    def route(
        self, stream: StreamSpec, target: TargetSpec, row: Mapping[str, Any], link: RecordLink | None
    ) -> str | None:
        """Which of :meth:`routes` a source row goes to."""
        return None

    def resolve_id(self, entity: str, source_id: str) -> str | None:
        """``id_link``: the counterpart of a related record of ``entity`` (an order's product), from the ID map;
        None when it is not synchronised yet (the record then waits, see ``MissingLinkError``)."""
        direction = self.run.direction
        links = self.run.store.get_links(self.run.tenant_id, entity, **{f"{direction.source}_ids": [source_id]})
        link = links.get(source_id)
        if link is None or link.deleted_at is not None:
            return None
        target_id: str | None = getattr(link, direction.target_id_field)
        return target_id

    def resolver_for(self, stream: StreamSpec, row: Mapping[str, Any]) -> IdResolver:
        """The ``id_link`` resolver for one source row (orders: the row's names create its billing contact)."""
        return self.resolve_id

    creates_on_resolve: frozenset[str] = frozenset()
    """``id_link`` entities whose resolver may *write* (find or create the order's billing contact). A record
    using one is first mapped with those entities answered by a placeholder, and resolved for real only when
    that probe maps cleanly: a record that waits or fails for another field creates nothing remote."""

    def mapping_variant(self, stream: StreamSpec, target: TargetSpec, route: str | None) -> str:
        """The mapping variant a record of ``stream`` is mapped with for ``target`` / ``route``."""
        return target.mapping or stream.mapping

    def flags(self, stream: StreamSpec, route: str | None) -> frozenset[str]:
        """Flags stored on the link besides the stream's own."""
        return frozenset()

    def requirement_id(
        self,
        stream: StreamSpec,
        required_id: str,
        parents: Mapping[str, str | None],
        imported: set[str],
    ) -> str | None:
        """The record that must exist first, given the one the source names (``parents``: the hierarchy read
        in this run; ``imported``: required ids already linked)."""
        return required_id

    def row_flags(self, stream: StreamSpec, row: Mapping[str, Any]) -> frozenset[str]:
        """Flags of one source record decided by its content (e.g. a Zoho item that belongs to an item group)."""
        return frozenset()

    def create_only_fields(self, target: TargetSpec) -> frozenset[str]:
        """Payload fields of ``target`` sent on create only (see ``sync.load.LoadJob.create_only``)."""
        return frozenset()

    def skip_reason(
        self, stream: StreamSpec, row: Mapping[str, Any], record: MappedRecord, link: RecordLink | None
    ) -> str | None:
        """Why a mapped record is deliberately not written (counted as skipped), else None."""
        return None

    def listed_skip(self, stream: StreamSpec, row: Mapping[str, Any], link: RecordLink | None) -> str | None:
        """Why a record is skipped, decided before it is mapped, on fields its source's list row carries too (a
        sales order's status and reference): it is neither mapped nor resolves anything, and a ``full_records``
        stream does not read it whole. None: not decided here (:meth:`skip_reason` still may). Must give the same
        answer for the list row and the whole record."""
        return None

    # -- load ------------------------------------------------------------------------------------------
    def read_back(
        self,
        target: TargetSpec,
        route: str | None,
        record: MappedRecord,
        target_id: str,
        *,
        created: bool,
        before: Mapping[str, Any] | None,
    ) -> Mapping[str, Any] | None:
        """The record as the opposite direction will read it after this write; None: it never reads it.

        ``before`` is the target record as read before this write (an adopted record, or one read for a
        conflict check), when there was such a read: an update keeps the fields it does not send.
        """
        return None

    def after_load(self, mapped: Mapping[str, Any]) -> dict[str, int]:
        """Work after every target is loaded (products: stock adjustments); returns report counters."""
        return {}

    def adjust_counts(self, target: TargetSpec, counts: Any, writer: Any) -> None:
        """Correct the load's counters with what only the writer knows (e.g. creates that became adoptions)."""
