"""A real browser for the page tests and the page benchmark: Debian's ``chromium`` driven by
Python ``playwright`` (never ``playwright install``: the system browser is the one tested),
plus a live WSGI server for an app in a background thread.

Install the browser with ``apt-get install -y chromium`` (``.ci/run`` and ``make test`` do it
when it is missing).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: Headless, offline-quiet flags (no background updates, sync or first-run requests).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def chromium_path() -> str | None:
    """The Chromium executable, or ``None`` when it is not installed."""
    found = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    return found


@contextmanager
def launch() -> Iterator[Any]:
    """A headless Chromium (a ``playwright.sync_api.Browser``); closed on exit."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def live_server(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` (threaded werkzeug) on a free loopback port; yields the base URL."""
    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


__all__ = ["CHROMIUM_ARGS", "chromium_path", "launch", "live_server"]
