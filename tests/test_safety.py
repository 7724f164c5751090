"""The pieces that make hostile input harmless (autograder/safety.py, feedback bounds)."""

from __future__ import annotations

import os
import time

import pytest

from autograder.feedback import bound_cells
from autograder.notebooks import BadNotebook, read_submission
from autograder.safety import (
    NotARegularFile,
    clean_text,
    csp_meta,
    read_regular_file,
    sanitize_html,
    shown,
)


def test_clean_text_replaces_lone_surrogates_only():
    assert clean_text("a\ud800b") == "a\ufffdb"
    assert clean_text("\ud83d\ude00") == "\U0001f600"  # a valid pair stays one character
    assert clean_text("plain é") == "plain é"
    clean_text("x\udfff" * 1000).encode("utf-8")


def test_shown_makes_separators_and_controls_visible():
    text = shown("mallory\n  correct\uff0f01: forged\r\x1b[2J\u2028\u202e")
    assert "\n" not in text and "\r" not in text and "\x1b" not in text
    assert "\\uff0f" in text and "\\u2028" in text and "\\u202e" in text
    assert shown("x" * 900, limit=10).startswith("x" * 10)


def test_only_regular_files_are_read(tmp_path):
    (tmp_path / "real").write_bytes(b"{}")
    assert read_regular_file(tmp_path / "real", 10) == b"{}"
    (tmp_path / "link").symlink_to(tmp_path / "real")
    os.mkfifo(tmp_path / "fifo")
    with open(tmp_path / "sparse", "wb") as handle:
        handle.truncate(1 << 40)
    started = time.monotonic()
    for name, words in (("link", "symbolic link"), ("fifo", "FIFO"), ("sparse", "too large")):
        with pytest.raises(NotARegularFile, match=words):
            read_regular_file(tmp_path / name, 1000)
    assert time.monotonic() - started < 5  # nothing blocked on the FIFO or read 1 TB


def test_old_and_deep_notebooks_are_named(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text('{"nbformat": 3, "worksheets": []}')
    with pytest.raises(BadNotebook, match="old format 3"):
        read_submission(path)
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(BadNotebook, match="too deeply"):
        read_submission(path)


def test_sanitizer_removes_everything_active():
    dirty = (
        '<p onclick="x()">hi</p><script>alert(1)</script><img src=x onerror=alert(1)>'
        '<a href="javascript:alert(1)">j</a><a href="https://example.org/">ok</a>'
        '<img src="https://example.org/t.png"><iframe srcdoc="x"></iframe>'
        "<style>*{}</style><form><input></form><svg onload=x()></svg>\ud800"
    )
    clean = sanitize_html(dirty)
    for gone in (
        "onclick",
        "<script",
        "onerror",
        "javascript:",
        "<iframe",
        "<style",
        "<form",
        "<input",
        "onload",
        "example.org/t.png",
    ):
        assert gone not in clean, (gone, clean)
    assert "https://example.org/" in clean and "<p>hi</p>" in clean
    clean.encode("utf-8")


def test_csp_allows_our_inline_scripts_by_hash_only():
    meta = csp_meta('<script src="mathjax/tex.js"></script><script>var a = 1;</script>')
    assert "default-src 'none'" in meta and "connect-src 'none'" in meta
    assert meta.count("'sha256-") == 1 and "'unsafe-inline'" not in meta.split("style-src")[0]


def test_feedback_cells_are_bounded_but_tests_kept():
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "x"} for _ in range(5000)]
    cells.append(
        {
            "cell_type": "code",
            "source": "t",
            "outputs": [],
            "metadata": {"nbgrader": {"grade": True, "solution": False}},
        }
    )
    kept, note = bound_cells(cells, max_cells=100)
    assert len(kept) == 102 and kept[-1] is cells[-1]
    assert "4,900 cells not shown" in kept[100]["source"] and "at most 100 cells" in note
    assert bound_cells(cells[:10])[1] == ""
