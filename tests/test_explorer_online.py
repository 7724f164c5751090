"""Chapter 07's online-softmax explorer: its numbers, and the page it makes."""

import json
import re

import numpy as np
import pytest
import scipy.special

from course.explorer_online import (
    DEFAULT_BLOCK_SIZES,
    DEFAULT_SCORES,
    online_explorer,
    online_steps,
    step_text,
)


@pytest.mark.parametrize("block_size", [1, 2, 3, 5, 12, 40])
def test_steps_end_on_the_three_pass_answer(block_size):
    run = online_steps(DEFAULT_SCORES, block_size)
    z = np.array(DEFAULT_SCORES)
    assert len(run["steps"]) == -(-len(z) // block_size)
    assert run["lse"] == pytest.approx(scipy.special.logsumexp(z), rel=1e-14)
    assert run["three_pass"] == pytest.approx(scipy.special.logsumexp(z), rel=1e-14)
    np.testing.assert_allclose(run["softmax"], scipy.special.softmax(z), rtol=1e-13)
    for k, step in enumerate(run["steps"]):
        seen = z[: step["stop"]]
        assert step["m"] == seen.max()
        assert step["s"] == pytest.approx(np.exp(seen - seen.max()).sum(), rel=1e-13)
        if k == 0:
            assert step["m_before"] == -np.inf and step["rescale"] == 0.0
        elif step["m"] == step["m_before"]:
            assert step["rescale"] == 1.0
        else:
            assert step["rescale"] == pytest.approx(np.exp(step["m_before"] - step["m"]))


def test_readout_explains_rescaling_and_ends_on_the_comparison():
    run = online_steps(DEFAULT_SCORES, 3)
    texts = [step_text(run, k) for k in range(len(run["steps"]))]
    assert "grows from 1.800 to 2.600" in texts[1] and "rescaled by exp(" in texts[1]
    assert "stays 3.400" in texts[3]
    assert f"{run['three_pass']:.3f}" in texts[-1] and "All blocks read" in texts[-1]


def test_explorer_embeds_every_block_size_and_is_offline():
    page = online_explorer().data
    uid = re.search(r'id="(sx-online-[^"]+)"', page).group(1)
    data = json.loads(re.search(rf'id="{uid}-data">(.*?)</script>', page, re.S).group(1))
    assert sorted(data["runs"]) == sorted(str(b) for b in DEFAULT_BLOCK_SIZES)
    assert data["runs"]["3"]["steps"][0]["m_before"] is None  # -inf travels as null
    for run in data["runs"].values():
        assert run["lse"] == pytest.approx(run["three_pass"], rel=1e-14)
        assert len(run["text"]) == len(run["steps"])
    assert 'aria-live="polite"' in page and f'id="{uid}-next"' in page and "<label" in page
    assert "http" not in page and "src=" not in page
    assert uid != re.search(r'id="(sx-online-[^"]+)"', online_explorer().data).group(1)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(scores=[]),
        dict(scores=[1.0, np.inf]),
        dict(block_sizes=[0]),
        dict(block_sizes=[]),
        dict(initial=7),
    ],
)
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        online_explorer(**kwargs)
