"""Entry point: python -m zoho_cscart_sandbox serve|start|stop|status."""

from __future__ import annotations

import sys

from zoho_cscart_sandbox.cli import main

sys.exit(main())
