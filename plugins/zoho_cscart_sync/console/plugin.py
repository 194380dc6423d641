"""The Airflow plugin: mounts the console's app in the api-server and adds its page to Airflow's navigation.

Registered through the ``airflow.plugins`` entry point of this package (pyproject.toml); ``plugins/.airflowignore``
keeps Airflow's plugins-folder loader out of the package. Importing this module builds nothing: the FastAPI app
(Jinja2, the tenant files, the state store) is created on the console's first request, so the scheduler, the
DAG processor and the workers, which load plugins too, pay nothing for it.
"""

from __future__ import annotations

import threading
from typing import Any

from airflow.plugins_manager import AirflowPlugin

from zoho_cscart_sync.console import DAG_TAB_ROUTE, PRODUCT_NAME, URL_PREFIX, URL_ROUTE


class LazyConsoleApp:
    """An ASGI app that builds the console (``app.create_app()``) on its first request."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._app is None:
                from zoho_cscart_sync.console.app import create_app

                self._app = create_app()
            return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._get()(scope, receive, send)


console_app = LazyConsoleApp()


class ZohoCsCartConsolePlugin(AirflowPlugin):
    """The operator console of the Zoho ⇄ CS-Cart sync."""

    name = "zoho_cscart_console"
    fastapi_apps = [{"app": console_app, "url_prefix": URL_PREFIX, "name": f"{PRODUCT_NAME} console"}]
    external_views = [
        {
            "name": PRODUCT_NAME,
            "href": f"{URL_PREFIX}/",
            "url_route": URL_ROUTE,
            "destination": "nav",
            "category": "browse",
        },
        # A tab on each DAG's page: Airflow puts the DAG's id in place of {DAG_ID}; the console shows that
        # tenant and entity, or says the DAG is not one of this package's.
        {
            "name": PRODUCT_NAME,
            "href": f"{URL_PREFIX}/dag/{{DAG_ID}}",
            "url_route": DAG_TAB_ROUTE,
            "destination": "dag",
        },
    ]
