"""Helpers of the browser tests: Debian's Chromium through Playwright, a local server.

Used by conftest.py's session-scoped ``browser`` fixture and by the browser test modules
(which import nothing from each other).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import tempfile
import threading
from pathlib import Path

import yaml

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: Screenshots for people to look at: outside the checkout (tests write nothing into it).
SHOTS = Path(
    os.environ.get("SOFTMAX_SCREENSHOTS")
    or Path(tempfile.gettempdir()) / "softmax-course-screenshots"
)
TIMEOUT_MS = 30_000
#: The course's root folder (the site's sources).
ROOT = Path(__file__).resolve().parent.parent


def toc_pages() -> list[str]:
    """Every page named in _toc.yml (root, parts, chapters, sections), in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                pages.append(str(node["file"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return [re.sub(r"\.(md|ipynb|rst)$", "", p) for p in dict.fromkeys(pages)]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


def serve(directory: Path):
    """Serve ``directory`` over HTTP on a random local port: (server, origin URL)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class Watched:
    """A page with everything the browser reported about it."""

    def __init__(self, context, origin: str):
        self.origin = origin
        self.page = context.new_page()
        self.requests: list[str] = []
        self.reports: list[str] = []
        self.pending: set = set()
        self.page.on("request", self._started)
        self.page.on("requestfinished", lambda r: self.pending.discard(r))
        self.page.on("requestfailed", lambda r: self.pending.discard(r))
        self.page.on(
            "console",
            lambda m: (
                m.type == "error"
                and self.reports.append(f"console: {m.text} ({m.location.get('url', '')})")
            ),
        )
        self.page.on("pageerror", lambda e: self.reports.append(f"page error: {e}"))
        self.page.on(
            "requestfailed", lambda r: self.reports.append(f"request failed: {r.url} ({r.failure})")
        )
        self.page.on(
            "response",
            lambda r: r.status >= 400 and self.reports.append(f"HTTP {r.status}: {r.url}"),
        )

    def _started(self, request):
        self.requests.append(request.url)
        self.pending.add(request)

    def settle(self, quiet_ms: int = 500, limit_ms: int = 15_000) -> None:
        """Wait until no request has been in flight for ``quiet_ms``; a request still
        pending after ``limit_ms`` is reported as an error."""
        quiet = waited = 0
        while quiet < quiet_ms and waited < limit_ms:
            self.page.wait_for_timeout(100)
            waited += 100
            quiet = quiet + 100 if not self.pending else 0
        if self.pending:
            self.reports.append(f"requests still pending: {[r.url for r in self.pending]}")

    @property
    def errors(self) -> list[str]:
        """Console errors, page errors and failed requests (the site serves /favicon.ico
        too, so the browser's own request for it counts like any other)."""
        return list(self.reports)

    def external(self) -> list[str]:
        """Requested URLs outside the local server (data: and blob: URLs are fine)."""
        return [
            u
            for u in self.requests
            if not (u.startswith(self.origin + "/") or u.startswith(("data:", "blob:")))
        ]

    def goto(self, path: str):
        self.page.goto(f"{self.origin}/{path}", wait_until="load")
        return self.page


def explorer_overflow(page) -> list[str]:
    """Explorers that stick out of the viewport on the right."""
    return page.evaluate("""() => Array.from(document.querySelectorAll("[data-explorer]"))
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map(e => e.id)""")


def wait_for_mathjax(page) -> None:
    """Wait until MathJax has typeset the page (if the page has maths)."""
    if page.locator(".math").count() == 0:
        return
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise.then(() => true)")
    page.wait_for_selector("mjx-container", state="attached")
