"""course.book: the glue helper every chapter imports instead of pasting its own."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from course import book

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (3, 3),
        (np.int64(7), 7),
        (2.5, 2.5),
        (np.float32(0.25), 0.25),
        (np.array(1.5), 1.5),
        (True, 1.0),
    ],
)
def test_glue_number_gives_plain_python_numbers(monkeypatch, value, want):
    calls = []
    monkeypatch.setattr(book, "glue", lambda name, v, display: calls.append((name, v, display)))
    book.glue_number("x", value)
    ((name, got, display),) = calls
    assert name == "x" and display is False
    assert got == want and type(got) is type(want)


def test_no_chapter_pastes_its_own_glue_helper():
    pages = sorted((ROOT / "book").glob("*.md"))
    pasted = [p.name for p in pages if re.search(r"^def g\(", p.read_text(encoding="utf-8"), re.M)]
    assert not pasted, f"define g() once, in course/book.py: {pasted}"
    users = [p.name for p in pages if "glue_number as g" in p.read_text(encoding="utf-8")]
    assert len(users) >= 7, users
