"""The reference solutions define exactly the contract's functions and signatures
(../shared/CONTRACT.md, section 1)."""

import inspect

import pytest

import course.reference as reference
from autograder import course_dir
from autograder.notebooks import load_assignment

CONTRACT = {
    "01-definition": {"softmax": "(z, axis=-1)", "sigmoid": "(x)"},
    "02-temperature": {
        "softmax_with_temperature": "(z, temperature=1.0, axis=-1)",
        "entropy": "(p, axis=-1)",
        "sample": "(logits, temperature=1.0, rng=None, size=None)",
        "top_k_filter": "(logits, k)",
        "top_p_filter": "(logits, p)",
    },
    "03-stability": {"stable_softmax": "(z, axis=-1)"},
    "04-log-sum-exp": {"logsumexp": "(z, axis=-1, keepdims=False)", "log_softmax": "(z, axis=-1)"},
    "05-cross-entropy": {
        "cross_entropy": "(logits, targets)",
        "cross_entropy_grad": "(logits, targets)",
        "softmax_jacobian": "(z)",
    },
    "06-attention-masking": {
        "causal_mask": "(n)",
        "padding_mask": "(lengths, n)",
        "masked_softmax": "(scores, mask, axis=-1)",
        "scaled_dot_product_attention": "(q, k, v, mask=None)",
    },
    "07-softmax-at-scale": {
        "merge_partials": "(m_a, s_a, m_b, s_b)",
        "online_logsumexp": "(blocks)",
        "chunked_cross_entropy": "(hidden, weight, targets, chunk_size=1024)",
        "chunked_cross_entropy_grad": "(hidden, weight, targets, chunk_size=1024)",
        "flash_attention": "(q, k, v, mask=None, block_size=64)",
    },
}


@pytest.mark.parametrize("assignment_id", course_dir.assignment_ids())
def test_chapter_defines_the_contract_functions(assignment_id):
    assert assignment_id in CONTRACT, f"{assignment_id} is not a chapter of the contract"
    source = load_assignment(course_dir.notebook_path(assignment_id), assignment_id)
    assert set(source.solutions) == set(CONTRACT[assignment_id])
    namespace = reference.chapter(assignment_id)
    for name, signature in CONTRACT[assignment_id].items():
        assert str(inspect.signature(namespace[name])) == signature, name
        assert inspect.getdoc(namespace[name]), f"{name} has no docstring"


def test_chapters_are_in_course_order():
    ids = course_dir.assignment_ids()
    assert ids == [a for a in CONTRACT if a in ids]
    assert ids[0] == "01-definition"
