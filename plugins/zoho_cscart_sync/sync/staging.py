"""Staging storage between extract, map and load: newline-delimited JSON part files under one run folder.

Only a small :class:`StagedRef` (where the files are and how many records they hold) travels through XCom.
Records are streamed in and out one line at a time, so memory stays flat however large the catalogue is.

Layout: ``{base}/{tenant}/{entity}/{run_id}/{stage}/part-00000.ndjson``. ``base`` is any
:class:`~airflow.sdk.ObjectStoragePath` location: a local folder by default, ``s3://conn_id@bucket/prefix``
(or any other fsspec URL with a registered filesystem) in production.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypedDict

from zoho_cscart_sync.sync.secrets_guard import SecretInStagingError, find_secret, may_contain_secret

if TYPE_CHECKING:
    from types import TracebackType

    from airflow.sdk import ObjectStoragePath

DEFAULT_RECORDS_PER_FILE = 10_000
# Lines are written in chunks of about this size: few calls into the filesystem layer, and memory bounded by
# the chunk whatever the record count.
_WRITE_CHUNK_BYTES = 1 << 20
# One encoder for every record: json.dumps() with keyword arguments builds a new encoder on each call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_UNSAFE_PATH_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


class StagedRef(TypedDict):
    """JSON-serialisable pointer to one staged stage of a run (what goes into XCom)."""

    uri: str
    stage: str
    files: list[str]
    records: int
    bytes: int


def default_staging_base() -> str:
    """``$AIRFLOW_HOME/zoho_cscart_staging`` (Airflow's own default home when the variable is unset)."""
    airflow_home = os.environ.get("AIRFLOW_HOME") or str(Path("~/airflow").expanduser())
    return str(Path(airflow_home) / "zoho_cscart_staging")


def _object_path(location: str | ObjectStoragePath) -> ObjectStoragePath:
    from airflow.sdk import ObjectStoragePath

    return location if isinstance(location, ObjectStoragePath) else ObjectStoragePath(location)


def _open_binary(path: ObjectStoragePath, mode: str) -> BinaryIO:
    # Straight through the (connection-aware) filesystem rather than ObjectStoragePath.open(): that wrapper
    # reports every write call to Airflow's hook-lineage collector, which is noise for temporary part files
    # and, on first use, imports every module of the plugins folder.
    handle: BinaryIO = path.fs.open(path.path, mode=mode)
    return handle


def _path_segment(value: str, what: str) -> str:
    # Run ids such as "scheduled__2026-11-23T08:00:00+00:00" carry ':' and '+', which some object stores and
    # Windows shares reject; one safe spelling keeps a run's folder stable across retries.
    segment = _UNSAFE_PATH_CHARS.sub("_", value).strip("._")
    if not segment:
        raise ValueError(f"staging {what} {value!r} has no usable characters")
    return segment


class StageWriter:
    """Appends records to part files of one stage, rolling to a new file every ``records_per_file``.

    Use as a context manager or call :meth:`close`; the returned :class:`StagedRef` is only complete after
    closing. Every record passes the secret guard before it is written.
    """

    def __init__(self, folder: ObjectStoragePath, stage: str, *, records_per_file: int, context: str) -> None:
        if records_per_file < 1:
            raise ValueError("records_per_file must be at least 1")
        self._folder = folder
        self._stage = stage
        self._records_per_file = records_per_file
        self._context = context
        self._files: list[str] = []
        self._handle: BinaryIO | None = None
        self._buffer = bytearray()
        self._in_current_file = 0
        self._records = 0
        self._bytes = 0
        self._ref: StagedRef | None = None

    def write(self, record: Mapping[str, Any]) -> None:
        """Stage one record (a JSON object)."""
        if self._ref is not None:
            raise RuntimeError(f"stage {self._stage!r} of {self._context} is already closed")
        text = _ENCODER.encode(record)
        if may_contain_secret(text):
            secret_path = find_secret(record)
            if secret_path is not None:
                raise SecretInStagingError(
                    f"{self._context}: refusing to stage record #{self._records} of stage {self._stage!r}: "
                    f"field {secret_path!r} looks like a credential"
                )
        if self._handle is None or self._in_current_file >= self._records_per_file:
            self._open_next_file()
        line = text.encode("utf-8") + b"\n"
        self._buffer += line
        if len(self._buffer) >= _WRITE_CHUNK_BYTES:
            self._flush_buffer()
        self._in_current_file += 1
        self._records += 1
        self._bytes += len(line)

    def write_many(self, records: Iterable[Mapping[str, Any]]) -> None:
        for record in records:
            self.write(record)

    def close(self) -> StagedRef:
        """Flush the last file and return the reference (idempotent)."""
        if self._ref is None:
            self._close_current_file()
            self._ref = StagedRef(
                uri=str(self._folder),
                stage=self._stage,
                files=list(self._files),
                records=self._records,
                bytes=self._bytes,
            )
        return self._ref

    def abort(self) -> None:
        """Close without producing a reference (the stage is incomplete and must not be read)."""
        self._close_current_file()
        self._ref = StagedRef(uri=str(self._folder), stage=self._stage, files=[], records=0, bytes=0)

    def __enter__(self) -> StageWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _open_next_file(self) -> None:
        self._close_current_file()
        name = f"part-{len(self._files):05d}.ndjson"
        self._handle = _open_binary(self._folder / name, "wb")
        self._files.append(name)
        self._in_current_file = 0

    def _flush_buffer(self) -> None:
        if self._handle is not None and self._buffer:
            self._handle.write(bytes(self._buffer))
        self._buffer.clear()

    def _close_current_file(self) -> None:
        if self._handle is not None:
            self._flush_buffer()
            self._handle.close()
            self._handle = None


class StagingArea:
    """The staging folder of one tenant x entity x run."""

    def __init__(
        self,
        base: str | ObjectStoragePath | None,
        tenant: str,
        entity: str,
        run_id: str,
        *,
        records_per_file: int = DEFAULT_RECORDS_PER_FILE,
    ) -> None:
        self.tenant = tenant
        self.entity = entity
        self.run_id = run_id
        self.records_per_file = records_per_file
        self.root = (
            _object_path(base if base is not None else default_staging_base())
            / _path_segment(tenant, "tenant")
            / _path_segment(entity, "entity")
            / _path_segment(run_id, "run id")
        )

    @property
    def context(self) -> str:
        return f"tenant {self.tenant!r}, entity {self.entity!r}, run {self.run_id!r}"

    def open_stage(self, stage: str) -> StageWriter:
        """Start (or restart, on a task retry) a stage: files left by an earlier attempt are removed."""
        folder = self.root / _path_segment(stage, "stage")
        if folder.exists():
            folder.rmdir(recursive=True)
        folder.mkdir(parents=True, exist_ok=True)
        return StageWriter(folder, stage, records_per_file=self.records_per_file, context=self.context)

    def write_pages(self, stage: str, pages: Iterable[list[dict[str, Any]]]) -> StagedRef:
        """Stream pages (e.g. straight from a paginating hook) into part files; returns the reference."""
        with self.open_stage(stage) as writer:
            for page in pages:
                writer.write_many(page)
        return writer.close()

    def read_records(self, ref: StagedRef) -> Iterator[dict[str, Any]]:
        """Stream the records of a stage back, in the order they were written."""
        return read_staged_records(ref)

    def cleanup(self) -> None:
        """Delete everything staged for this run (call after a successful run only)."""
        if self.root.exists():
            self.root.rmdir(recursive=True)


def read_staged_records(ref: StagedRef) -> Iterator[dict[str, Any]]:
    """Stream the records a :class:`StagedRef` points to; works in any task, given only the XCom value."""
    folder = _object_path(ref["uri"])
    for name in ref["files"]:
        with _open_binary(folder / name, "rb") as handle:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"staged file {folder / name} line {line_number} is not JSON: {exc}") from exc
