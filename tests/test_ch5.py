"""Chapter 5 (paperlib.chapters.ch5_linear_layers_task_arithmetic): parameters, tables, claims."""

import json

import numpy as np
import pandas as pd
import pytest
from validation import assert_rejected

from paperlib.chapters import ch5_linear_layers_task_arithmetic as ch5
from paperlib.reference import CH5_TABLE1


def test_defaults_follow_the_paper():
    cfg = ch5.Ch5Config.from_params(profile="embedded")
    assert len(cfg.tasks) == 8 and cfg.seeds == (0, 1, 2) and cfg.device in ("cpu", "cuda")
    assert cfg.alpha_grid == tuple(round(0.05 * i, 2) for i in range(21))
    assert cfg.pairs == (("textures", "photo_scenes"), ("vehicles", "aerial_scenes"))  # DTD–SUN397, Cars–RESISC45
    assert cfg.settings() == [("non_linear", None), ("linearized", None), ("linear_only", 1), ("linear_only", 2),
                              ("linear_only", 3), ("linear_only", 4)]
    assert (cfg.iterations, cfg.lr, cfg.batch_size) == (72, 3e-4, 32)
    assert ch5.Ch5Config.from_params(profile="smoke").seeds == (0,)


def test_run_configs_resolve_to_the_keys_of_before():
    """Explicit protocol values resolve to the same fine-tuning runs as the defaults (None) did."""
    from paperlib.finetune import FinetuneConfig
    cfg = ch5.Ch5Config.from_params(profile="embedded")
    old = FinetuneConfig(task=cfg.tasks[0], paradigm="linearized", profile="embedded", seed=1)
    assert cfg.run_config(cfg.tasks[0], "linearized", 1).resolved() == old.resolved()


#: At least 8 bad parameter sets, each error naming the parameter and what is allowed.
BAD = [
    (dict(lr=5.0), ["lr", "(0, 1)"]),
    (dict(iterations=-3), ["iterations", "[1, "]),
    (dict(batch_size=0), ["batch_size", "[1, "]),
    (dict(tasks=["textures"]), ["tasks", "at least 2"]),
    (dict(tasks=["MNIST", "textures"]), ["tasks", "'MNIST'", "textures"]),
    (dict(tasks=["textures", "textures"]), ["tasks", "duplicates"]),
    (dict(paradigms=["non_linear", "non_linear"]), ["paradigms", "duplicates"]),
    (dict(paradigms=["full"]), ["paradigms", "non_linear"]),
    (dict(seeds=[0, 0]), ["seeds", "duplicates"]),
    (dict(seeds=[-1]), ["seeds", "[0, inf)"]),
    (dict(variants=[5]), ["variants", "1, 2, 3, 4"]),
    (dict(alpha_grid=[-0.1, 0.5]), ["alpha_grid", "[0, 10]"]),
    (dict(alpha_grid=[]), ["alpha_grid", "at least 1"]),
    (dict(xi_grid_size=1), ["xi_grid_size", "[2, 101]"]),
    (dict(profile="gpu"), ["profile", "'smoke', 'embedded', 'paper'"]),
    (dict(device="tpu"), ["device", "'auto', 'cpu', 'cuda'"]),
    (dict(lr=[1e-3]), ["lr", "list", "float"]),
    (dict(seed=3), ["'seed'", "did you mean 'seeds'"]),
]


@pytest.mark.parametrize("given, names", BAD)
def test_bad_parameters_are_rejected_in_the_validation_cell(given, names):
    assert_rejected(ch5.Ch5Config, ch5.PARAMS, given, names)


def test_paper_profile_checks_its_data_before_any_download(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        ch5.Ch5Config.from_params(profile="paper", data_root=str(tmp_path), tasks=["DTD", "EuroSAT"])


def test_box_mean_and_offdiagonal():
    grid = np.linspace(-2, 2, 9)  # 0, 0.5, 1 are inside [0, 1]
    xi = np.zeros((9, 9))
    xi[4:7, 4:7] = 3.0
    assert ch5.box_mean(xi, grid) == 3.0
    m = pd.DataFrame([[1.0, -0.2], [-0.2, 1.0]])
    assert ch5.mean_offdiag(m) == pytest.approx(0.2)


def _addition(absolute: dict[str, float], alpha: float, normalized: float = 0.0):
    return pd.DataFrame([dict(setting=p, seed=s, alpha=alpha, absolute=a + s, normalized=normalized + a + s,
                              val_curve={}, per_task={})
                         for p, a in absolute.items() for s in (-1, 0, 1)])


def test_addition_vs_pretrained_and_interference_summary():
    cfg = ch5.Ch5Config.from_params(profile="embedded", paradigms=["non_linear", "linear_only"])
    single = pd.DataFrame({"zero-shot": [40.0]}, index=["mean"])
    g = ch5.addition_vs_pretrained(cfg, single, _addition({"non_linear": 41.0, "linear_only": 45.0}, 0.05))
    assert g.loc["Non-linear", "gain"] == pytest.approx(1.0)
    assert g.loc["Linear layers only", "gain"] == pytest.approx(5.0)
    m = pd.DataFrame([[10.0, -4.0], [-2.0, 6.0]], index=["a", "b"], columns=["a", "b"])
    assert ch5.interference_summary({"non_linear": m}).loc["Non-linear"].tolist() == [8.0, -3.0, -4.0]



def test_fine_tuning_gains_name_the_tasks_below_the_bar():
    single = pd.DataFrame({"zero-shot": [40.0, 85.0, 62.5], "non_linear": [70.0, 95.0, 80.0],
                           "linear_only": [60.0, 99.0, 82.5]}, index=["a", "b", "mean"])
    gains, short = ch5.fine_tuning_gains(single)
    assert gains.loc["a"].tolist() == [30.0, 20.0] and gains.loc["b"].tolist() == [10.0, 14.0]
    assert short == {"Non-linear": ["b"], "Linear layers only": ["b"]} and ch5.LEARNABLE_GAIN == 15.0

def test_regime_gate_checks_each_premise_against_its_bound():
    cfg = ch5.Ch5Config.from_params(profile="embedded", paradigms=["non_linear", "linear_only"])
    single = pd.DataFrame({"zero-shot": [40.0]}, index=["mean"])
    addition = _addition({"non_linear": 51.0, "linear_only": 45.0}, 0.5)
    inter = {"non_linear": pd.DataFrame([[22.0, -4.0], [-6.0, 30.0]], index=["a", "b"], columns=["a", "b"]),
             "linear_only": pd.DataFrame([[19.0, -1.0], [-2.0, 20.0]], index=["a", "b"], columns=["a", "b"])}
    gate = ch5.regime_gate(cfg, single, addition, inter)
    nl, lo = gate.loc["Non-linear"], gate.loc["Linear layers only"]
    assert nl.measured.tolist() == [26.0, -5.0, 11.0] and nl.met.tolist() == ["yes", "yes", "yes"]
    assert lo.measured.tolist() == [19.5, -1.5, 5.0] and lo.met.tolist() == ["no", "yes", "no"]
    assert lo.loc["other tasks at α = 1", "bound"] == "≥ -3"



def test_recorded_attempts_at_the_regime_are_tabulated_oldest_first(tmp_path):
    """What scripts/regime_gate.py --out writes, chapter 5's table of attempts reads back; a record on
    another benchmark says which tasks differ; an unreadable record is refused by name."""
    cfg = ch5.Ch5Config.from_params(profile="embedded", paradigms=["non_linear", "linear_only"], seeds=[0])
    single = pd.DataFrame({"zero-shot": [40.0]}, index=["mean"])
    addition = _addition({"non_linear": 51.0, "linear_only": 45.0}, 0.5)
    inter = {p: pd.DataFrame([[22.0, -4.0], [-6.0, 30.0]], index=["a", "b"], columns=["a", "b"])
             for p in ("non_linear", "linear_only")}
    gate = ch5.regime_gate(cfg, single, addition, inter)
    runs = pd.DataFrame({"seconds": [30.0, 90.0]})
    new = ch5.attempt_record(cfg, runs, single, addition, gate, {"lr": 1e-4}, "new protocol", 200.0, "abc1234")
    old = {**new, "label": "", "date": "2026-01-01 00:00 UTC",
           "tasks": ["font_styles" if t == cfg.tasks[0] else t for t in cfg.tasks]}
    (tmp_path / "b.json").write_text(json.dumps(new))
    (tmp_path / "a_old.json").write_text(json.dumps(old))
    t = ch5.regime_attempts(tmp_path, cfg.tasks)
    assert list(t.index) == ["a_old", "new protocol"]  # oldest first; an empty label falls back to the file name
    assert t.loc["a_old", "benchmark"] == f"font_styles for {cfg.tasks[0]}"
    assert t.loc["new protocol", "benchmark"] == "this chapter's"
    assert t.loc["new protocol", "protocol"] == ch5.protocol_label(cfg.lr, cfg.iterations, cfg.batch_size)
    assert t.loc["new protocol", "weights"] == ch5.weights_checksum(None)[:8]  # the shipped model's checksum
    assert t.loc["new protocol", ["NL own", "NL others", "NL addition"]].tolist() == [26.0, -5.0, 11.0]
    assert t.loc["new protocol", "met"] == "4 of 6" and t.loc["new protocol", "fine-tuning min"] == pytest.approx(2.0)
    assert new["model"].startswith(ch5.Ch5Config.from_params(profile="embedded").model or "paperlib-tiny")
    (tmp_path / "c.json").write_text('{"label": "cut short')
    with pytest.raises(ValueError, match="c.json"):
        ch5.regime_attempts(tmp_path, cfg.tasks)
    assert ch5.regime_attempts(tmp_path / "none", cfg.tasks).empty

def test_table1_sets_the_papers_numbers_beside_ours():
    cfg = ch5.Ch5Config.from_params(profile="embedded", paradigms=["non_linear", "linear_only"])
    zs = pd.DataFrame(dict(task=["a", "b"], val=[0.0, 0.0], test=[40.0, 50.0]))
    t = ch5.table1(cfg, zs, _addition({"non_linear": 60.0, "linear_only": 62.0}, 0.3), "ViT-B-32", "embedded")
    ref = CH5_TABLE1["ViT-B-32"]
    assert t.loc["Pre-trained", ("absolute", "paper")] == ref["pretrained"]["abs"]
    assert t.loc["Pre-trained", ("absolute", "difference")] == pytest.approx(45.0 - ref["pretrained"]["abs"])
    assert t.loc["Linear layers only", ("normalized", "paper")] == ref["linear_only"]["norm"]
    assert list(t.index) == ["Pre-trained", "Non-linear", "Linear layers only"]


def test_claims_use_one_vocabulary_and_the_reference_numbers():
    cfg = ch5.Ch5Config.from_params(profile="embedded", paradigms=["non_linear", "linear_only"], seeds=[0, 1, 2])
    runs = pd.DataFrame(columns=["setting", "seed", "test"])
    claims = ch5.claims(cfg, runs, _addition({"non_linear": 60.0, "linear_only": 62.0}, 0.3), {}, {})
    assert [c.verdict for c in claims] == ["yes", "yes"] and all(c.seeds == 3 for c in claims)
    t1 = CH5_TABLE1["ViT-B-32"]
    assert claims[0].paper == f"{t1['linear_only']['norm'] - t1['non_linear']['norm']:+.1f} " \
                              f"({t1['linear_only']['norm']:.2f} vs {t1['non_linear']['norm']:.2f})"


def test_closing_numbers_say_whether_task_addition_helps():
    cfg = ch5.Ch5Config.from_params(profile="embedded", paradigms=["non_linear"])
    single = pd.DataFrame({"zero-shot": [40.0]}, index=["mean"])
    m = pd.DataFrame([[10.0, -4.0], [-2.0, 6.0]], index=["a", "b"], columns=["a", "b"])
    flat = ch5.closing_numbers(cfg, single, _addition({"non_linear": 41.0}, 0.0), {"non_linear": m}, 840_000)
    assert flat["premise"] == "does not hold" and flat["own_gain"] == 8.0 and flat["other_change"] == -3.0
    helps = ch5.closing_numbers(cfg, single, _addition({"non_linear": 50.0}, 0.3), {"non_linear": m}, 840_000)
    assert helps["premise"] == "holds" and helps["best_gain"] == pytest.approx(10.0)
    short = ch5.closing_numbers(cfg, single, _addition({"non_linear": 46.0}, 0.3), {"non_linear": m}, 840_000)
    assert short["premise"] == "does not hold"  # +6: below the regime gate's bound, which the closing shares
    assert ch5.HELPS_BY == ch5.REGIME_GATE["addition_over_zero_shot"]
