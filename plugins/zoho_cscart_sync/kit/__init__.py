"""The sync kit: an entity is a declaration (:class:`EntitySpec`) plus its mapping YAML plus its quirks.

Everything else — staging, map-or-quarantine, prerequisite gating, conflicts, echo suppression, deletions,
the report and the watermark — is the :class:`~zoho_cscart_sync.kit.runner.SpecPipeline`, written once.
"""

from __future__ import annotations

from zoho_cscart_sync.kit.spec import (
    CountsSpec,
    DirectionSpec,
    EntitySettings,
    EntitySpec,
    Requirement,
    StreamSpec,
    TargetSpec,
)

__all__ = ["CountsSpec", "DirectionSpec", "EntitySettings", "EntitySpec", "Requirement", "StreamSpec", "TargetSpec"]
