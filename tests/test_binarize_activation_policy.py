"""Policy additions: ReLUs an architecture keeps, and ``policy.binarize`` overriding what an
architecture declares full precision (a detector's heads)."""

from __future__ import annotations

import pytest
from torch import nn

from bibench_cli.binarize import BinarizePolicy, binarize
from bibench_cli.binarize.converter import UnmatchedPatternError


class Detectorish(nn.Module):
    """A binarizable body and a full-precision head, each with its own ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.ReLU())
        self.head = nn.Sequential(nn.Conv2d(4, 4, 1), nn.ReLU(), nn.Conv2d(4, 2, 1))


DECLARED = {"body.0": "stem", "head.*": "head"}


def policy(**extra) -> BinarizePolicy:
    return BinarizePolicy.declared_by(
        DECLARED, activation="hardtanh", keep_activations={"head.*": "head"}, **extra
    )


def activations(model: nn.Module) -> dict[str, str]:
    return {
        name: type(m).__name__
        for name, m in model.named_modules()
        if isinstance(m, nn.ReLU | nn.Hardtanh)
    }


def test_declared_relus_stay_and_the_report_says_why():
    model = Detectorish()
    report = binarize(model, "bnn", policy())
    assert report.binarized == ["body.2"]
    assert activations(model) == {"body.1": "Hardtanh", "body.3": "Hardtanh", "head.1": "ReLU"}
    assert report.activations == ["body.1", "body.3"]
    assert report.kept_activations == {"head.1": "head ('head.*')"}
    text = str(report)
    assert "2 ReLU -> hardtanh, 1 ReLU kept" in text.splitlines()[0]
    assert "head.1" in text and "kept: head ('head.*')" in text


def test_policy_binarize_extends_binarization_to_a_declared_head():
    model = Detectorish()
    report = binarize(model, "bnn", policy(binarize=("head.*",)))
    assert report.binarized == ["body.2", "head.0", "head.2"]
    assert report.kept == {"body.0": "stem ('body.0')"}
    assert activations(model)["head.1"] == "Hardtanh" and report.kept_activations == {}


def test_user_keep_wins_over_policy_binarize_and_positional_rule_yields():
    model = Detectorish()
    report = binarize(model, "bnn", policy(binarize=("head.*",), user=("head.2",)))
    assert report.binarized == ["body.2", "head.0"]
    assert report.kept["head.2"] == "policy pattern 'head.2'"
    model = Detectorish()  # no declared keep: first and last stay, unless binarize names them
    report = binarize(model, "bnn", BinarizePolicy(binarize=("head.2",)))
    assert "head.2" in report.binarized and "body.0" in report.kept


def test_patterns_that_match_nothing_are_one_line_errors():
    with pytest.raises(UnmatchedPatternError, match="'neck.*' match no conv/linear"):
        binarize(Detectorish(), "bnn", policy(binarize=("neck.*",)))
    bad = BinarizePolicy.declared_by(DECLARED, activation="hardtanh", keep_activations={"x*": "?"})
    with pytest.raises(UnmatchedPatternError, match="'x\\*' match no ReLU; the ReLUs are: body.1"):
        binarize(Detectorish(), "bnn", bad)
