"""Shared code of the softmax course: checks for the exercises, the reference
functions (read from the solution notebooks), and plotting helpers for the book."""
