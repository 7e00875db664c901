"""ReCU τ and FDA n, λ at p = 0, 0.5, 1, worked by hand from the published schedules.

Epoch e of E maps to p = e/E (FDA's λ uses the fraction done at the end of the epoch,
(e + 1)/E, which is the same p when the hook is called per step)."""

from __future__ import annotations

import math

import pytest
from torch import nn

from bibench_cli.binarize import binarize, set_progress


def _model(algo):
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4))
    binarize(model, algo)
    return model, model[1]


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_recu_tau(p):
    # τ(e) = A·exp(e/E) + B, A = 0.14/(e - 1), B = 0.85 - A
    a = 0.14 / (math.e - 1)
    by_hand = {0.0: a * 1 + 0.85 - a, 0.5: a * math.sqrt(math.e) + 0.85 - a, 1.0: 0.99}
    assert by_hand[0.0] == pytest.approx(0.85)
    assert by_hand[0.5] == pytest.approx(0.902856, abs=1e-6)
    model, layer = _model("recu")
    set_progress(model, p)
    assert layer.tau == pytest.approx(by_hand[p])


@pytest.mark.parametrize("p, n, lam", [(0.0, 9, 0.1), (0.5, 13, 0.05), (1.0, 18, 0.0)])
def test_fda_terms_and_noise_weight(p, n, lam):
    # n = 9 + floor(9·e/E); λ = 0.05·(1 + cos(π·p))
    model, layer = _model("fda")
    set_progress(model, p)
    assert layer.n_terms == n
    assert layer.noise_weight == pytest.approx(lam, abs=1e-12)


def test_progress_out_of_range_rejected():
    model, _ = _model("recu")
    with pytest.raises(ValueError, match="progress"):
        set_progress(model, 1.5)
