"""The console's FastAPI app: server-rendered pages (Jinja2) and the actions behind their buttons.

Pages (GET) read the state store through ``views.py``; actions (POST) check the auth manager first, then create
DAG runs through Airflow's REST API with the user's token (``airflow_api.py``). Only "reset synchronisation"
writes to the state store itself (``StateStore.reset_sync``), after the same trigger permission check. What the
actions send and how reset is guarded lives in ``operations.py``, which the CLI uses too.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from zoho_cscart_sync.console import PRODUCT_NAME, URL_PREFIX
from zoho_cscart_sync.console.access import Access, AirflowAccess, Caller
from zoho_cscart_sync.console.airflow_api import RestRunTrigger, RunTrigger, TriggerError
from zoho_cscart_sync.console.chart import run_chart
from zoho_cscart_sync.console.operations import (
    IMPORT_DIRECTION,
    RETRY_LIMIT,
    OperationError,
    check_record_ids,
    conflict_item,
    find_scope,
    import_ids,
    quarantine_item,
    require_direction,
    reset_scope,
    retry_ids,
    run_conf,
    unlinked_item,
)
from zoho_cscart_sync.console.views import (
    QUARANTINE_SORTS,
    Scope,
    TokenView,
    connection_token_key,
    entity_page,
    load_scopes,
    tiles_of,
    token_view,
)
from zoho_cscart_sync.state import StateStore

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
SCOPES_TTL_SECONDS = 30.0


@dataclass
class ConsoleSettings:
    """Where the console reads from and how it reaches Airflow; every part replaceable in tests."""

    tenants_dir: Path
    store_factory: Callable[[], StateStore]
    access: Access
    trigger_factory: Callable[[Request], RunTrigger]
    token_key_for: Callable[[str], str] = connection_token_key
    page_size: int = DEFAULT_PAGE_SIZE
    base_path: str = URL_PREFIX

    @classmethod
    def from_environment(cls) -> ConsoleSettings:
        """The api-server's settings: ``ZCS_TENANTS_DIR`` (as the DAG file), the state store behind Connection
        ``zoho_cscart_state`` (or ``ZCS_CONSOLE_STATE_URL``), Airflow's own REST API (``ZCS_CONSOLE_API_URL``, else
        ``[api] base_url``, else the address the request came to)."""
        from zoho_cscart_sync.cli import DEFAULT_TENANTS_DIR

        tenants_dir = Path(os.environ.get("ZCS_TENANTS_DIR") or DEFAULT_TENANTS_DIR)
        return cls(
            tenants_dir=tenants_dir,
            store_factory=_default_store,
            access=AirflowAccess(),
            trigger_factory=_rest_trigger,
        )


def _default_store() -> StateStore:
    url = os.environ.get("ZCS_CONSOLE_STATE_URL")
    if url:
        return StateStore.from_url(url)
    from zoho_cscart_sync.state.store import resolve_default_url

    resolved, schema = resolve_default_url()
    return StateStore.from_url(resolved, schema=schema)


def _rest_trigger(request: Request) -> RunTrigger:
    configured = os.environ.get("ZCS_CONSOLE_API_URL")
    if not configured:
        from airflow.configuration import conf

        configured = conf.get("api", "base_url", fallback="") or ""
    if not configured:
        configured = f"{request.url.scheme}://{request.url.netloc}"
    return RestRunTrigger(configured)


@dataclass
class _State:
    settings: ConsoleSettings
    store: StateStore | None = None
    scopes: list[Scope] = field(default_factory=list)
    scopes_read_at: float = -1e9
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get_store(self) -> StateStore:
        with self.lock:
            if self.store is None:
                self.store = self.settings.store_factory()
            return self.store

    def get_scopes(self) -> list[Scope]:
        with self.lock:
            if time.monotonic() - self.scopes_read_at > SCOPES_TTL_SECONDS:
                self.scopes = load_scopes(self.settings.tenants_dir)
                self.scopes_read_at = time.monotonic()
            return self.scopes


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    """The console app; ``settings`` default to the api-server's environment (read on the first request)."""
    import jinja2

    app = FastAPI(title=f"{PRODUCT_NAME} console", docs_url=None, redoc_url=None, openapi_url=None)
    holder: dict[str, _State] = {}
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.filters["num"] = lambda value: "-" if value is None else f"{value:,}"
    env.filters["when"] = lambda value: "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")

    def state() -> _State:
        if "state" not in holder:
            holder["state"] = _State(settings or ConsoleSettings.from_environment())
        return holder["state"]

    def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("base", state().settings.base_path)
        context.setdefault("product", PRODUCT_NAME)
        context.setdefault("user", None)
        return HTMLResponse(env.get_template(name).render(**context), status_code=status_code)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        login = None
        if exc.status_code == 401:
            login = state().settings.access.login_url(str(request.url))
        return render("error.html", status_code=exc.status_code, status=exc.status_code, detail=exc.detail, login=login)

    async def caller_of(request: Request) -> Caller:
        return await state().settings.access.caller(request)

    def visible_scope(caller: Caller, tenant: str, entity: str) -> Scope:
        try:
            scope = find_scope(state().get_scopes(), tenant, entity)
        except OperationError:
            raise HTTPException(status_code=404, detail=f"No tenant {tenant!r} with entity {entity!r}") from None
        if not state().settings.access.can_view(caller, scope.dag_id):
            raise HTTPException(status_code=403, detail=f"You may not see DAG {scope.dag_id}")
        return scope

    def triggerable_scope(caller: Caller, tenant: str, entity: str) -> Scope:
        scope = visible_scope(caller, tenant, entity)
        if not state().settings.access.can_trigger(caller, scope.dag_id):
            raise HTTPException(status_code=403, detail=f"You may not trigger DAG {scope.dag_id}")
        return scope

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        caller = _sync_caller(request, caller_of)
        store = state().get_store()
        access = state().settings.access
        rows = []
        for scope in state().get_scopes():
            if not access.can_view(caller, scope.dag_id):
                continue
            tiles, latest = tiles_of(store, scope)
            rows.append({"scope": scope, "tiles": tiles, "latest": latest})
        return render("index.html", rows=rows, user=caller.name)

    @app.get("/dag/{dag_id}", response_class=HTMLResponse)
    def dag_tab(request: Request, dag_id: str) -> Response:
        """The tab on a DAG's page: that DAG's tenant and entity, when it is one of this package's DAGs."""
        caller = _sync_caller(request, caller_of)
        scope = next((s for s in state().get_scopes() if s.dag_id == dag_id), None)
        if scope is None:
            raise HTTPException(
                status_code=404,
                detail=f"DAG {dag_id} is not a {PRODUCT_NAME} sync DAG (those are zoho_cscart__<tenant>__<entity>)",
            )
        visible_scope(caller, scope.tenant, scope.entity)
        return RedirectResponse(f"{state().settings.base_path}/t/{scope.tenant}/{scope.entity}", status_code=303)

    @app.get("/t/{tenant}/{entity}", response_class=HTMLResponse)
    def entity(
        request: Request,
        tenant: str,
        entity: str,
        qdir: str | None = None,
        qad: str | None = None,
        qaid: str | None = None,
        nafter: int = 0,
        roff: int = 0,
        cad: str | None = None,
        caid: str | None = None,
        qsort: str = "key",
        qls: str | None = None,
        uafter: str | None = None,
        size: int | None = None,
        msg: str | None = None,
    ) -> HTMLResponse:
        caller = _sync_caller(request, caller_of)
        scope = visible_scope(caller, tenant, entity)
        page_size = _page_size(size, state().settings.page_size)
        if qdir is not None and qdir not in scope.directions:
            raise HTTPException(status_code=400, detail=f"{qdir!r} is not a direction of {tenant}/{entity}")
        if qsort not in QUARANTINE_SORTS:
            raise HTTPException(status_code=400, detail=f"qsort must be one of {', '.join(QUARANTINE_SORTS)}")
        before = _recent_key(qls, qad, qaid) if qsort == "last_seen" else None
        store = state().get_store()
        token_key_for = state().settings.token_key_for
        page = entity_page(
            store,
            scope,
            page_size=page_size,
            quarantine_direction=qdir,
            quarantine_after=(qad, qaid) if qad and qaid is not None else None,
            no_email_after=max(0, nafter),
            runs_offset=max(0, roff),
            conflicts_after=(cad, caid) if cad and caid is not None else None,
            token=lambda conn_id: _token(store, conn_id, token_key_for),
            quarantine_sort=qsort,
            quarantine_before=before,
            unlinked_after=uafter or None,
        )
        can_trigger = state().settings.access.can_trigger(caller, scope.dag_id)
        return render(
            "entity.html",
            page=page,
            scope=scope,
            user=caller.name,
            can_trigger=can_trigger,
            chart=run_chart(page.runs),
            msg=msg,
            qdir=qdir,
            size=page_size,
            links=_page_links(scope, page, qdir, page_size, qsort),
            retry_limit=RETRY_LIMIT,
            import_direction=IMPORT_DIRECTION,
        )

    @app.get("/api/t/{tenant}/{entity}/quarantine")
    def quarantine_json(
        request: Request,
        tenant: str,
        entity: str,
        direction: str | None = None,
        after_direction: str | None = None,
        after_id: str | None = None,
        sort: str = "key",
        after_last_seen: str | None = None,
        size: int | None = None,
    ) -> JSONResponse:
        caller = _sync_caller(request, caller_of)
        scope = visible_scope(caller, tenant, entity)
        page_size = _page_size(size, state().settings.page_size)
        if direction is not None and direction not in scope.directions:
            raise HTTPException(status_code=400, detail=f"{direction!r} is not a direction of {tenant}/{entity}")
        store = state().get_store()
        if sort == "last_seen":
            before = _recent_key(after_last_seen, after_direction, after_id)
            rows = store.quarantine_recent_page(
                scope.tenant, scope.entity, direction=direction, before=before, limit=page_size + 1
            )
        elif sort == "key":
            after = (after_direction, after_id) if after_direction and after_id is not None else None
            rows = store.quarantine_page(
                scope.tenant, scope.entity, direction=direction, after=after, limit=page_size + 1
            )
        else:
            raise HTTPException(status_code=400, detail=f"sort must be one of {', '.join(QUARANTINE_SORTS)}")
        more = len(rows) > page_size
        rows = rows[:page_size]
        following: dict[str, str] | None = None
        if more:
            following = {"after_direction": rows[-1].direction, "after_id": rows[-1].source_id}
            if sort == "last_seen":
                following = {"sort": sort, "after_last_seen": rows[-1].last_seen.isoformat(), **following}
        return JSONResponse({"items": [quarantine_item(r) for r in rows], "next": following})

    @app.get("/api/t/{tenant}/{entity}/unlinked")
    def unlinked_json(
        request: Request, tenant: str, entity: str, after: str | None = None, size: int | None = None
    ) -> JSONResponse:
        caller = _sync_caller(request, caller_of)
        scope = visible_scope(caller, tenant, entity)
        page_size = _page_size(size, state().settings.page_size)
        store = state().get_store()
        rows = store.unlinked_page(scope.tenant, scope.entity, after=after or None, limit=page_size + 1)
        more = len(rows) > page_size
        rows = rows[:page_size]
        return JSONResponse(
            {
                "total": store.count_unlinked(scope.tenant, scope.entity),
                "items": [unlinked_item(r) for r in rows],
                "next": {"after": rows[-1].zoho_id} if more else None,
            }
        )

    @app.get("/api/t/{tenant}/{entity}/conflicts")
    def conflicts_json(
        request: Request,
        tenant: str,
        entity: str,
        after_direction: str | None = None,
        after_id: str | None = None,
        size: int | None = None,
    ) -> JSONResponse:
        caller = _sync_caller(request, caller_of)
        scope = visible_scope(caller, tenant, entity)
        page_size = _page_size(size, state().settings.page_size)
        after = (after_direction, after_id) if after_direction and after_id is not None else None
        store = state().get_store()
        rows = store.lost_conflicts_page(scope.tenant, scope.entity, after=after, limit=page_size + 1)
        more = len(rows) > page_size
        rows = rows[:page_size]
        return JSONResponse(
            {
                "total": store.count_lost_conflicts(scope.tenant, scope.entity),
                "items": [conflict_item(r) for r in rows],
                "next": {"after_direction": rows[-1].direction, "after_id": rows[-1].source_id} if more else None,
            }
        )

    @app.post("/t/{tenant}/{entity}/sync")
    async def sync(request: Request, tenant: str, entity: str) -> Response:
        caller = await caller_of(request)
        _same_origin(request)
        scope = triggerable_scope(caller, tenant, entity)
        form = await request.form()
        picked = _picked_records(scope, [str(v) for v in form.getlist("record")], form)
        if not picked:
            raise HTTPException(status_code=400, detail="No record ids given")
        # In the thread pool: the REST call may be served by this very api-server process (one event loop).
        runs = await run_in_threadpool(_trigger_per_direction, request, caller, scope, picked)
        return _done(request, scope, runs, "sync")

    @app.post("/t/{tenant}/{entity}/retry")
    async def retry(request: Request, tenant: str, entity: str) -> Response:
        caller = await caller_of(request)
        _same_origin(request)
        scope = triggerable_scope(caller, tenant, entity)
        form = await request.form()
        return await run_in_threadpool(_retry, request, caller, scope, form)

    def _retry(request: Request, caller: Caller, scope: Scope, form: Any) -> Response:
        store = state().get_store()
        picked: dict[str, list[str]] = defaultdict(list)
        selected = [str(v) for v in form.getlist("record")]
        try:
            if selected:
                for direction, ids in _picked_records(scope, selected, form).items():
                    picked[direction] = retry_ids(store, scope, direction, ids)
            else:
                direction = str(form.get("direction") or "")
                picked[direction] = retry_ids(store, scope, direction)
        except OperationError as exc:
            raise HTTPException(status_code=exc.status, detail=exc.detail) from None
        picked = {direction: ids for direction, ids in picked.items() if ids}
        if not picked:
            raise HTTPException(status_code=400, detail="Nothing is quarantined there")
        runs = _trigger_per_direction(request, caller, scope, picked)
        return _done(request, scope, runs, "retry")

    @app.post("/t/{tenant}/{entity}/import")
    async def import_selected(request: Request, tenant: str, entity: str) -> Response:
        caller = await caller_of(request)
        _same_origin(request)
        scope = triggerable_scope(caller, tenant, entity)
        form = await request.form()
        selected = [str(v) for v in form.getlist("zoho_id")]
        if not selected:
            raise HTTPException(status_code=400, detail="No Zoho record selected")
        return await run_in_threadpool(_import, request, caller, scope, selected)

    def _import(request: Request, caller: Caller, scope: Scope, selected: list[str]) -> Response:
        try:
            ids = import_ids(state().get_store(), scope, selected)
        except OperationError as exc:
            raise HTTPException(status_code=exc.status, detail=exc.detail) from None
        if not ids:
            raise HTTPException(status_code=400, detail="None of the selected Zoho records is listed as not in CS-Cart")
        runs = _trigger_per_direction(request, caller, scope, {IMPORT_DIRECTION: ids})
        return _done(request, scope, runs, "import")

    @app.post("/t/{tenant}/{entity}/reset")
    async def reset(request: Request, tenant: str, entity: str) -> Response:
        caller = await caller_of(request)
        _same_origin(request)
        scope = triggerable_scope(caller, tenant, entity)
        form = await request.form()
        expected = f"{scope.tenant}/{scope.entity}"
        if str(form.get("confirm") or "").strip() != expected:
            raise HTTPException(status_code=400, detail=f"Type {expected} to confirm the reset")
        return await run_in_threadpool(_reset, request, caller, scope)

    def _reset(request: Request, caller: Caller, scope: Scope) -> Response:
        expected = f"{scope.tenant}/{scope.entity}"
        try:
            message = reset_scope(state().get_store(), scope)
        except OperationError as exc:
            raise HTTPException(status_code=exc.status, detail=exc.detail) from None
        log.info("console: %s reset synchronisation of %s/%s", caller.name, scope.tenant, scope.entity)
        if _wants_json(request):
            return JSONResponse({"reset": expected, "message": message})
        return _redirect(scope, message)

    def _trigger_per_direction(
        request: Request, caller: Caller, scope: Scope, picked: dict[str, list[str]]
    ) -> list[tuple[str, str, int]]:
        trigger = state().settings.trigger_factory(request)
        runs = []
        for direction, ids in sorted(picked.items()):
            try:
                run_id = trigger.trigger(scope.dag_id, run_conf(scope, direction, ids), caller.token)
            except TriggerError as exc:
                raise HTTPException(status_code=exc.status, detail=f"Airflow refused the run: {exc.detail}") from None
            log.info("console: %s created run %s of %s for %d records", caller.name, run_id, scope.dag_id, len(ids))
            runs.append((run_id, direction, len(ids)))
        return runs

    def _done(request: Request, scope: Scope, runs: list[tuple[str, str, int]], what: str) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"runs": [{"dag_run_id": r, "direction": d, "records": n} for r, d, n in runs], "action": what}
            )
        text = "; ".join(f"run {r} created for {n} record(s), {d}" for r, d, n in runs)
        return _redirect(scope, text)

    def _redirect(scope: Scope, message: str) -> RedirectResponse:
        target = f"{state().settings.base_path}/t/{scope.tenant}/{scope.entity}?{urlencode({'msg': message})}"
        return RedirectResponse(target, status_code=303)

    return app


def _sync_caller(request: Request, caller_of: Callable[[Request], Any]) -> Caller:
    """Resolve the caller from a sync endpoint (run in FastAPI's thread pool): the auth manager's call is async."""
    import anyio.from_thread

    caller: Caller = anyio.from_thread.run(caller_of, request)
    return caller


def _token(store: StateStore, conn_id: str, key_for: Callable[[str], str]) -> TokenView:
    return token_view(store, conn_id, key_for)


def _page_size(size: int | None, default: int) -> int:
    if size is None:
        return default
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise HTTPException(status_code=400, detail=f"size must be between 1 and {MAX_PAGE_SIZE}")
    return size


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _same_origin(request: Request) -> None:
    """Refuse a cross-site form post (the cookie is SameSite=Lax already; this also covers old browsers)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise HTTPException(status_code=403, detail="Cross-site request refused")


def _picked_records(scope: Scope, records: list[str], form: Any) -> dict[str, list[str]]:
    """``direction:id`` values (rows' checkboxes and buttons), plus ``ids`` text for the form's ``direction``."""
    picked: dict[str, list[str]] = defaultdict(list)
    for value in records:
        direction, sep, record_id = value.partition(":")
        if not sep or not record_id:
            raise HTTPException(status_code=400, detail=f"Bad record {value!r}: expected direction:id")
        picked[direction].append(record_id)
    typed = str(form.get("ids") or "").replace(",", " ").split()
    if typed:
        picked[str(form.get("direction") or "")].extend(typed)
    try:
        for direction, ids in picked.items():
            require_direction(scope, direction)
            picked[direction] = check_record_ids(scope, ids)
    except OperationError as exc:
        raise HTTPException(status_code=exc.status, detail=exc.detail) from None
    return dict(picked)


def _recent_key(
    last_seen: str | None, direction: str | None, source_id: str | None
) -> tuple[datetime, str, str] | None:
    """The newest-last-seen cursor of a page link (``qls``, ``qad``, ``qaid``); None on the first page."""
    if not last_seen:
        return None
    try:
        when = datetime.fromisoformat(last_seen)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None or not direction or source_id is None:
        raise HTTPException(status_code=400, detail="Bad quarantine cursor: last seen (ISO, with zone), direction, id")
    return when, direction, source_id


def _page_links(scope: Scope, page: Any, qdir: str | None, size: int, qsort: str = "key") -> dict[str, str | None]:
    base = f"/t/{scope.tenant}/{scope.entity}"
    sort = qsort if qsort != "key" else None

    def link(**params: Any) -> str:
        kept = {"qdir": qdir, "qsort": sort, "size": size if size != DEFAULT_PAGE_SIZE else None, **params}
        query = urlencode({k: v for k, v in kept.items() if v is not None})
        return f"{base}?{query}" if query else base

    runs_next = page.runs_offset + len(page.runs) if page.runs_offset + len(page.runs) < page.runs_total else None
    recent = page.quarantine_next_recent
    if recent is not None:
        quarantine_next: str | None = link(qls=recent[0].isoformat(), qad=recent[1], qaid=recent[2])
    elif page.quarantine_next:
        quarantine_next = link(qad=page.quarantine_next[0], qaid=page.quarantine_next[1])
    else:
        quarantine_next = None
    return {
        "quarantine_first": link(),
        "quarantine_by_key": link(qsort=None),
        "quarantine_by_last_seen": link(qsort="last_seen"),
        "quarantine_next": quarantine_next,
        "unlinked_next": link(uafter=page.unlinked_next) if page.unlinked_next else None,
        "no_email_first": link(),
        "no_email_next": link(nafter=page.no_email_next) if page.no_email_next is not None else None,
        "conflicts_first": link(),
        "conflicts_next": link(cad=page.conflicts_next[0], caid=page.conflicts_next[1])
        if page.conflicts_next
        else None,
        "runs_newer": link(roff=max(0, page.runs_offset - 20)) if page.runs_offset > 0 else None,
        "runs_older": link(roff=runs_next) if runs_next is not None else None,
    }
