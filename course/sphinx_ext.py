"""The book's own Sphinx additions: author-year bibliography labels and dark-mode figures.

Loaded as a Sphinx extension (``sphinx.config.extensions`` in ``_config.yml``).

Bibliography labels
    sphinxcontrib-bibtex labels each entry with its pybtex formatting style's label style
    (``alpha`` by default: "Gol91", "Thegauthors26a"). :class:`AuthorYearLabelStyle`
    gives "Goldberg 1991", "Blanchard et al. 2021", "SciPy developers 2026a" instead,
    registered as the pybtex style ``courseauthoryear`` (``bibtex_default_style``).
    Each chapter keeps its own bibliography (``:keyprefix:``); a work cited in several
    chapters has a copy in each chapter's .bib file, so the a/b suffixes that tell apart
    two works of one author and year are assigned once for the whole book, over every
    configured .bib file, by work (title): the same work gets the same label on every
    page and two works never share one. (sphinxcontrib-bibtex's ``duplicate_label``
    check compares keys, not works, so it is silenced for these copies.)

Figures in dark mode
    The figures are SVGs with transparent backgrounds and dark ink (course/plotting.py).
    ``book/_static/figures.css`` inverts their lightness in dark mode (``invert`` then a half turn of
    hue, which keeps each colour's hue) instead of the theme's default white box.
"""

from __future__ import annotations

import re
import string
from collections import defaultdict
from pathlib import Path
from typing import Any

from pybtex.database import Entry, parse_file
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from sphinxcontrib.bibtex.style.referencing import basic_author_year, extra_year
from sphinxcontrib.bibtex.style.template import node

#: key -> label for every entry of the configured .bib files (filled at config time).
LABELS: dict[str, str] = {}


def _plain(latex: str) -> str:
    r"""BibTeX text as readers see it: 'M\"uller' -> 'Müller', '{SciPy}' -> 'SciPy'."""
    return Text.from_latex(latex).render_as("text")


def _surname(person: Any) -> str:
    """A person's last name as printed: '{SciPy developers}' -> 'SciPy developers'."""
    return _plain(" ".join(person.prelast_names + person.last_names))


def base_label(entry: Entry) -> str:
    """'Goldberg 1991', 'Dao & Ermon 2022', 'Blanchard et al. 2021' (no a/b suffix).

    Args:
        entry: the bibliography entry.
    """
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_surname(p) for p in people]
    if not names:
        who = _plain(entry.fields.get("organization", entry.fields.get("title", "Anon")))
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} & {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who} {entry.fields.get('year', 'n.d.')}"


def work(entry: Entry) -> str:
    """What makes two entries the same work: their title, letters and digits only.

    Args:
        entry: the bibliography entry.
    """
    return re.sub(r"[^a-z0-9]", "", entry.fields.get("title", "").lower())


def book_labels(entries: list[Entry]) -> dict[str, str]:
    """Labels for every entry, unique per work across the whole list.

    Works sharing a base label get suffixes a, b, ... in order of title, so the suffix
    of a work does not depend on which chapter cites it.

    Args:
        entries: every entry of the book's bibliography.

    Returns:
        The label of each entry, by its key.
    """
    by_base: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        by_base[base_label(entry)].add(work(entry))
    labels = {}
    for entry in entries:
        base, works = base_label(entry), sorted(by_base[base_label(entry)])
        suffix = string.ascii_lowercase[works.index(work(entry))] if len(works) > 1 else ""
        labels[entry.key] = base + suffix
    return labels


class AuthorYearLabelStyle(BaseLabelStyle):
    """pybtex label style: the book-wide author-year label of each entry."""

    def format_labels(self, sorted_entries):
        """The label of each entry: its book-wide label, or its base label if unknown.

        Args:
            sorted_entries: the entries of one bibliography, as the style sorted them.

        Yields:
            One label per entry, in that order.
        """
        for entry in sorted_entries:
            yield LABELS.get(entry.key) or base_label(entry)


class AuthorYearStyle(UnsrtStyle):
    """The unsrt formatting style with author-year labels."""

    default_label_style = "courseauthoryear"


@node
def year_as_labelled(children, data) -> Text:
    """An entry's year as its book-wide label has it: with the label's a/b suffix.

    sphinxcontrib-bibtex's author-year citations print the bare year field, so two works
    of "SciPy developers 2026c" and "2026d" were both cited in the text as
    "SciPy developers, 2026". This template node replaces its ``year`` node in the
    author-year reference styles (their templates look the name up when they are built,
    in :mod:`sphinxcontrib.bibtex.style.referencing.basic_author_year` and ``extra_year``).

    Args:
        children: the node's children (none).
        data: the template's data; ``data["entry"]`` is the cited entry.

    Returns:
        The year, followed by the suffix of the entry's label if it has one.
    """
    assert not children
    entry = data["entry"]
    base, label = base_label(entry), LABELS.get(entry.key, "")
    suffix = label[len(base) :] if label.startswith(base) else ""
    return Text(entry.fields.get("year", "n.d.") + suffix)


basic_author_year.year = year_as_labelled
extra_year.year = year_as_labelled

register_plugin("pybtex.style.labels", "courseauthoryear", AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", "courseauthoryear", AuthorYearStyle)


def _read_labels(app, config) -> None:
    entries = []
    for name in config.bibtex_bibfiles:
        path = Path(app.srcdir) / name
        entries.extend(parse_file(str(path)).entries.values())
    LABELS.clear()
    LABELS.update(book_labels(entries))


#: What replaces the theme's Font Awesome script in the built site.
ICON_SCRIPT_STUB = (
    "/* Emptied by course/sphinx_ext.py: the icons are drawn by the Font Awesome web font\n"
    "   that the theme's stylesheet already loads (pydata-sphinx-theme.css); the script\n"
    "   only redrew them as inline SVG, for 1.5 MB on every first page view. */\n"
)


def _drop_icon_script(app, exception) -> None:
    """Empty the theme's ``_static/scripts/fontawesome.js`` in the built site.

    pydata-sphinx-theme loads Font Awesome twice: as a web font through its stylesheet
    (every ``fa-*`` class has its glyph there) and as Font Awesome's SVG-with-JavaScript
    bundle, which swaps each ``<i class="fa-...">`` for an inline SVG of the same icon.
    The bundle is 1.5 MB, over a third of a page's first view; nothing else uses it
    (``tests/test_site_screens.py`` checks the icons still show).

    Args:
        app: The Sphinx application.
        exception: The build's exception, or None when it succeeded.
    """
    if exception is not None or app.builder.format != "html":
        return
    script = Path(app.outdir) / "_static" / "scripts" / "fontawesome.js"
    if script.exists():
        script.write_text(ICON_SCRIPT_STUB, encoding="utf-8")


def setup(app) -> dict[str, Any]:
    """Register the label style's data, the figure stylesheet and the icon-script stub.

    Args:
        app: the Sphinx application.

    Returns:
        The extension's metadata: safe for parallel reading and writing.
    """
    app.connect("config-inited", _read_labels, priority=900)
    app.connect("build-finished", _drop_icon_script)
    app.add_css_file("figures.css")  # book/_static/figures.css
    return {"parallel_read_safe": True, "parallel_write_safe": True}
