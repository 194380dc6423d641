"""Closed registry of named transforms; mapping files refer to them by name (never by code or eval)."""

from __future__ import annotations

from zoho_cscart_sync.mapping.transforms.base import TransformContext, is_empty
from zoho_cscart_sync.mapping.transforms.registry import TRANSFORMS, TransformDefinition, transform_names

__all__ = ["TRANSFORMS", "TransformContext", "TransformDefinition", "is_empty", "transform_names"]
