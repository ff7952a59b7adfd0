"""The papers' published numbers, transcribed once, to set beside ours.

ch5: Jin et al., "Fine-Tuning Linear Layers Only Is a Simple yet Effective Way for Task Arithmetic"
(``ch5-linear-layers-task-arithmetic.txt``). Accuracies are percentages on the 8-task benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

CH5_PAPER = "ch5-linear-layers-task-arithmetic.txt"

#: ch5 Table 1 (task addition, 8 tasks): model → method → {"abs", "norm"} (%). Methods: the paper's
#: "Pre-trained" (zero-shot; no Norm., hence None), "Non-linear", "Linear" (NTK linearization) and
#: "Ours" (linear layers only, variant (1) of Table 2).
CH5_TABLE1: dict[str, dict[str, dict[str, float | None]]] = {
    "ViT-B-32": {"pretrained": {"abs": 48.40, "norm": None},
                 "non_linear": {"abs": 70.00, "norm": 77.04},
                 "linearized": {"abs": 76.26, "norm": 85.82},
                 "linear_only": {"abs": 78.37, "norm": 87.42}},
    "ViT-B-16": {"pretrained": {"abs": 55.25, "norm": None},
                 "non_linear": {"abs": 74.75, "norm": 80.59},
                 "linearized": {"abs": 79.01, "norm": 86.32},
                 "linear_only": {"abs": 80.44, "norm": 87.25}},
    "ViT-L-14": {"pretrained": {"abs": 66.40, "norm": None},
                 "non_linear": {"abs": 84.40, "norm": 89.47},
                 "linearized": {"abs": 85.53, "norm": 91.44},
                 "linear_only": {"abs": 87.91, "norm": 93.66}},
}

#: ch5 Table 2 (linear-only variants): variant → {"single_task", "abs", "norm"} (%). Variants:
#: (1) Q, K, V and output-projection weights; (2) those weights and biases; (3) all linear-layer
#: weights of the attention module; (4) those weights and biases. The table names no model; its
#: row (1) equals Table 1's ViT-B-32 "Ours" (78.37 / 87.42), so we read it as ViT-B-32.
CH5_TABLE2: dict[int, dict[str, float]] = {
    1: {"single_task": 89.55, "abs": 78.37, "norm": 87.42},
    2: {"single_task": 89.48, "abs": 77.71, "norm": 86.79},
    3: {"single_task": 88.95, "abs": 76.52, "norm": 86.11},
    4: {"single_task": 89.43, "abs": 77.80, "norm": 86.93},
}

#: Where each transcribed table comes from.
SOURCES: dict[str, str] = {
    "CH5_TABLE1": f"ch5 Table 1 (task addition: Abs. and Norm. accuracy, 8 tasks), {CH5_PAPER}",
    "CH5_TABLE2": f"ch5 Table 2 (single-task and multi-task accuracy of variants (1)-(4), ViT-B-32), {CH5_PAPER}",
}


def side_by_side(ours: Mapping[str, float], paper: Mapping[str, float | None], label: str) -> pd.DataFrame:
    """One row per quantity (the paper's keys, then any only we have): columns ``paper``,
    ``ours ({label})`` and ``difference`` (ours − paper), NaN where either has no number."""
    keys = list(paper) + [k for k in ours if k not in paper]

    def num(m: Mapping[str, float | None], k: str) -> float:
        v = m.get(k)
        return math.nan if v is None else float(v)

    df = pd.DataFrame({"paper": [num(paper, k) for k in keys], f"ours ({label})": [num(ours, k) for k in keys]},
                      index=keys)
    df["difference"] = df[f"ours ({label})"] - df["paper"]
    return df


__all__ = ["CH5_PAPER", "CH5_TABLE1", "CH5_TABLE2", "SOURCES", "side_by_side"]
