"""nbgrader's configuration for this course.

So that stock nbgrader commands run from the course root (``nbgrader export``,
``nbgrader autograde``, formgrader) use the same folders and the same gradebook as
``python -m autograder``.

Every path comes from ``autograder/course_dir.py``: nothing is repeated here.
"""

import os
import sys

_ROOT = os.path.dirname(os.path.abspath(__file__))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from autograder import course_dir  # noqa: E402

c = get_config()  # noqa: F821 (nbgrader provides get_config when it loads this file)
c.merge(course_dir.nbgrader_config())
# `nbgrader generate_assignment` from the root records the assignments in the gradebook.
c.GenerateAssignment.no_database = False
