"""The built pages read as a reader reads them: citations, table captions, chapter links.

test_book_pages.py checks the Markdown sources; these tests check the HTML the build
made from them (glued text and generated Markdown included), and the bibliography label
style of course/sphinx_ext.py on its own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html import unescape

import pytest
from pybtex.database import parse_string

from course.sphinx_ext import base_label, book_labels

from conftest import ROOT

LABEL = re.compile(r"^[^\d\[\]]+ (\d{4})[a-z]?$")  # "Goldberg 1991", "Dao et al. 2022b"


def _entries(bibtex: str):
    return list(parse_string(bibtex, "bibtex").entries.values())


def test_labels_are_author_year_and_one_per_work_across_files():
    entries = _entries(r"""
    @book{a_bishop, author = {Christopher M. Bishop}, title = {Pattern Recognition}, year = {2006}}
    @misc{a_sp1, author = {{SciPy developers}}, title = {scipy.special.softmax}, year = {2026}}
    @misc{b_sp1, author = {{SciPy developers}}, title = {scipy.special.Softmax}, year = {2026}}
    @misc{b_sp2, author = {{SciPy developers}}, title = {scipy.special.logsumexp}, year = {2026}}
    @article{b_two, author = {Tri Dao and Stefano Ermon}, title = {X}, year = {2022}}
    @article{b_many, author = {R. M{\"u}ller and S. Kornblith and G. Hinton}, title = {Y},
             year = {2019}}
    """)
    labels = book_labels(entries)
    assert labels["a_bishop"] == "Bishop 2006"
    assert labels["a_sp1"] == labels["b_sp1"]  # one work, two chapters' copies
    assert labels["b_sp2"] != labels["b_sp1"]  # two works, never one label
    assert {labels["b_sp1"], labels["b_sp2"]} == {
        "SciPy developers 2026a",
        "SciPy developers 2026b",
    }
    assert labels["b_two"] == "Dao & Ermon 2022"
    assert labels["b_many"] == "Müller et al. 2019"
    assert all(LABEL.match(v) for v in labels.values()), labels
    assert base_label(entries[0]) == "Bishop 2006"


def test_every_book_entry_gets_a_readable_label():
    from pybtex.database import parse_file

    entries = [
        e
        for path in sorted((ROOT / "book").glob("references*.bib"))
        for e in parse_file(str(path)).entries.values()
    ]
    labels = book_labels(entries)
    unreadable = {k: v for k, v in labels.items() if not LABEL.match(v) or "\\" in v}
    assert not unreadable, unreadable
    for entry in entries:
        assert LABEL.match(labels[entry.key]).group(1) == entry.fields["year"], entry.key


# ----------------------------------------------------------------------- the built site


def _pages():
    from browsing import toc_pages

    return toc_pages()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


def _bibliography(html: str) -> list[tuple[str, str]]:
    """(label, entry text) of every entry in a page's bibliography."""
    return [
        (_text(label), re.sub(r"^\(\d+(,\d+)*\)\s*", "", _text(body)))  # no backlinks
        for label, body in re.findall(
            r'role="doc-biblioentry">\s*<span class="label">(.*?)</span></span>\s*(.*?)</div>',
            html,
            re.DOTALL,
        )
    ]


@pytest.mark.slow
def test_one_label_and_one_year_per_work_on_every_page(site):
    label_of, work_of, seen = defaultdict(set), defaultdict(set), 0
    for page in _pages():
        html = (site / f"{page}.html").read_text(encoding="utf-8")
        for label, body in _bibliography(html):
            seen += 1
            label = label.strip("[]")
            match = LABEL.match(label)
            assert match, f"{page}: label {label!r} is not author-year"
            assert f"{match.group(1)}." in body or f"{match.group(1)}," in body, (
                f"{page}: {label} but the entry reads {body!r}"
            )
            label_of[body].add(label)
            work_of[label].add(body)
        # inline citations name the year their entry's label does
        labels = {
            cid: _text(lab).strip("[]")
            for cid, lab in re.findall(
                r'<div class="citation" id="([^"]+)" role="doc-biblioentry">\s*'
                r'<span class="label">(.*?)</span></span>',
                html,
                re.DOTALL,
            )
        }
        for cid, shown in re.findall(
            r'class="reference internal" href="#([^"]+)"[^>]*>'
            r"([^<]*\d{4}[a-z]?)</a>",
            html,
        ):
            if cid in labels:
                # the year with the label's a/b suffix: two works of one author and year
                # must not read alike in the text
                year = LABEL.match(labels[cid]).group(1)
                suffixed = labels[cid].rsplit(" ", 1)[1]
                assert re.search(rf"\b{suffixed}$", shown), (
                    f"{page}: cited as {shown!r}, listed as {labels[cid]}"
                )
                assert year in shown
    assert seen >= 40, f"only {seen} bibliography entries found"
    assert not {b: v for b, v in label_of.items() if len(v) > 1}, "a work with two labels"
    assert not {lab: v for lab, v in work_of.items() if len(v) > 1}, "a label for two works"


@pytest.mark.slow
def test_tables_are_captioned_as_tables_not_figures(site):
    tables = 0
    for page in _pages():
        html = (site / f"{page}.html").read_text(encoding="utf-8")
        for figure in re.findall(r"<figure.*?</figure>", html, re.DOTALL):
            assert "<table" not in figure, f"{page}: a table inside a figure ({_text(figure)[:80]})"
        for caption in re.findall(r"<caption>(.*?)</caption>", html, re.DOTALL):
            tables += 1
            assert re.match(r"Table \d+ ", _text(caption)), f"{page}: {_text(caption)[:80]}"
    assert tables >= 2, "the chapter 02 tables have no captions"


def _prose_outside_links(html: str) -> str:
    body = re.search(r'<article class="bd-article".*?</article>', html, re.DOTALL).group(0)
    body = re.sub(r"<(script|style|pre|code|a)\b.*?</\1>", " ", body, flags=re.DOTALL)
    body = re.sub(r'<div class="cell_input.*?</div>\s*</div>', " ", body, flags=re.DOTALL)
    return _text(body)


@pytest.mark.slow
def test_every_chapter_mention_on_the_built_pages_is_a_link(site):
    plain = {}
    for page in _pages():
        text = _prose_outside_links((site / f"{page}.html").read_text(encoding="utf-8"))
        found = re.findall(r"\b[Cc]hapters?\s*\(?\s*0\d\b|\b[Cc]hapters? \d\b", text)
        if found:
            plain[page] = found
    assert not plain, plain
