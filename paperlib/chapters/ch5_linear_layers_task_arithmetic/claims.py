"""Chapter 5's claims, checked on our numbers (:class:`~paperlib.chapters.kit.Claim`), and the
numbers its closing section cites."""

from __future__ import annotations

import pandas as pd

from ...data.embedded.base import DOMAINS
from ...finetune import PROTOCOLS
from ...reference import CH5_TABLE1, CH5_TABLE2
from ..kit import Claim, judge
from .config import PARADIGM_LABELS, REGIME_GATE, Ch5Config
from .tables import addition_vs_pretrained, box_mean, interference_summary, mean_offdiag

#: A task addition this many points above the pre-trained model counts as "helping" (closing section):
#: the regime gate's bound, so the closing section and the regime section judge by one criterion (it
#: was 2 points, under which a +6 addition "helped" while the gate called it out of the regime).
HELPS_BY = REGIME_GATE["addition_over_zero_shot"]


def _paper_gap(paper_model: str, a: str, b: str, key: str) -> str:
    """"+d (A vs B)" of ch5 Table 1, from :data:`paperlib.reference.CH5_TABLE1`."""
    x, y = CH5_TABLE1[paper_model][a][key], CH5_TABLE1[paper_model][b][key]
    return f"{x - y:+.1f} ({x:.2f} vs {y:.2f})"


def claims(cfg: Ch5Config, runs: pd.DataFrame, addition: pd.DataFrame, xi: dict, cos: dict,
           paper_model: str = "ViT-B-32") -> list[Claim]:
    """The paper's claims on our numbers: paired differences over seeds judged by the book's one rule
    (:func:`~paperlib.chapters.kit.judge`); ξ, cosine and Table 2 checks use the first seed."""
    out: list[Claim] = []
    n = len(cfg.seeds)

    def paired(a: str, b: str, col: str) -> list[float]:
        A = addition[addition.setting == a].set_index("seed")[col]
        B = addition[addition.setting == b].set_index("seed")[col]
        return list((A - B).dropna())

    have = set(cfg.paradigms)
    for a, b, col, key in (("linear_only", "non_linear", "normalized", "norm"),
                           ("linear_only", "non_linear", "absolute", "abs"),
                           ("linearized", "non_linear", "normalized", "norm"),
                           ("linear_only", "linearized", "absolute", "abs")):
        if {a, b} <= have:
            v, ci = judge(paired(a, b, col))
            out.append(Claim("ch5 Table 1", f"{PARADIGM_LABELS[a]} task addition beats {PARADIGM_LABELS[b]} "
                             f"({col} accuracy)", ci, v, n, _paper_gap(paper_model, a, b, key)))
    if {"linear_only", "linearized", "non_linear"} <= have:
        per_seed = runs[runs.setting.isin(["non_linear", "linearized", "linear_only"])]
        m = per_seed.groupby(["seed", "setting"]).test.mean().unstack()
        v, ci = judge(list(((m.non_linear - m.linearized) - (m.non_linear - m.linear_only)).dropna()))
        out.append(Claim("ch5 Fig. 3", "Linear-only is closer to non-linear single-task accuracy than NTK "
                         "linearization (gap to non-linear shrinks, points)", ci, v, n, "yes, for every task"))
    for pair in cfg.pairs:
        if {"linearized", "non_linear"} <= have:
            for p in ("linearized", "linear_only"):
                if p not in have:
                    continue
                a = box_mean(xi[(pair, "non_linear")]["classification"], cfg.xi_grid)
                b = box_mean(xi[(pair, p)]["classification"], cfg.xi_grid)
                out.append(Claim("ch5 Figs. 4 and 7", f"{PARADIGM_LABELS[p]} is more disentangled than non-linear on "
                                 f"{pair[0]}–{pair[1]} (mean ξ in [0, 1]², classification)",
                                 f"{b:.3f} vs {a:.3f}", "yes" if b < a else "no", 1, "yes"))
    if {"linear_only", "non_linear", "linearized"} <= have:
        off = {p: mean_offdiag(c) for p, c in cos.items()}
        best = min(off, key=off.get)
        out.append(Claim("ch5 Fig. 5", "Linear-only task vectors are the closest to orthogonal (mean |cos| off the "
                         "diagonal)", ", ".join(f"{PARADIGM_LABELS[p]} {v:.3f}" for p, v in off.items()),
                         "yes" if best == "linear_only" else "no", 1, "yes"))
    v_rows = addition[addition.setting.str.startswith("linear_only")]
    if v_rows.setting.nunique() == 4:
        seed0 = v_rows[v_rows.seed == cfg.seeds[0]].set_index("setting").normalized
        paper = ", ".join(f"({k}) {v['norm']:.2f}" for k, v in CH5_TABLE2.items())
        out.append(Claim("ch5 Table 2", "Variant (1) (Q, K, V, O weights) is the best of the four (normalized "
                         "accuracy)", ", ".join(f"{s.replace('linear_only_v', '(').replace('linear_only', '(1')}) "
                                                f"{x:.1f}" for s, x in seed0.sort_index().items()),
                         "yes" if seed0.idxmax() == "linear_only" else "no", 1, paper))
    return out


def closing_numbers(cfg: Ch5Config, single: pd.DataFrame, addition: pd.DataFrame,
                    inter: dict[str, pd.DataFrame] | None, tower_parameters: int) -> dict[str, object]:
    """The numbers and computed phrases the closing section cites (glued by the notebook)."""
    out: dict[str, object] = {}
    gains = addition_vs_pretrained(cfg, single, addition)
    if len(gains):
        out["best_gain"] = float(gains.gain.max())
        out["premise"] = "holds" if (gains.gain >= HELPS_BY).any() else "does not hold"
        out["helps_by"] = HELPS_BY
    if inter is not None:
        summ = interference_summary(inter)
        out["own_gain"] = float(summ["own task (diagonal)"].mean())
        out["other_change"] = float(summ["other tasks (off-diagonal)"].mean())
    paper = PROTOCOLS["paper"]
    classes = [DOMAINS[t].n_classes for t in cfg.tasks if t in DOMAINS] or [0]
    out.update(tower_mparams=tower_parameters / 1e6, iterations=cfg.iterations, paper_iterations=paper.iterations,
               lr_ratio=cfg.lr / paper.lr, min_classes=min(classes), max_classes=max(classes))
    return out


__all__ = ["HELPS_BY", "claims", "closing_numbers"]
