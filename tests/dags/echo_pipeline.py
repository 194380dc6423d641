"""A small, real pipeline used only to prove the DAG factory: JSON-lines source -> upper-cased JSON target.

Source records live in $ZCS_ECHO_DIR/source_<direction>.jsonl ({"id", "name", "modified"}); the load
upserts into $ZCS_ECHO_DIR/target_<direction>.json keyed by id, so re-running writes nothing new.
$ZCS_ECHO_STAGE_SECONDS (default 0) makes extract, map and load each take that long, so runs that would
overlap in time do (tests of the run leases).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from zoho_cscart_sync.pipeline import RunContext, StageResult
from zoho_cscart_sync.windows import parse_datetime


def _dir() -> Path:
    return Path(os.environ["ZCS_ECHO_DIR"])


def _take_a_moment() -> None:
    time.sleep(float(os.environ.get("ZCS_ECHO_STAGE_SECONDS") or 0))


class EchoPipeline:
    def extract(self, ctx: RunContext) -> StageResult:
        _take_a_moment()
        out = _dir() / "staging" / ctx.run_id.replace(":", "_") / f"{ctx.direction}.extracted.jsonl"
        out.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with (_dir() / f"source_{ctx.direction}.jsonl").open() as src, out.open("w") as dst:
            for line in src:
                record = json.loads(line)
                modified = parse_datetime(record["modified"])
                if ctx.window.record_ids:
                    wanted = record["id"] in ctx.window.record_ids
                else:
                    wanted = (ctx.window.since is None or modified >= ctx.window.since) and modified < ctx.window.until
                if wanted:
                    dst.write(line)
                    count += 1
        return {"path": str(out), "records": count}

    def map(self, ctx: RunContext, extracted: StageResult) -> StageResult:
        _take_a_moment()
        out = Path(extracted["path"]).with_suffix(".mapped")
        with Path(extracted["path"]).open() as src, out.open("w") as dst:
            for line in src:
                record = json.loads(line)
                dst.write(json.dumps({"external_id": record["id"], "title": record["name"].upper()}) + "\n")
        return {"path": str(out), "records": extracted["records"]}

    def load(self, ctx: RunContext, mapped: StageResult) -> StageResult:
        _take_a_moment()
        target_path = _dir() / f"target_{ctx.direction}.json"
        target: dict[str, Any] = json.loads(target_path.read_text()) if target_path.exists() else {}
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        with Path(mapped["path"]).open() as src:
            for line in src:
                payload = json.loads(line)
                current = target.get(payload["external_id"])
                if current == payload:
                    counts["unchanged"] += 1
                    continue
                counts["created" if current is None else "updated"] += 1
                if not ctx.dry_run:
                    target[payload["external_id"]] = payload
        if not ctx.dry_run:
            target_path.write_text(json.dumps(target, sort_keys=True))
        return {"report": {"extracted": mapped["records"], **counts}}

    def finish(self, ctx: RunContext, loaded: StageResult | None, *, succeeded: bool) -> None:
        with (_dir() / "finished.jsonl").open("a") as log:
            log.write(json.dumps({"direction": ctx.direction, "succeeded": succeeded, "run_id": ctx.run_id}) + "\n")


PIPELINE = EchoPipeline()
