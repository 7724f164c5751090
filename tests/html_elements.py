"""Reading the explorers' HTML in tests: start tags, attributes and embedded JSON."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of <script> elements by id."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: dict[str, str] = {}
        self._script_id: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "script":
            self._script_id = attrs.get("id", f"script-{len(self.scripts)}")
            self.scripts[self._script_id] = ""

    def handle_endtag(self, tag):
        if tag == "script":
            self._script_id = None

    def handle_data(self, data):
        if self._script_id is not None:
            self.scripts[self._script_id] += data

    def find(self, tag=None, **attrs) -> list[dict]:
        return [
            a
            for t, a in self.tags
            if (tag is None or t == tag)
            and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def with_class(self, name: str) -> list[dict]:
        return [a for _, a in self.tags if name in (a.get("class") or "").split()]


def embedded(el: Elements) -> dict:
    """The JSON data block (the one ``<script>`` whose id ends in ``-data``)."""
    (key,) = [k for k in el.scripts if k.endswith("-data")]
    return json.loads(el.scripts[key])


def script_suffixes(kind: str) -> set[str]:
    """The ids the shared script reads for an explorer of ``kind``: ``id + "-SUFFIX"``."""
    from course.explorers import ASSETS_DIR

    js = (ASSETS_DIR / "explorers.js").read_text(encoding="utf-8")
    blocks = dict(
        re.findall(r'kinds\["([^"]+)"\] = function \(root\) \{(.*?)\n  \};', js, re.DOTALL)
    )
    return set(re.findall(r'getElementById\(id \+ "(-[^"]+)"\)', blocks[kind]))
