"""Chapter 5 driver: parameter validation and the helpers behind its tables and verdicts."""

import numpy as np
import pandas as pd
import pytest

from paperlib.chapters import ch5_linear_layers as ch5
from paperlib.report import mean_ci, verdict


def test_defaults_follow_the_paper():
    cfg = ch5.Ch5Config.from_params("embedded")
    assert len(cfg.tasks) == 8 and cfg.seeds == (0, 1, 2)
    assert cfg.alpha_grid == tuple(round(0.05 * i, 2) for i in range(21))
    assert cfg.pairs == (("textures", "photo_scenes"), ("font_styles", "aerial_scenes"))  # DTD–SUN397, Cars–RESISC45
    assert cfg.settings() == [("non_linear", None), ("linearized", None), ("linear_only", 1), ("linear_only", 2),
                              ("linear_only", 3), ("linear_only", 4)]
    assert ch5.Ch5Config.from_params("smoke").seeds == (0,)
    assert ch5.Ch5Config.from_params("paper").tasks[0] == "Cars"


@pytest.mark.parametrize("kw, match", [
    (dict(tasks=[]), "tasks is empty"), (dict(tasks=["MNIST"]), "paper dataset"),
    (dict(paradigms=["full"]), "paradigm"), (dict(variants=[5]), "variant"), (dict(seeds=[-1]), "seed"),
    (dict(alpha_grid=[-0.1, 0.5]), "α grid"), (dict(alpha_grid=[]), "α grid"), (dict(profile="gpu"), "profile"),
    (dict(device="tpu"), "device"), (dict(xi_grid_size=1), "xi_grid_size"), (dict(tasks=["textures", "textures"]), "duplicates")])
def test_bad_parameters_raise(kw, match):
    with pytest.raises(ValueError, match=match):
        ch5.Ch5Config.from_params(**{"profile": "embedded", **kw})


def test_mean_ci_and_verdicts():
    m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and lo == pytest.approx(2 - 4.302653 / np.sqrt(3)) and hi == pytest.approx(2 + 4.302653 / np.sqrt(3))
    assert mean_ci([5.0]) == (5.0, 5.0, 5.0)
    assert verdict([1.0, 1.2, 0.9])[0] == "yes"
    assert verdict([-1.0, -1.2, -0.9])[0] == "no"
    assert verdict([-1.0, 1.2, 0.1])[0] == "inconclusive"
    assert verdict([0.4])[0] == "yes (1 seed)"


def test_box_mean_and_offdiagonal():
    grid = np.linspace(-2, 2, 9)  # 0, 0.5, 1 are inside [0, 1]
    xi = np.zeros((9, 9))
    xi[4:7, 4:7] = 3.0
    assert ch5.box_mean(xi, grid) == 3.0
    m = pd.DataFrame([[1.0, -0.2], [-0.2, 1.0]])
    assert ch5.mean_offdiag(m) == pytest.approx(0.2)


def _gains_inputs(absolute: dict[str, float], alpha: float, zero_shot_mean: float):
    cfg = ch5.Ch5Config.from_params("embedded", paradigms=list(absolute))
    single = pd.DataFrame({"zero-shot": [zero_shot_mean]}, index=["mean"])
    addition = pd.DataFrame([dict(setting=p, seed=s, alpha=alpha, absolute=a + s, normalized=0.0)
                             for p, a in absolute.items() for s in (-1, 0, 1)])
    return cfg, single, addition


def test_addition_vs_pretrained_and_interference_summary():
    cfg, single, addition = _gains_inputs({"non_linear": 41.0, "linear_only": 45.0}, 0.05, 40.0)
    g = ch5.addition_vs_pretrained(cfg, single, addition)
    assert g.loc["Non-linear", "gain"] == pytest.approx(1.0) and g.loc["Linear layers only", "gain"] == pytest.approx(5.0)
    assert g.alpha.tolist() == pytest.approx([0.05, 0.05])
    m = pd.DataFrame([[10.0, -4.0], [-2.0, 6.0]], index=["a", "b"], columns=["a", "b"])
    s = ch5.interference_summary({"non_linear": m})
    assert s.loc["Non-linear"].tolist() == [8.0, -3.0, -4.0]


def test_closing_text_says_when_task_addition_does_not_help():
    verdicts = pd.DataFrame([dict(claim="c", paper="yes", ours="+1.0", reproduced="yes")])
    m = pd.DataFrame([[10.0, -4.0], [-2.0, 6.0]], index=["a", "b"], columns=["a", "b"])
    cfg, single, flat = _gains_inputs({"non_linear": 41.0}, 0.0, 40.0)
    text = ch5.closing_text(cfg, verdicts, single, flat, {"non_linear": m})
    assert "does not hold on this profile" in text and "+8.0" in text and "-3.0" in text
    cfg, single, helps = _gains_inputs({"non_linear": 50.0}, 0.3, 40.0)
    assert "does not hold" not in ch5.closing_text(cfg, verdicts, single, helps, {"non_linear": m})
