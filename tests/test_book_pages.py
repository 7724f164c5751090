"""The book's pages, read as sources: cross-references, citations, order, summaries.

These tests read the Markdown and BibTeX files only; no build is needed. The built
pages (and the numbers they show) are checked in test_book.py.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from pybtex.database import parse_file

from conftest import ROOT

BOOK = ROOT / "book"
CHAPTER_MENTION = re.compile(r"\b[Cc]hapters?\s*\(?\s*0\d\b")


def toc_pages() -> list[str]:
    """The pages of _toc.yml, root first, in reading order (paths without suffix)."""
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    root = re.search(r"^root:\s*(\S+)", toc, re.M).group(1)
    return [root] + re.findall(r"^\s*-\s*file:\s*(\S+)", toc, re.M)


def prose(markdown: str) -> str:
    """The reader-visible prose of a MyST page: no front matter, code, links or roles.

    Code blocks (``` alone, ```python, ```{code-cell} ...) are dropped; other fenced
    directives ({glue:figure}, {note} ...) keep their text, which readers see.
    """
    text = re.sub(r"\A---\n.*?\n---\n", "", markdown, flags=re.S)  # front matter
    kept, fence, skip = [], None, False
    for line in text.splitlines():
        opener = re.match(r"^(`{3,}|~{3,})(.*)$", line)
        if fence is None and opener:
            fence, info = opener.group(1), opener.group(2).strip()
            skip = re.fullmatch(r"\w*", info) is not None or info.startswith("{code-cell}")
            continue
        if fence is not None and line.strip() == fence:
            fence, skip = None, False
            continue
        if not skip:
            kept.append(line)
    text = "\n".join(kept)
    text = re.sub(r"\[[^\]]*\]\([^)]*\)", "", text)  # [text](target)
    text = re.sub(r"\{(doc|ref|numref|eq|download)\}`[^`]*`", "", text)  # roles
    return re.sub(r"(?<!`)`[^`\n]+`(?!`)", "", text)  # inline code


def plain_chapter_mentions(markdown: str) -> list[str]:
    """Every "chapter NN" of the prose that is not a link."""
    return [m.group(0) for m in CHAPTER_MENTION.finditer(prose(markdown))]


def test_the_mention_finder_tells_links_from_plain_text():
    assert plain_chapter_mentions("as chapter 03 shows") == ["chapter 03"]
    assert plain_chapter_mentions("Chapter 01 and chapters 03 and 04") == [
        "Chapter 01",
        "chapters 03",
    ]
    assert plain_chapter_mentions("its own chapter (04).") == ["chapter (04"]
    assert plain_chapter_mentions("see [chapter 03](03-stability.md)") == []
    assert plain_chapter_mentions("chapters [03](03-stability.md) and [04](04-x.md)") == []
    assert plain_chapter_mentions("{doc}`chapter 05 <05-cross-entropy>`") == []
    assert plain_chapter_mentions("```python\n# chapter 02\n```\n") == []
    assert plain_chapter_mentions("```{code-cell} ipython3\n# chapter 02\n```\n") == []
    assert plain_chapter_mentions("```{glue:figure} f\nAs in chapter 02.\n```\n") == ["chapter 02"]


@pytest.mark.parametrize("page", toc_pages())
def test_every_chapter_mention_is_a_link(page):
    path = ROOT / f"{page}.md"
    assert path.is_file(), f"_toc.yml names {page}, which does not exist"
    plain = plain_chapter_mentions(path.read_text(encoding="utf-8"))
    assert not plain, (
        f"{path.name}: write these as links, e.g. [chapter 03](03-stability.md): {plain}"
    )


def test_toc_reads_intro_chapters_notation_where_next():
    pages = toc_pages()
    assert pages[0] == "book/intro"
    chapters = [p for p in pages if re.fullmatch(r"book/0\d-[a-z0-9-]+", p)]
    numbers = [int(p[5:7]) for p in chapters]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 6, chapters
    assert pages.index("book/notation") == pages.index("book/where-next") - 1
    assert pages.index("book/notation") > pages.index(chapters[-1])


SUMMARISED = ["01-definition", "03-stability", "04-log-sum-exp", "06-attention-masking"]


def section(markdown: str, title: str) -> str:
    """The body of the level-2 section with this title ('' if there is none)."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.S | re.M)
    return match.group(1) if match else ""


@pytest.mark.parametrize("chapter", SUMMARISED)
def test_chapter_ends_with_takeaways_and_a_quiz_that_needs_no_kernel(chapter):
    text = (BOOK / f"{chapter}.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings[-4:] == ["Key takeaways", "Self-check quiz", "Exercises", "References"], (
        headings[-4:]
    )
    bullets = re.findall(r"^- ", section(text, "Key takeaways"), re.M)
    assert 1 <= len(bullets) <= 5, f"{chapter}: {len(bullets)} takeaways"
    quiz = section(text, "Self-check quiz")
    questions = re.findall(r"^\*\*\d+\.\*\*", quiz, re.M)
    answers = re.findall(r"^:::\{dropdown\} Answer\n", quiz, re.M)
    assert len(questions) >= 3 and len(answers) == len(questions), (questions, answers)


def normalised_title(title: str) -> str:
    return re.sub(r"[^a-z0-9]", "", title.lower())


def project(author: str) -> str:
    """'{The SciPy community}' and '{SciPy developers}' -> 'scipy'."""
    words = re.sub(r"[{}]", "", author).lower().split()
    rest = [
        w
        for w in words
        if w not in {"the", "developers", "community", "contributors", "authors", "team"}
    ]
    return " ".join(rest)


def bib_entries() -> list[tuple[str, str, dict, tuple]]:
    entries = []
    for path in sorted(BOOK.glob("references*.bib")):
        for key, entry in parse_file(str(path)).entries.items():
            persons = tuple(
                (role, tuple(str(p) for p in people))
                for role, people in sorted(entry.persons.items())
            )
            entries.append((path.name, key, dict(entry.fields), persons))
    return entries


def test_bib_entries_for_one_work_agree():
    by_title = defaultdict(list)
    for name, key, fields, persons in bib_entries():
        by_title[normalised_title(fields["title"])].append((name, key, fields, persons))
    disagree = []
    for versions in by_title.values():
        first = versions[0]
        for other in versions[1:]:
            if (other[2], other[3]) != (first[2], first[3]):
                disagree.append((f"{first[0]}:{first[1]}", f"{other[0]}:{other[1]}"))
    assert not disagree, f"the same work cited differently: {disagree}"


def test_documentation_of_one_project_is_cited_alike():
    """A project's docs and code are cited with one author name and one year everywhere.

    (Its issues and pull requests are dated works of their own and keep their years.)
    """
    by_project = defaultdict(set)
    for _name, _key, fields, persons in bib_entries():
        authors = dict(persons).get("author", ())
        dated = re.search(r"issue|pull request", fields.get("howpublished", ""), re.I)
        if len(authors) == 1 and authors[0].startswith("{") and not dated:
            by_project[project(authors[0])].add((authors[0], fields["year"]))
    mixed = {p: sorted(v) for p, v in by_project.items() if len(v) > 1}
    assert not mixed, mixed


def test_every_bib_file_is_configured():
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    for path in BOOK.glob("references*.bib"):
        assert f"book/{path.name}" in config, f"{path.name} is missing from bibtex_bibfiles"


IVERSON_USE = re.compile(r"\[(?:[a-z] = [a-z]_?[a-z]?|\\text\{mask|P\])")


def test_the_iverson_bracket_is_explained_where_it_first_appears():
    for page in toc_pages():
        text = prose((ROOT / f"{page}.md").read_text(encoding="utf-8").replace("`", ""))
        first = IVERSON_USE.search(text)
        if first:
            nearby = text[max(0, first.start() - 400) : first.end() + 400]
            assert "Iverson" in nearby, f"{page}: {first.group(0)} is used before it is explained"
            return
    pytest.fail("no page uses the Iverson bracket")


def test_intro_states_the_prerequisites():
    text = (BOOK / "intro.md").read_text(encoding="utf-8")
    prerequisites = section(text, "Who it is for")
    for needed in (
        "linear algebra",
        "rank",
        "eigenvalues",
        "Floating point",
        "Iverson",
        "probability",
        "derivatives",
    ):
        assert needed in prerequisites, needed
