"""Tenant registry: one YAML file per tenant under include/tenants/, validated into typed models.

A tenant is a whole CS-Cart store (the admin 'Zoho Connector' seed) or one vendor of a Multi-Vendor
marketplace (the 'Zoho Connector Vendor' seed). Tenant files hold ids, flags and defaults only: every
credential lives in the Airflow Connections the file names.

This module is imported at DAG-parse time, so it reads local files only and keeps imports light.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from zoho_cscart_sync.directions import BOTH as _BOTH
from zoho_cscart_sync.directions import DIRECTIONS, Direction

ENTITIES: tuple[str, ...] = ("customers", "products", "orders")
TENANT_ID_PATTERN = r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$"
TENANT_FILE_SUFFIXES = (".yaml", ".yml")

# Keys that would mean someone pasted a credential into a tenant file. Refused with a pointer to Connections.
_SECRET_KEY_PATTERN = re.compile(
    r"(secret|password|passwd|refresh_token|access_token|api_key|apikey|client_secret|token)$", re.I
)
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TenantConfigError(ValueError):
    """A tenant file is invalid. The message names the file and every offending field."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid tenant file {path}:\n{lines}")


class TenantKind(str, Enum):
    """Whole store (admin seed) or one vendor of a Multi-Vendor marketplace (vendor seed)."""

    STORE = "store"
    VENDOR = "vendor"


class SyncDirection(str, Enum):
    """Which way an entity flows for a tenant: one :class:`Direction`, or both.

    The values are the tenant-file spellings, taken from ``directions.py`` so that the vocabulary has one
    definition (an Enum cannot extend ``Direction``, so its members are restated here by value).
    """

    ZOHO_TO_CSCART = Direction.ZOHO_TO_CSCART.value
    CSCART_TO_ZOHO = Direction.CSCART_TO_ZOHO.value
    BOTH = _BOTH

    def expand(self) -> tuple[str, ...]:
        """Concrete directions, in execution order (Zoho -> CS-Cart first, see dag_factory)."""
        if self is SyncDirection.BOTH:
            return DIRECTIONS
        return (self.value,)


FailRunOn = Literal["new_failures", "never"]
"""When the report task fails a run whose directions all completed (see the README's "Run report")."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConnectionIds(_Strict):
    """Airflow Connection ids of the tenant's two systems; defaults are filled from the tenant id."""

    zoho: str | None = Field(default=None, description="Zoho connection id (default zoho_<tenant>).")
    cscart: str | None = Field(default=None, description="CS-Cart connection id (default cscart_<tenant>).")


class EntityConfig(_Strict):
    """Whether and how one entity is synchronised for a tenant."""

    enabled: bool = True
    direction: SyncDirection = SyncDirection.ZOHO_TO_CSCART
    master: Literal["zoho", "cscart"] = Field(
        default="zoho",
        description="Which side wins when both changed since the last sync (two-way tenants).",
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, description="Entity-pipeline settings, validated by that pipeline."
    )

    @property
    def directions(self) -> tuple[str, ...]:
        return self.direction.expand()


class TenantDefaults(_Strict):
    """Per-tenant defaults the mappings fall back on (the seeds' 'category / vendor / tax defaults')."""

    category_id: int | None = Field(default=None, description="CS-Cart category for imported products.")
    tax_ids: list[int] = Field(default_factory=list, description="CS-Cart tax ids for imported products.")
    order_status_map: dict[str, str] = Field(
        default_factory=dict, description="CS-Cart order status code -> Zoho sales order status."
    )
    zoho_order_status_map: dict[str, str] = Field(
        default_factory=dict, description="Zoho sales order status -> CS-Cart order status code."
    )
    payment_method_map: dict[str, str] = Field(default_factory=dict, description="Zoho channel -> CS-Cart payment.")
    shipping_method_map: dict[str, str] = Field(default_factory=dict, description="Zoho delivery -> CS-Cart ship.")
    zoho_delivery_method_map: dict[str, str] = Field(default_factory=dict, description="CS-Cart ship -> Zoho.")
    category_map: dict[str, int] = Field(default_factory=dict, description="Zoho category -> CS-Cart id.")
    tax_map: dict[str, int] = Field(default_factory=dict, description="Zoho tax id -> CS-Cart tax id.")
    zoho_tax_map: dict[str, str] = Field(default_factory=dict, description="CS-Cart tax id -> Zoho tax id.")
    product_company_id: int | None = Field(
        default=None,
        ge=1,
        description="Whole-store tenants: vendor company_id given to products imported from Zoho (and the only "
        "company whose products an SKU match may adopt).",
    )
    customer_company_id: int | None = Field(
        default=None, ge=0, description="company_id given to customers created in CS-Cart (vendor tenants)."
    )
    payment_id: int | None = Field(default=None, ge=1, description="CS-Cart payment for imported orders.")
    shipping_id: int | None = Field(default=None, ge=1, description="CS-Cart shipping for imported orders.")


class TenantConfig(_Strict):
    """One tenant, as declared in include/tenants/<tenant_id>.yaml."""

    tenant_id: str = Field(pattern=TENANT_ID_PATTERN, max_length=60)
    display_name: str | None = None
    kind: TenantKind
    company_id: int | None = Field(default=None, ge=1, description="Vendor company_id (vendor tenants).")
    owner: str = "zoho-cscart-sync"
    connections: ConnectionIds = Field(default_factory=ConnectionIds)
    schedule: str = Field(default="0 * * * *", description="Cron expression; each run covers one interval.")
    timezone: str = "UTC"
    start_date: datetime
    catchup: bool = False
    paused_on_creation: bool = True
    entities: dict[str, EntityConfig] = Field(default_factory=dict)
    defaults: TenantDefaults = Field(default_factory=TenantDefaults)
    mapping_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    fail_run_on: FailRunOn = Field(
        default="new_failures",
        description="new_failures: the report task fails when records failed for the first time in the run "
        "(after saving the watermark and statistics; older quarantine entries alone never fail a run); "
        "never: such runs stay green and the failures are only in the report.",
    )

    @field_validator("start_date")
    @classmethod
    def _aware_start(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

    @field_validator("schedule")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from croniter import croniter  # an Airflow dependency; only needed while validating

        if not croniter.is_valid(value):
            raise ValueError(f"not a valid cron expression: {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        import pendulum

        try:
            pendulum.timezone(value)
        except Exception as exc:  # pendulum raises several types for unknown zones
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("entities")
    @classmethod
    def _known_entities(cls, value: dict[str, EntityConfig]) -> dict[str, EntityConfig]:
        unknown = sorted(set(value) - set(ENTITIES))
        if unknown:
            raise ValueError(f"unknown entities {unknown}; allowed: {list(ENTITIES)}")
        return value

    @field_validator("mapping_overrides")
    @classmethod
    def _known_override_entities(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        unknown = sorted(set(value) - set(ENTITIES))
        if unknown:
            raise ValueError(f"unknown entities {unknown}; allowed: {list(ENTITIES)}")
        return value

    @model_validator(mode="after")
    def _vendor_needs_company(self) -> TenantConfig:
        if self.kind is TenantKind.VENDOR and self.company_id is None:
            raise ValueError("company_id is required when kind is 'vendor'")
        if self.kind is TenantKind.STORE and self.company_id is not None:
            raise ValueError("company_id is only allowed when kind is 'vendor'")
        return self

    @property
    def zoho_conn_id(self) -> str:
        return self.connections.zoho or f"zoho_{self.tenant_id}"

    @property
    def cscart_conn_id(self) -> str:
        return self.connections.cscart or f"cscart_{self.tenant_id}"

    def enabled_entities(self) -> list[str]:
        """Enabled entities in a stable order (customers, products, orders)."""
        return [name for name in ENTITIES if name in self.entities and self.entities[name].enabled]


@dataclass(frozen=True)
class TenantLoadResult:
    """Outcome of loading one tenant file: a config, or the error that names file and fields."""

    path: Path
    config: TenantConfig | None = None
    error: TenantConfigError | None = None


def _format_location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "<file>"


def _find_secret_keys(node: Any, prefix: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(node, Mapping):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if _SECRET_KEY_PATTERN.search(str(key)):
                found.append(path)
            found.extend(_find_secret_keys(value, path))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found.extend(_find_secret_keys(item, f"{prefix}.{index}"))
    return found


def parse_tenant(raw: Any, path: Path) -> TenantConfig:
    """Validate one tenant document; raise TenantConfigError naming the file and each bad field."""
    if not isinstance(raw, Mapping):
        raise TenantConfigError(path, ["<file>: expected a mapping of tenant settings"])
    problems = [
        f"{key}: looks like a credential; credentials belong in Airflow Connections, not tenant files"
        for key in _find_secret_keys(raw)
    ]
    if problems:
        raise TenantConfigError(path, problems)
    try:
        config = TenantConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{_format_location(err['loc'])}: {err['msg']}"
            + (f" (got {err['input']!r})" if not isinstance(err.get("input"), (dict, list)) else "")
            for err in exc.errors()
        ]
        raise TenantConfigError(path, problems) from None
    if config.tenant_id != path.stem:
        raise TenantConfigError(path, [f"tenant_id: must equal the file name {path.stem!r} (got {config.tenant_id!r})"])
    return config


def load_tenant_file(path: Path) -> TenantLoadResult:
    """Load and validate one file; never raises for bad content, so one tenant can't hide the others."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506 (safe loader)
    except (OSError, yaml.YAMLError) as exc:
        return TenantLoadResult(path, error=TenantConfigError(path, [f"<file>: cannot read YAML: {exc}"]))
    try:
        return TenantLoadResult(path, config=parse_tenant(raw, path))
    except TenantConfigError as exc:
        return TenantLoadResult(path, error=exc)


def tenant_files(tenants_dir: Path) -> list[Path]:
    """Tenant files in a stable (sorted) order, so generated DAGs never reshuffle between parses."""
    if not tenants_dir.is_dir():
        return []
    return sorted(p for p in tenants_dir.iterdir() if p.suffix in TENANT_FILE_SUFFIXES and not p.name.startswith("."))


def iter_tenants(tenants_dir: Path) -> Iterator[TenantLoadResult]:
    """Every tenant file's load result, good and bad, in file-name order."""
    for path in tenant_files(tenants_dir):
        yield load_tenant_file(path)


def find_tenant_file(tenants_dir: Path, tenant_id: str) -> Path | None:
    """The file that declares `tenant_id` (file name == tenant id), without reading any other file."""
    for suffix in TENANT_FILE_SUFFIXES:
        candidate = tenants_dir / f"{tenant_id}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def load_tenant(tenants_dir: Path, tenant_id: str) -> TenantConfig:
    """Load one tenant by id (used inside tasks); raises TenantConfigError / LookupError."""
    path = find_tenant_file(tenants_dir, tenant_id)
    if path is None:
        raise LookupError(f"no tenant file for {tenant_id!r} in {tenants_dir}")
    result = load_tenant_file(path)
    if result.error is not None:
        raise result.error
    assert result.config is not None
    return result.config
