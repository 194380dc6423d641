"""Turn pydantic validation errors into :class:`MappingConfigError` lines naming file, field and choices."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from zoho_cscart_sync.mapping.errors import MappingConfigError


def field_path(loc: Sequence[int | str], raw: Any = None) -> str:
    """``("fields", 3, "transform", 0, "name")`` -> ``fields[3].transform[0].name``, plus the entry's target
    or source when the raw data has one (``fields[3] (target 'email')``) so humans find it in the YAML."""
    text = ""
    node = raw
    label = ""
    for part in loc:
        if part == "[key]":
            text += " (key)"
            continue
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
        node = _child(node, part)
        if isinstance(node, dict) and not label:
            for key in ("target", "source"):
                if isinstance(node.get(key), str):
                    label = f" ({key} {node[key]!r})"
                    break
    return text + label


def _child(node: Any, part: int | str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        return node[part]
    return None


def _model_at(model: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The pydantic model that owns the key at ``loc`` (for listing the allowed keys of that model)."""
    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not isinstance(part, str) or part not in current.model_fields:
                return None
            current = current.model_fields[part].annotation
        else:
            # A list index or dict key: step into the element type.
            current = _element_type(current)
            if current is None:
                return None
        current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (list, dict) or not args:
        return annotation
    models = [arg for arg in args if isinstance(arg, type) and issubclass(arg, BaseModel)]
    return models[0] if len(models) == 1 else annotation


def _element_type(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list and args:
        return _unwrap(args[0])
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    return None


def config_errors_from_validation(
    exc: ValidationError, *, file: str, model: type[BaseModel], raw: Any, prefix: str = ""
) -> list[MappingConfigError]:
    """One :class:`MappingConfigError` per pydantic error, with allowed values where they are a closed set."""
    errors: list[MappingConfigError] = []
    for error in exc.errors():
        loc = [part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
        if loc and loc[-1] == "[key]":
            # pydantic reports a bad dict key by its value; show it as the key the YAML author wrote.
            loc = [*loc[:-2], str(error.get("input")), "[key]"]
        path = field_path(loc, raw)
        path = f"{prefix}.{path}" if prefix and path else prefix or path
        kind = error["type"]
        allowed: list[str] | None = None
        problem = error["msg"]
        if kind == "extra_forbidden":
            owner = _model_at(model, loc[:-1])
            problem = f"unknown key {loc[-1]!r}"
            allowed = sorted(owner.model_fields) if owner is not None else None
        elif kind == "literal_error":
            expected = str(error.get("ctx", {}).get("expected", ""))
            allowed = [choice.strip().strip("'") for choice in expected.replace(" or ", ",").split(",") if choice]
            problem = f"invalid value {error.get('input')!r}"
        elif kind == "value_error":
            problem = problem.removeprefix("Value error, ")
        elif kind == "string_type" and "[key]" in loc:
            problem = f"key {error.get('input')!r} must be text (quote YAML words such as yes, no, on, off)"
        errors.append(MappingConfigError(file, path, problem, allowed))
    return errors
