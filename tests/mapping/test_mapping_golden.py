"""Golden tests: sandbox seed records (the traps real stores have) -> checked-in expected payloads.

Each ``golden/*.json`` names the mapping, tenant, tenant defaults, ID-map links and the seed record it
uses (``zoho_cscart_sandbox.seed.<function>(*args)[index]``), and holds a copy of that record
(``input``) and the expected result. To (re)generate after a deliberate change, run
``ZCS_UPDATE_GOLDEN=1 .venv/bin/pytest tests/mapping/test_mapping_golden.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from zoho_cscart_sync.mapping import MappedRecord, load_mapping

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
GOLDEN_FILES = sorted(GOLDEN_DIR.glob("*.json"))
UPDATE = os.environ.get("ZCS_UPDATE_GOLDEN") == "1"


def seed_record(seed_ref: dict[str, Any]) -> dict[str, Any]:
    from zoho_cscart_sandbox import seed

    records = getattr(seed, seed_ref["function"])(*seed_ref["args"])
    return records[seed_ref["index"]]


def resolver(links: dict[str, dict[str, Any]]) -> Any:
    def resolve(entity: str, source_id: str) -> str | None:
        rule = links.get(entity)
        if rule is None or source_id in rule.get("missing", []):
            return None
        return f"{rule['prefix']}{source_id}"

    return resolve


def as_json(mapped: MappedRecord) -> dict[str, Any]:
    return {
        "source_id": mapped.source_id,
        "payload": mapped.payload,
        "actions": mapped.actions,
        "flags": sorted(mapped.flags),
        "natural_keys": mapped.natural_keys,
        "issues": [str(issue) for issue in mapped.issues],
    }


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    spec = case["mapping"]
    mapping = load_mapping(
        spec["entity"], spec["direction"], variant=spec["variant"], tenant_defaults=case["tenant_defaults"]
    )
    # JSON round trip: the expected file can only hold JSON, and the payload must be JSON-serialisable.
    return json.loads(
        json.dumps(as_json(mapping.apply(case["input"], tenant=case["tenant"], resolve_id=resolver(case["links"]))))
    )


def test_golden_cases_exist() -> None:
    assert len(GOLDEN_FILES) >= 25


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=[path.stem for path in GOLDEN_FILES])
def test_golden_mapping(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    if UPDATE:
        case["input"] = seed_record(case["seed"])
        case["expected"] = run_case(case)
        path.write_text(json.dumps(case, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert case["input"] is not None and case["expected"] is not None, f"{path.name}: run with ZCS_UPDATE_GOLDEN=1"
    assert run_case(case) == case["expected"]


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=[path.stem for path in GOLDEN_FILES])
def test_golden_input_is_the_current_sandbox_seed(path: Path) -> None:
    """The checked-in input must still be what the sandbox serves, so golden and sandbox tests agree."""
    case = json.loads(path.read_text(encoding="utf-8"))
    assert seed_record(case["seed"]) == case["input"], f"{path.name}: seed changed; regenerate and review"
