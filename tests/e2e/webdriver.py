"""A minimal W3C WebDriver client for Debian's chromium + chromium-driver (no Selenium dependency).

Only what the console's browser test needs: open a page, set or clear cookies, find elements by CSS, read text, type,
click, take a screenshot. ``chromedriver_path()`` says whether the browser is installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

ELEMENT = "element-6066-11e4-a52f-4d65726c656d"


def chromedriver_path() -> str | None:
    return shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _element(reference: dict[str, str]) -> str:
    """The element id of a W3C reference (or of chromedriver's legacy ``ELEMENT`` key)."""
    return reference.get(ELEMENT) or next(iter(reference.values()))


class Browser:
    """One headless chromium session driven through chromedriver on a free loopback port."""

    def __init__(self, driver: str, binary: str, *, width: int = 1400, height: int = 1100) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self._driver = subprocess.Popen(
            [driver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        self._http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self._http.get("/status").json()["value"]["ready"]:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self._driver.kill()
                raise TimeoutError("chromedriver did not start")
            time.sleep(0.2)
        options = {
            "binary": binary,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}"],
        }  # fmt: skip
        answer = self._call("POST", "/session", {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}})
        self._session = answer["sessionId"]

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=body)
        value = response.json().get("value")
        if response.status_code >= 400:
            raise RuntimeError(f"webdriver {method} {path}: {value}")
        return value

    def _s(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call(method, f"/session/{self._session}{path}", body)

    def get(self, url: str) -> None:
        self._s("POST", "/url", {"url": url})

    def add_cookie(self, name: str, value: str) -> None:
        self._s("POST", "/cookie", {"cookie": {"name": name, "value": value, "path": "/"}})

    def delete_cookies(self) -> None:
        self._s("DELETE", "/cookie")

    def current_url(self) -> str:
        return str(self._s("GET", "/url"))

    def type(self, css: str, text: str) -> None:
        """Type ``text`` into the element (key events, so script-driven forms such as Airflow's login see it)."""
        element = _element(self._s("POST", "/element", {"using": "css selector", "value": css}))
        self._s("POST", f"/element/{element}/value", {"text": text})

    def find_all(self, css: str) -> list[str]:
        return [_element(e) for e in self._s("POST", "/elements", {"using": "css selector", "value": css})]

    def text(self, css: str) -> str:
        element = _element(self._s("POST", "/element", {"using": "css selector", "value": css}))
        return str(self._s("GET", f"/element/{element}/text"))

    def click(self, css: str) -> None:
        element = _element(self._s("POST", "/element", {"using": "css selector", "value": css}))
        self._s("POST", f"/element/{element}/click", {})

    def source(self) -> str:
        return str(self._s("GET", "/source"))

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self._s("GET", "/screenshot")))

    def enabled(self, css: str) -> bool:
        element = _element(self._s("POST", "/element", {"using": "css selector", "value": css}))
        return bool(self._s("GET", f"/element/{element}/enabled"))

    def wait_for(self, css: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.find_all(css):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{css} did not appear")
            time.sleep(0.2)

    def quit(self) -> None:
        try:
            self._s("DELETE", "")
        finally:
            self._http.close()
            self._driver.terminate()
            try:
                self._driver.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._driver.kill()
