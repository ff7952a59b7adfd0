"""The papers' published numbers, transcribed once, to set beside ours.

ch5: Jin et al., "Fine-Tuning Linear Layers Only Is a Simple yet Effective Way for Task Arithmetic"
(``ch5-linear-layers-task-arithmetic.txt``). Accuracies are percentages on the 8-task benchmark.

ch1: sequential fine-tuning with tangent linearization and PCGrad-style calibration
(``ch1-sequential-tangent-pcgrad.txt``). The paper reports accuracies as fractions; they are
transcribed here as percentages (×100) to sit beside ours.

ch2: Factorized Tensor Networks (``ch2-factorized-tensor-networks.txt``): Tables 1-4 exactly as printed, with the
"Params" cells as strings (their brackets and multipliers are the paper's), and the numbers its text states.
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

CH1_PAPER = "ch1-sequential-tangent-pcgrad.txt"

#: ch1 Table 5 (and the same methods' columns of Table 3): method → mean accuracy (%) over the 4
#: target tasks (tgt), the 4 reference tasks (ref) and all 8 (all); CLIP ViT-B/32, real datasets.
#: Table 5 calls B-TL "B-Lin".
CH1_TABLE5: dict[str, dict[str, float]] = {
    "CLIP": {"tgt": 52.5, "ref": 43.9, "all": 48.2},
    "B-Stand": {"tgt": 71.6, "ref": 20.1, "all": 45.8},
    "B-TL": {"tgt": 79.8, "ref": 30.1, "all": 54.9},
    "S-Stand": {"tgt": 79.6, "ref": 26.3, "all": 53.0},
    "S-TL": {"tgt": 85.0, "ref": 35.2, "all": 60.1},
    "S-TL-p0.5": {"tgt": 85.2, "ref": 37.9, "all": 61.5},
    "S-TL-a0.5": {"tgt": 84.5, "ref": 37.5, "all": 61.0},
}

#: ch1 numbers that exist only in the text, because Table 3's S-TL-p1 and S-TL-p0.5-11 columns,
#: Table 4 and Figs. 2–5 are images our copy of the paper does not have. Derived values say how.
CH1_TEXT: dict[str, dict[str, float]] = {
    # Sec. 5.3: "when the calibration frequency is increased to 11, the reference task accuracy further
    # increases by 1.7%, with only 0.6% degradation in target task accuracy" (vs S-TL-p0.5).
    "S-TL-p0.5-11": {"tgt": 85.2 - 0.6, "ref": 37.9 + 1.7, "all": ((85.2 - 0.6) + (37.9 + 1.7)) / 2},
    # Sec. 5.3: with c = 1, "less degradation (5%) on the reference tasks" against CLIP's 43.9.
    "S-TL-p1": {"ref": 43.9 - 5.0},
    # Sec. 5.4: the best setup, lr 2.5e-6 with S-TL-p0.5-20.
    "S-TL-p0.5-20 lr 2.5e-6": {"tgt": 85.5, "ref": 40.1, "all": 62.8},
    # Sec. 5.4: the order with the best reference accuracy, [RESISC45, Cars, EuroSAT, DTD].
    "best-ref order": {"tgt": 84.2, "all": 61.1},
}

#: ch1 Table 4 as the text states it (Sec. 5.4): the standard deviation over the 24 orders is below
#: 1 point and max − min about 3 points; the curriculum order gives the best tgt and all.
CH1_TABLE4_TEXT = {"std_below": 1.0, "range_about": 3.0, "curriculum_best": ("tgt", "all")}

CH4_PAPER = "ch4-transfer-vs-interference.txt"

#: ch4 Table S1: linear CKA between the single-domain ResNet-32s of each task pairing, per width:
#: (pairing) → width → (mean, std over 3 trials). Pairings listed from most dissimilar to most similar.
CH4_TABLE_S1: dict[tuple[str, str], dict[float, tuple[float, float]]] = {
    ("CIFAR100", "MiniPlaces"): {0.25: (0.38, 0.035), 0.5: (0.37, 0.147), 1.0: (0.42, 0.010), 2.0: (0.38, 0.020)},
    ("MiniPlaces", "TinyImageNet100"): {0.25: (0.40, 0.027), 0.5: (0.41, 0.009), 1.0: (0.45, 0.010),
                                        2.0: (0.40, 0.023)},
    ("CIFAR100", "TinyImageNet100"): {0.25: (0.48, 0.007), 0.5: (0.50, 0.006), 1.0: (0.52, 0.008),
                                      2.0: (0.43, 0.002)},
}

#: ch4 Sec. 4.1: the significance level of the paper's paired t-tests ("α = 0.05").
CH4_SIGNIFICANCE = 0.05

#: ch4 Table S2: test accuracy (%) of the independent (single-domain) ResNet-32s: dataset → width →
#: (mean, std over 3 trials).
CH4_TABLE_S2: dict[str, dict[float, tuple[float, float]]] = {
    "CIFAR100": {0.25: (42.40, 0.76), 0.5: (57.12, 0.22), 1.0: (65.27, 0.23), 2.0: (70.48, 0.12)},
    "MiniPlaces": {0.25: (23.24, 0.58), 0.5: (29.84, 0.20), 1.0: (32.04, 0.34), 2.0: (32.76, 0.34)},
    "TinyImageNet100": {0.25: (32.46, 0.63), 0.5: (43.29, 0.74), 1.0: (49.83, 0.76), 2.0: (53.28, 0.31)},
}

#: ch4 Sec. 4.1: paired t-tests on PerfGain at 1848K parameters (width 2), the only width where the
#: weightings differed at α = 0.05: CoV beat Uniform (p = 0.0165) and Uncertainty (p = 0.0456).
CH4_PVALUES: dict[tuple[str, str], float] = {("cov", "uniform"): 0.0165, ("cov", "uncertainty"): 0.0456}

CH3_PAPER = "ch3-smooth-transfer-learning.txt"

#: ch3 Table 1: target test accuracy (%) per target training size N: pair → N → method → accuracy.
#: Pairs by our names: ``objects`` is [Target: CIFAR-10, Source: CIFAR-100], ``digits`` is
#: [Target: SVHN, Source: MNIST]. Methods: "Target" (target only), "Fine-tune" (pre-training then
#: fine-tuning), "Multi-task" (fixed weights), "Ours" (Smooth Transfer Learning).
CH3_TABLE1: dict[str, dict[int, dict[str, float]]] = {
    "objects": {45_000: {"target": 91.9, "finetune": 88.7, "multitask": 90.3, "ours": 92.2},
                14_230: {"target": 87.0, "finetune": 85.3, "multitask": 87.0, "ours": 89.1},
                4_500: {"target": 79.0, "finetune": 81.1, "multitask": 82.1, "ours": 85.4},
                1_420: {"target": 66.0, "finetune": 75.7, "multitask": 75.1, "ours": 80.4},
                450: {"target": 43.9, "finetune": 69.9, "multitask": 67.4, "ours": 72.8},
                140: {"target": 36.7, "finetune": 61.1, "multitask": 61.0, "ours": 65.3}},
    "digits": {65_931: {"target": 95.8, "finetune": 95.3, "multitask": 96.1, "ours": 96.0},
               20_849: {"target": 93.8, "finetune": 94.2, "multitask": 94.4, "ours": 94.5},
               6_593: {"target": 91.5, "finetune": 92.1, "multitask": 92.1, "ours": 92.8},
               2_085: {"target": 84.8, "finetune": 88.5, "multitask": 87.8, "ours": 90.5},
               659: {"target": 47.2, "finetune": 75.0, "multitask": 63.0, "ours": 85.0},
               208: {"target": 18.4, "finetune": 45.3, "multitask": 22.2, "ours": 66.0}},
}

#: ch3 numbers stated in the text and appendix: the TPE protocol (A.1: 11 workers × 9 rounds for the
#: objects; A.2: 9 workers × 11 for the digits), footnote 2's mean number of best-so-far replacements,
#: the epochs (A.1/A.2) and the target pools and validation sizes (A.1/A.2).
CH3_TEXT: dict[str, object] = {
    "tpe_rounds": {"objects": (11, 9), "digits": (9, 11)},  # (trials per round, rounds)
    "best_replacements_mean": 5.8,
    "single_epochs": {"objects": 200, "digits": 160},
    "joint_epochs": {"objects": 380, "digits": 336},
    "target_pool": {"objects": 45_000, "digits": 65_931},
    "target_val": {"objects": 5_000, "digits": 7_326},
    "source_size": {"objects": 50_000, "digits": 60_000},
}

CH2_PAPER = "ch2-factorized-tensor-networks.txt"

#: ch2 Table 1 (ImageNet-to-Sketch, ResNet-50, top-1 %): method → (Params as printed, accuracies in
#: :data:`CH2_TABLE1_DOMAINS` order, mean as printed). The printed means are the row means truncated (not rounded) to
#: two decimals. "[×]" brackets and Packnet →/← are the paper's, undefined in its text.
CH2_TABLE1_DOMAINS = ("Flowers", "Wikiart", "Sketch", "Cars", "CUB")
CH2_TABLE1: dict[str, tuple[str, tuple[float, ...], float]] = {
    "Fine-Tuning": ("6× (141M)", (95.69, 78.42, 81.02, 91.44, 83.37), 85.98),
    "Feature-Extractor": ("1× (23.5M)", (89.57, 57.7, 57.07, 54.01, 67.20), 65.11),
    "FC and BN only": ("1.001× (23.52M)", (94.39, 70.62, 79.15, 85.20, 78.68), 81.60),
    "Piggyback": ("6× [2.25×] (141M)", (94.76, 71.33, 79.91, 89.62, 81.59), 83.44),
    "Packnet →": ("[1.60×] (37.6M)", (93.0, 69.4, 76.20, 86.10, 80.40), 81.02),
    "Packnet ←": ("[1.60×] (37.6M)", (90.60, 70.3, 78.7, 80.0, 71.4), 78.2),
    "Spot-Tune": ("7× [7×] (164.5M)", (96.34, 75.77, 80.2, 92.4, 84.03), 85.74),
    "WTPB": ("6× [2.25×] (141M)", (96.50, 74.8, 80.2, 91.5, 82.6), 85.12),
    "BA²": ("3.8× [1.71×] (89.3M)", (95.74, 72.32, 79.28, 92.14, 81.19), 84.13),
    "TAPS": ("4.12× (96.82M)", (96.68, 76.94, 80.74, 89.76, 82.65), 85.35),
    "FTN, R=1": ("1.004× (23.95M)", (94.79, 73.03, 78.62, 86.85, 80.86), 82.83),
    "FTN, R=50": ("1.53× (36.02M)", (96.42, 78.01, 80.6, 90.83, 82.96), 85.76),
}

#: ch2 Table 2 (DomainNet, ResNet-34, top-1 %), as :data:`CH2_TABLE1`.
CH2_TABLE2_DOMAINS = ("Clipart", "Sketch", "Paint", "Quick", "Info", "Real")
CH2_TABLE2: dict[str, tuple[str, tuple[float, ...], float]] = {
    "Fine-Tuning": ("6×", (74.26, 67.33, 67.11, 72.43, 40.11, 80.36), 66.93),
    "Feature-Extractor": ("1×", (60.94, 50.03, 60.22, 54.01, 26.19, 76.79), 54.69),
    "FC and BN only": ("1.004×", (70.24, 61.10, 64.22, 63.09, 34.76, 78.61), 62.00),
    "Adashare": ("5.73×", (74.45, 64.15, 65.74, 68.15, 34.11, 79.39), 64.33),
    "TAPS": ("4.90×", (74.85, 66.66, 67.28, 71.79, 38.21, 80.28), 66.51),
    "FTN, R=1": ("1.008×", (70.73, 62.69, 65.08, 64.81, 35.78, 79.12), 63.03),
    "FTN, R=40": ("1.18×", (74.2, 65.67, 67.14, 71.00, 39.10, 80.64), 66.29),
}

#: ch2 Table 3 (CLIP ViT-B/32, R = 4, top-1 %): method → (total params, additional params per dataset, accuracies in
#: :data:`CH2_TABLE3_DATASETS` order, mean). Parameters exclude the task heads.
CH2_TABLE3_DATASETS = ("CIFAR10", "CIFAR100", "DTD", "STL10", "FER2013")
CH2_TABLE3: dict[str, tuple[str, str | None, tuple[float, ...], float]] = {
    "Fine-tuning": ("5× (439.5M)", "87.9M", (97.7, 85.4, 79.0, 99.7, 69.8), 86.3),
    "Feature extractor": ("1× (87.9M)", None, (94.8, 80.1, 75.4, 98.4, 67.3), 83.2),
    "LoRA": ("1.008× (88.6M)", "147.2K", (95.1, 78.1, 78.1, 99.2, 67.7), 83.6),
    "KAdaptation": ("1.005× (88.3M)", "80.7K", (95.9, 84.8, 78.1, 99.2, 69.0), 85.4),
    "FTN (Q&V)": ("1.005× (88.3M)", "81.0K", (95.8, 83.4, 77.1, 98.7, 68.5), 84.7),
    "FTN (O)": ("1.002× (88.1M)", "40.5K", (96.6, 84.3, 76.0, 98.6, 69.5), 85.0),
}

#: ch2 Table 4 (NYUD-v2, ResNet-18 + DeepLabv3+): method → (Params, metrics in :data:`CH2_TABLE4_TASKS` order).
CH2_TABLE4_TASKS = ("Semseg mIoU ↑", "Depth RMSE ↓", "Normals mErr ↓", "Edge odsF ↑")
CH2_TABLE4: dict[str, tuple[str, tuple[float, ...]]] = {
    "Single Task": ("4×", (35.34, 0.56, 22.20, 73.5)),
    "Decoder only": ("1×", (24.84, 0.71, 28.56, 71.3)),
    "Decoder + BN only": ("1.002×", (29.26, 0.61, 24.82, 71.3)),
    "ASTMT (R-18)": ("1.25×", (30.69, 0.60, 23.94, 68.60)),
    "ASTMT (R-26+SE)": ("2.00×", (30.07, 0.63, 24.32, 73.50)),
    "Series RA": ("1.56×", (31.87, 0.60, 23.35, 67.56)),
    "Parallel RA": ("1.50×", (32.13, 0.59, 23.20, 68.02)),
    "RCM": ("1.56×", (34.20, 0.57, 22.41, 68.44)),
    "FTN, R=1": ("1.005×", (29.83, 0.60, 23.56, 72.7)),
    "FTN, R=10": ("1.03×", (33.66, 0.57, 22.15, 73.5)),
    "FTN, R=20": ("1.06×", (34.06, 0.55, 21.84, 73.9)),
    "FTN, R=30": ("1.09×", (35.46, 0.56, 21.78, 73.8)),
}

#: ch2 numbers stated in the text: per-task rank-1 counts (Sec. 4.1.1), the totals it quotes, the ranks run, the ViT
#: protocol (Sec. 4.1.2: R, lr, α, batch, epochs, factor σ) and Fig. 2's early-saturating domains (rank).
CH2_TEXT: dict[str, object] = {
    "rank1_params_per_task": {"ResNet-34": 16_291, "ResNet-50": 49_204},
    "rank40_domainnet_total": 25.22e6,
    "rank50_i2s_total": 36.02e6,
    "vit_rank": 4, "vit_lr": 5e-6, "vit_alpha": {"Q&V": 10, "O": 100}, "vit_batch": 64, "vit_epochs": 100,
    "vit_init_std": 0.05,
    "ranks": {"I2S": (1, 5, 10, 15, 20, 25, 50), "DomainNet": (1, 5, 10, 20, 30, 40), "NYUD": (1, 10, 20, 30)},
    "fig2_saturation": {"Flowers": 20, "Cars": 15},
    "taps_ratio": (2, 4),
}

#: Where each transcribed table comes from.
SOURCES: dict[str, str] = {
    "CH5_TABLE1": f"ch5 Table 1 (task addition: Abs. and Norm. accuracy, 8 tasks), {CH5_PAPER}",
    "CH5_TABLE2": f"ch5 Table 2 (single-task and multi-task accuracy of variants (1)-(4), ViT-B-32), {CH5_PAPER}",
    "CH1_TABLE5": f"ch1 Table 5 (tgt/ref/all mean accuracy, CLIP ViT-B/32), {CH1_PAPER}",
    "CH1_TEXT": f"ch1 Secs. 5.3-5.4 text (Table 3's other columns and Table 4 are images), {CH1_PAPER}",
    "CH1_TABLE4_TEXT": f"ch1 Sec. 5.4 text about Table 4, {CH1_PAPER}",
    "CH3_TABLE1": f"ch3 Table 1 (target test accuracy per N: Target, Fine-tune, Multi-task, Ours), {CH3_PAPER}",
    "CH3_TEXT": f"ch3 footnote 2 and Appendix A.1-A.3 (TPE rounds, epochs, splits), {CH3_PAPER}",
    "CH4_TABLE_S1": f"ch4 Table S1 (CKA of single-domain models per pairing and width), {CH4_PAPER}",
    "CH4_TABLE_S2": f"ch4 Table S2 (independent model accuracy per width), {CH4_PAPER}",
    "CH4_PVALUES": f"ch4 Sec. 4.1 text (paired t-tests at 1848K parameters), {CH4_PAPER}",
    "CH2_TABLE1": f"ch2 Table 1 (ImageNet-to-Sketch, ResNet-50: params and top-1 per domain), {CH2_PAPER}",
    "CH2_TABLE2": f"ch2 Table 2 (DomainNet, ResNet-34: params and top-1 per domain), {CH2_PAPER}",
    "CH2_TABLE3": f"ch2 Table 3 (CLIP ViT-B/32 adapters, R = 4: params and top-1 per dataset), {CH2_PAPER}",
    "CH2_TABLE4": f"ch2 Table 4 (NYUD-v2 dense prediction, ResNet-18 + DeepLabv3+), {CH2_PAPER}",
    "CH2_TEXT": f"ch2 Secs. 3.2 and 4.1 text (per-task counts, totals, ranks, ViT protocol), {CH2_PAPER}",
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


__all__ = ["CH1_PAPER", "CH1_TABLE4_TEXT", "CH1_TABLE5", "CH1_TEXT", "CH3_PAPER", "CH3_TABLE1", "CH3_TEXT",
           "CH4_PAPER", "CH4_PVALUES", "CH4_SIGNIFICANCE", "CH4_TABLE_S1", "CH4_TABLE_S2", "CH5_PAPER", "CH5_TABLE1",
           "CH5_TABLE2", "SOURCES", "side_by_side"]
