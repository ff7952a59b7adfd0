"""Task-arithmetic metrics (ch5): accuracy, normalized accuracy (Eq. (5), Appendix A) and the
weight-disentanglement error ξ(α1, α2) (Sec. 4) with its two distances: KL divergence for the
representation model and prediction error for the combined model (footnote 3)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

#: ξ is drawn on a 15×15 grid of equispaced values in [−2, 2]² (Appendix A, "Disentanglement error").
DISENTANGLEMENT_GRID: tuple[float, ...] = tuple(float(a) for a in np.linspace(-2, 2, 15))


def accuracy(logits_or_predictions: Tensor, labels: Tensor) -> float:
    """Top-1 accuracy in percent (0–100), the acc(·) of Eq. (5) and Tables 1–2.

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
    """Per task t: 100 · acc(f(x; θ0 + Σ_t τ_t)) / acc(f(x; θ0 + τ_t)), the summand of Eq. (5).

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
    """Eq. (5): (1/T) Σ_t acc(f(x; θ0 + Σ_t τ_t)) / acc(f(x; θ0 + τ_t)), in percent (Table 1 "Norm.").

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


__all__ = ["DISENTANGLEMENT_GRID", "accuracy", "disentanglement_error", "kl_divergence", "normalized_accuracies",
           "normalized_accuracy", "prediction_disagreement"]
