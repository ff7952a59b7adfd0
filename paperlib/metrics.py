"""Metrics of the book's chapters.

* Task arithmetic (ch5): accuracy, normalized accuracy (ch5 Eq. (5), Appendix A) and the
  weight-disentanglement error ξ(α1, α2) (Sec. 4) with its two distances: KL divergence for the
  representation model and prediction error for the combined model (footnote 3).
* Transfer and interference (ch4): the sample-wise PerfGain, Interference and Transfer of a
  multi-domain model against a single-domain one (ch4 Eqs. (2)–(3)), linear CKA between two models'
  representations (Sec. 3.2, after Kornblith et al. 2019) and the paired t-test of Sec. 4.1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

#: ξ is drawn on a 15×15 grid of equispaced values in [−2, 2]² (Appendix A, "Disentanglement error").
DISENTANGLEMENT_GRID: tuple[float, ...] = tuple(float(a) for a in np.linspace(-2, 2, 15))


def accuracy(logits_or_predictions: Tensor, labels: Tensor) -> float:
    """Top-1 accuracy in percent (0–100), the acc(·) of ch5 Eq. (5) and Tables 1–2.

    Accepts (N, C) logits (argmax over C) or (N,) predicted labels. ``ValueError`` if there are no
    inputs or the lengths differ.
    """
    if logits_or_predictions.ndim not in (1, 2):
        raise ValueError(f"expected (N, C) logits or (N,) predictions, got shape {tuple(logits_or_predictions.shape)}")
    preds = logits_or_predictions.argmax(-1) if logits_or_predictions.ndim == 2 else logits_or_predictions
    labels = labels.reshape(-1)
    if len(preds) != len(labels):
        raise ValueError(f"{len(preds)} predictions but {len(labels)} labels")
    if len(labels) == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return 100.0 * (preds.cpu() == labels.cpu()).double().mean().item()


def normalized_accuracies(multi_task: Mapping[str, float], single_task: Mapping[str, float]) -> dict[str, float]:
    """Per task t: 100 · acc(f(x; θ0 + Σ_t τ_t)) / acc(f(x; θ0 + τ_t)), the summand of ch5 Eq. (5).

    ``multi_task``: accuracy (%) of the edited multi-task model on each task (in practice at the
    chosen α, Appendix A); ``single_task``: accuracy (%) of the model fine-tuned on that task alone.
    ``ValueError`` if the task sets differ or are empty, or a single-task accuracy is not positive.
    """
    if set(multi_task) != set(single_task):
        raise ValueError(f"task sets differ: only multi-task {sorted(set(multi_task) - set(single_task))}, "
                         f"only single-task {sorted(set(single_task) - set(multi_task))}")
    if not multi_task:
        raise ValueError("normalized accuracy needs at least one task")
    bad = {t: a for t, a in single_task.items() if not a > 0}
    if bad:
        raise ValueError(f"single-task accuracy must be positive to normalize by it; got {bad}")
    return {t: 100.0 * float(multi_task[t]) / float(single_task[t]) for t in multi_task}


def normalized_accuracy(multi_task: Mapping[str, float], single_task: Mapping[str, float]) -> float:
    """ch5 Eq. (5): (1/T) Σ_t acc(f(x; θ0 + Σ_t τ_t)) / acc(f(x; θ0 + τ_t)), in percent (Table 1 "Norm.").

    See :func:`normalized_accuracies` for the arguments and errors.
    """
    return float(np.mean(list(normalized_accuracies(multi_task, single_task).values())))


def _check_pair(a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"outputs have different shapes: {tuple(a.shape)} vs {tuple(b.shape)}")
    if a.ndim != 2 or a.shape[0] == 0:
        raise ValueError(f"expected non-empty (N, D) outputs, got shape {tuple(a.shape)}")


def prediction_disagreement(logits_a: Tensor, logits_b: Tensor) -> float:
    """Prediction error, the distance of ξ for the combined model (footnote 3, as Ortiz-Jimenez et al.):
    the fraction (0–1) of inputs whose argmax class differs between two (N, C) logit tensors."""
    _check_pair(logits_a, logits_b)
    return (logits_a.argmax(-1).cpu() != logits_b.argmax(-1).cpu()).double().mean().item()


def kl_divergence(features_a: Tensor, features_b: Tensor) -> float:
    """KL distance of ξ for the representation model (Sec. 4): mean over inputs of
    KL(softmax(a) ‖ softmax(b)), the softmax taken over the feature dimension of (N, D) features.

    Our reading: Sec. 4 uses "the KL divergence as the distance metric" because "we are dealing with
    representation distributions", without saying how a feature vector becomes a distribution. We
    turn each input's representation into one with a softmax over its D features (as one would for
    logits), so the distance is per input, like the prediction error, and the expectation over
    x ∼ µ_t of ξ is the mean over inputs. It is 0 exactly when the two representations agree up to
    a constant shift, and is not symmetric: ``a`` is the single-task model's output, ``b`` the
    combined model's, in the order of ξ's dist(·, ·). Computed in float64 from log-softmaxes.
    """
    _check_pair(features_a, features_b)
    log_p = torch.log_softmax(features_a.detach().cpu().double(), dim=-1)
    log_q = torch.log_softmax(features_b.detach().cpu().double(), dim=-1)
    return (log_p.exp() * (log_p - log_q)).sum(-1).mean().item()


def disentanglement_error(outputs: Callable[[tuple[float, float], int], Tensor],
                          distance: Callable[[Tensor, Tensor], float], grid: Sequence[float]) -> np.ndarray:
    """ξ(α1, α2) = Σ_{t=1,2} E_{x∼µ_t}[dist(f(x; θ0 + α_t τ_t), f(x; θ0 + α1 τ1 + α2 τ2))] (Sec. 4).

    The weight-disentanglement error: how far the edited model is from weight disentanglement, ch5 Eq. (4)
    (ξ = 0 where the combined model agrees with each single-task one on that task's inputs).

    Args:
        outputs: ``outputs((c1, c2), t)`` is the model's output on task t's inputs (t ∈ {0, 1})
            at θ0 + c1 τ1 + c2 τ2.
        distance: dist averaged over the inputs, e.g. :func:`kl_divergence` (representation) or
            :func:`prediction_disagreement` (combined model, footnote 3); called as
            dist(single-task output, combined output).
        grid: coefficient values; the paper uses :data:`DISENTANGLEMENT_GRID` (Appendix A).

    Returns an array of shape (len(grid), len(grid)) with ``[i, j] = ξ(grid[i], grid[j])``.

    Outputs where the other task's coefficient is zero (the single-task terms, (a, 0) on task 0 and
    (0, a) on task 1) are memoised, so each is computed once; the combined outputs are computed when
    needed and not kept (2·len(grid) tensors in memory, not 2·len(grid)²).
    """
    grid = tuple(float(a) for a in grid)
    if not grid or not all(math.isfinite(a) for a in grid):
        raise ValueError(f"disentanglement grid must be non-empty and finite; got {grid}")
    memo: dict[tuple[tuple[float, float], int], Tensor] = {}

    def out(c: tuple[float, float], t: int) -> Tensor:
        if c[1 - t] != 0:
            return outputs(c, t)
        if (c, t) not in memo:
            memo[c, t] = outputs(c, t)
        return memo[c, t]

    xi = np.empty((len(grid), len(grid)))
    for i, a1 in enumerate(grid):
        for j, a2 in enumerate(grid):
            xi[i, j] = (distance(out((a1, 0.0), 0), out((a1, a2), 0))
                        + distance(out((0.0, a2), 1), out((a1, a2), 1)))
    return xi


# --- ch4: transfer and interference ------------------------------------------------------------------

@dataclass(frozen=True)
class TransferScores:
    """ch4 Eqs. (2)–(3) for one domain, in percent: ``k`` / ``k_prime`` are the multi-domain model's
    correct answers on the samples the single-domain model gets right / wrong."""

    perf_gain: float
    interference: float
    transfer: float
    k: int
    k_prime: int
    n_correct: int
    n: int


def transfer_scores(single_correct: Tensor, multi_correct: Tensor) -> TransferScores:
    """PerfGain, Interference and Transfer (ch4 Eqs. (2)–(3)) from per-sample correctness (bool) of the
    single-domain model M_T and the multi-domain model on the same test samples:

    PerfGain = (k + k' − |D_correct|) / |D| · 100, Interference = (|D_correct| − k) / |D_correct| · 100,
    Transfer = k' / |D_incorrect| · 100, with D_correct the samples M_T gets right. Interference is
    NaN when M_T gets nothing right, Transfer when it gets everything right (the sets are empty).
    """
    a = torch.as_tensor(single_correct).reshape(-1)
    b = torch.as_tensor(multi_correct).reshape(-1)
    if a.dtype != torch.bool or b.dtype != torch.bool:
        raise ValueError(f"correctness must be boolean per sample; got {a.dtype} and {b.dtype}")
    if len(a) != len(b) or len(a) == 0:
        raise ValueError(f"need the same non-empty test set for both models; got {len(a)} and {len(b)} samples")
    n, n_correct = len(a), int(a.sum())
    k, k_prime = int((a & b).sum()), int((~a & b).sum())
    n_incorrect = n - n_correct
    return TransferScores(perf_gain=100.0 * (k + k_prime - n_correct) / n,
                          interference=100.0 * (n_correct - k) / n_correct if n_correct else math.nan,
                          transfer=100.0 * k_prime / n_incorrect if n_incorrect else math.nan,
                          k=k, k_prime=k_prime, n_correct=n_correct, n=n)


def correct(logits_or_predictions: Tensor, labels: Tensor) -> Tensor:
    """Per-sample correctness (bool) from (N, C) logits or (N,) predictions."""
    p = logits_or_predictions
    pred = p.argmax(-1) if p.dim() == 2 else p
    if pred.shape != labels.shape or pred.dim() != 1:
        raise ValueError(f"expected (N,) predictions and labels; got {tuple(pred.shape)} and {tuple(labels.shape)}")
    return pred == labels


def _centered(x) -> np.ndarray:
    x = np.asarray(x.detach().cpu() if torch.is_tensor(x) else x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"representations must be (samples, features); got shape {x.shape}")
    return x - x.mean(0, keepdims=True)


def _hsic_dot(xty_sq: float, rows_x: np.ndarray, rows_y: np.ndarray, n: int) -> float:
    """The unbiased estimator of ‖XᵀY‖²_F for centered X, Y (Song et al. 2012), from ‖XᵀY‖²_F and the
    rows' squared norms."""
    return xty_sq - n / (n - 2.0) * float(rows_x @ rows_y) + float(rows_x.sum() * rows_y.sum()) / ((n - 1) * (n - 2))


def linear_cka(x, y, debiased: bool = False) -> float:
    """Linear CKA (Kornblith et al. 2019) between representations ``x`` (n, p) and ``y`` (n, q) of the
    same n samples: ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F) on column-centered features, the task similarity of
    ch4 Sec. 3.2. ``debiased`` uses the unbiased HSIC estimator (needs n > 3). Invariant to orthogonal
    transforms and isotropic scaling of either side; computed in float64."""
    X, Y = _centered(x), _centered(y)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"x and y must describe the same samples; got {X.shape[0]} and {Y.shape[0]} rows")
    n = X.shape[0]
    xy = float(np.linalg.norm(X.T @ Y) ** 2)
    xx = float(np.linalg.norm(X.T @ X) ** 2)
    yy = float(np.linalg.norm(Y.T @ Y) ** 2)
    if debiased:
        if n <= 3:
            raise ValueError(f"debiased CKA needs more than 3 samples; got {n}")
        rx, ry = (X * X).sum(1), (Y * Y).sum(1)
        xy, xx, yy = _hsic_dot(xy, rx, ry, n), _hsic_dot(xx, rx, rx, n), _hsic_dot(yy, ry, ry, n)
    if xx <= 0 or yy <= 0:
        raise ValueError("CKA is undefined for a constant representation (zero variance)")
    return xy / math.sqrt(xx * yy)


def paired_ttest(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Paired t-test (ch4 Sec. 4.1: the scores of two weighting methods paired by trial and pairing):
    ``(t statistic, two-sided p-value)`` from :func:`scipy.stats.ttest_rel`."""
    from scipy import stats
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"paired t-test needs two equally long lists of at least 2 scores; got {a.shape}, {b.shape}")
    res = stats.ttest_rel(a, b)
    return float(res.statistic), float(res.pvalue)


__all__ = ["DISENTANGLEMENT_GRID", "TransferScores", "accuracy", "correct", "linear_cka", "paired_ttest",
           "transfer_scores", "disentanglement_error", "kl_divergence", "normalized_accuracies",
           "normalized_accuracy", "prediction_disagreement"]
