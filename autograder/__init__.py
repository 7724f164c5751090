"""The course's grading machinery: `python -m autograder release | check | grade`.

Kept import-light: the sandboxed worker imports this package too.
"""
