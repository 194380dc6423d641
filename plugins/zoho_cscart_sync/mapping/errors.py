"""Errors raised by the mapping package (dependency-free so anything may import them cheaply)."""

from __future__ import annotations

from collections.abc import Sequence


class MappingConfigError(ValueError):
    """A mapping file, shared value-map file or tenant override is invalid.

    The message always names the file (or override source), the field path inside it and, where the
    problem is a choice from a closed set (enums, transforms, value maps, target fields), the allowed
    values, so an operator can fix the YAML without reading code.
    """

    def __init__(self, file: str, field_path: str, problem: str, allowed: Sequence[str] | None = None):
        self.file = file
        self.field_path = field_path
        self.problem = problem
        self.allowed = list(allowed) if allowed is not None else None
        super().__init__(format_config_error(file, field_path, problem, allowed))


def format_config_error(file: str, field_path: str, problem: str, allowed: Sequence[str] | None = None) -> str:
    """One line: ``<file>: <field path>: <problem> (allowed: a, b, c)``."""
    location = f"{file}: {field_path}" if field_path else file
    text = f"{location}: {problem}"
    if allowed is not None:
        shown = list(allowed)
        # Catalogues can hold 60+ names; the first 40 are enough to spot the right one.
        suffix = f", ... ({len(shown) - 40} more)" if len(shown) > 40 else ""
        text += f" (allowed: {', '.join(shown[:40])}{suffix})"
    return text


class MappingConfigErrors(MappingConfigError):
    """Several configuration problems found in one pass (the first one is the headline)."""

    def __init__(self, errors: Sequence[MappingConfigError]):
        if not errors:
            raise ValueError("MappingConfigErrors needs at least one error")
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.file, first.field_path, first.problem, first.allowed)
        more = len(self.errors) - 1
        if more:
            self.args = ("\n".join(str(error) for error in self.errors),)

    def __str__(self) -> str:
        return "\n".join(format_config_error(e.file, e.field_path, e.problem, e.allowed) for e in self.errors)


class TransformError(ValueError):
    """A transform could not convert one value; reported as a field-level issue, never raised to callers.

    Messages must not contain the raw value when it may be personal data (e-mails, names, phones).
    """


class WaitingError(TransformError):
    """Not the record's fault: something outside it is missing (a related record, a tenant's value-map entry). The
    record waits (quarantine kind ``waiting``) and is mapped again every run, instead of waiting for its own source
    to change."""


class MissingLinkError(WaitingError):
    """``id_link`` found no counterpart of a related record (an order's product not synchronised yet).

    Not the record's fault: it waits (quarantine kind ``waiting``) and is mapped again every run until the related
    record is linked, instead of waiting for its own source to change.
    """

    def __init__(self, entity: str, source_id: str) -> None:
        super().__init__(f"{entity} record {source_id!r} has no counterpart yet (not synchronised)")
        self.entity = entity
        self.source_id = source_id
