"""pytest plugin: `sandbox` (session; both servers on free loopback ports), `sandbox_clean` (reset first)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zoho_cscart_sandbox.handle import SandboxHandle, start_in_process


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxHandle]:
    handle = start_in_process()
    try:
        yield handle
    finally:
        if handle.servers is not None:
            handle.servers.stop()


@pytest.fixture
def sandbox_clean(sandbox: SandboxHandle) -> SandboxHandle:
    sandbox.reset()
    return sandbox
