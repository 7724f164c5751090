"""Glue between the chapters' code cells and their prose (MyST-NB's ``glue``).

Every chapter states its numbers through ``{glue:text}`` roles, computed by the chapter's own
code; this is the one helper they share for that::

    from course.book import glue_number as g

    g("p_max", probabilities.max())   # then {glue:text}`p_max:.3f` in the prose
"""

from __future__ import annotations

import numbers

from myst_nb import glue


def glue_number(name: str, value: object) -> None:
    """Glue one number into the text, as a plain Python ``int`` or ``float``.

    Integers (Python or NumPy, not ``bool``) stay integers, so that counts print without a
    decimal point; everything else (NumPy scalars, 0-d arrays) becomes a ``float``. Nothing
    is displayed where the cell runs.

    Args:
        name: the glue key the prose refers to.
        value: the number.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        glue(name, int(value), display=False)
    else:
        glue(name, float(value), display=False)  # type: ignore[arg-type]
