"""Shared code of the softmax course, imported by the chapters and the notebooks.

Checks for the exercises, the reference functions (read from the solution notebooks),
and plotting helpers for the book.

Students get only the helpers the exercise notebooks import (``course.checks`` and
``course.gradcheck``), in the student kit; the rest stays with the instructor.
"""
