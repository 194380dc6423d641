"""The operator console: a page in the Airflow UI (an Airflow 3.3 plugin) over the sync state of every tenant.

``plugin.py`` declares the plugin (registered through the ``airflow.plugins`` entry point); ``app.py`` is its
FastAPI app, mounted by the api-server under :data:`URL_PREFIX`; ``views.py`` reads the state store a page at a
time; ``access.py`` asks Airflow's auth manager what the logged-in user may do; ``airflow_api.py`` creates DAG runs
through Airflow's public REST API with the user's own token; ``operations.py`` holds what the actions do (run conf,
retry ids, the guarded reset), shared with the CLI. Nothing here runs at import time: the app is built on its first
request.
"""

from __future__ import annotations

PRODUCT_NAME = "Zoho ⇄ CS-Cart"
URL_PREFIX = "/zoho-cscart"
"""Where the api-server mounts the console's app (``/zoho-cscart/``)."""
URL_ROUTE = "zoho-cscart"
"""The Airflow UI route of the page (``/plugin/zoho-cscart``): the UI shows the app in its frame there."""
DAG_TAB_ROUTE = "zoho-cscart-dag"
"""The route of the console's tab on each DAG's page (``/dags/<dag id>/plugin/zoho-cscart-dag``)."""
