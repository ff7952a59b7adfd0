"""Evaluating edited models θ0 + Σ_t α_t τ_t: task addition and weight disentanglement (ch5 Sec. 2–4).

:class:`EditedEncoder` gives the image features of the edited encoder of one fine-tuning paradigm
for any coefficients, memoised per (data, coefficients). For the NTK-linearized paradigm it uses
that the linearized model is exactly affine in θ − θ0 (ch5 Eq. (2)):
f_lin(x; θ0 + Σ α_t τ_t) = f(x; θ0) + Σ α_t J(θ0) τ_t, so a set of task vectors sharing one
coefficient costs one Jacobian-vector product per input and every α (and the whole ξ grid) is then a
linear combination: exact, not an approximation of the linearized model.

Task addition (Sec. 3, Table 1; Appendix A): τ = Σ_t τ_t is added with one coefficient α chosen on
the validation splits by mean normalized accuracy (ch5 Eq. (5)); test accuracy is reported at that α.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import torch

from .clip_tasks import EvalSet, build_encoder, encoder_state, features, load_encoder_state
from .linearize import LinearizedModel
from .metrics import accuracy, disentanglement_error, kl_divergence, normalized_accuracy, prediction_disagreement
from .models.clip import ClipBundle
from .task_vectors import ALPHA_GRID, TaskVector, check_alpha_grid, search_alpha

#: The α grid per profile: the paper's (ch5 Appendix A) on ``embedded`` and ``paper``; ``smoke`` only
#: checks that the code runs, so it searches three values.
ALPHA_GRIDS: dict[str, tuple[float, ...]] = {"smoke": (0.0, 0.5, 1.0), "embedded": ALPHA_GRID, "paper": ALPHA_GRID}


class EditedEncoder:
    """Features of θ0 + Σ_t c_t τ_t for one paradigm (see the module docstring).

    Args:
        bundle: the pre-trained CLIP model (θ0).
        paradigm, variant: as in :func:`paperlib.clip_tasks.build_encoder`.
        vectors: task name → task vector of that paradigm.
        memoise: keep outputs for reuse (the default). ``False`` for a model evaluated once (a
            sequence's end point, ch1): a linearized edit then costs one Jacobian-vector product per
            input instead of a forward pass for f(x; θ0) plus one.
    """

    def __init__(self, bundle: ClipBundle, paradigm: str, vectors: Mapping[str, TaskVector],
                 variant: int | None = None, device: str = "cpu", memoise: bool = True):
        if not vectors:
            raise ValueError("EditedEncoder needs at least one task vector")
        self.encoder, _ = build_encoder(bundle, paradigm, variant)
        self.encoder.to(device).eval()
        self.theta0 = {k: v.detach().clone() for k, v in encoder_state(self.encoder).items()}
        self.vectors = dict(vectors)
        self.linearized = isinstance(self.encoder, LinearizedModel)
        self._memo: dict[tuple, torch.Tensor] = {}
        self.memoise = memoise

    def set_vectors(self, vectors: Mapping[str, TaskVector]) -> None:
        """Edit with other task vectors from now on (what was memoised is dropped): evaluating many
        edits of one paradigm builds the encoder once."""
        if not vectors:
            raise ValueError("EditedEncoder needs at least one task vector")
        self.vectors = dict(vectors)
        self._memo.clear()

    def _forward_at(self, coefs: Mapping[str, float], images: torch.Tensor) -> torch.Tensor:
        edit = sum((float(c) * self.vectors[t] for t, c in coefs.items() if c != 0), start=0)
        state = self.theta0 if isinstance(edit, int) else edit.apply(self.theta0, 1.0)
        load_encoder_state(self.encoder, state)
        return features(self.encoder, images)

    def features(self, coefs: Mapping[str, float], images: torch.Tensor, key: str) -> torch.Tensor:
        """f(x; θ0 + Σ c_t τ_t) for ``images`` (``key`` names this image set).

        Linearized: tasks that share a coefficient are grouped, f(θ0) + Σ_c c · J(θ0)(Σ_{t: c_t = c} τ_t),
        and each group's direction J(θ0)Σ τ_t is memoised, so task addition (one α for every task)
        costs one Jacobian-vector product per image set for the whole α grid, and a ξ grid two or three.
        Other paradigms: outputs with at most one non-zero coefficient are memoised (ξ's single-task
        terms recur); combinations are computed each time, so memory stays bounded on the paper profile.
        """
        unknown = set(coefs) - set(self.vectors)
        if unknown:
            raise ValueError(f"no task vector for {sorted(unknown)}; known: {sorted(self.vectors)}")
        coefs = {t: float(c) for t, c in sorted(coefs.items()) if float(c) != 0.0}
        if not self.memoise:
            return self._forward_at(coefs, images)
        if self.linearized and coefs:
            out = self._memoised(key, (), lambda: self._forward_at({}, images)).clone()
            for c in sorted(set(coefs.values())):
                group = tuple(t for t, ct in coefs.items() if ct == c)
                direction = self._memoised(key, group, lambda g=group: self._forward_at(dict.fromkeys(g, 1.0), images)
                                           - self._memo[(key, ())])
                out += c * direction
            return out
        if len(coefs) <= 1:
            return self._memoised(key, tuple(coefs.items()), lambda: self._forward_at(coefs, images))
        return self._forward_at(coefs, images)

    def _memoised(self, key: str, ident: tuple, compute) -> torch.Tensor:
        if (key, ident) not in self._memo:
            self._memo[(key, ident)] = compute()
        return self._memo[(key, ident)]


def evaluate(edited: EditedEncoder, coefs: Mapping[str, float], sets: Mapping[str, EvalSet]) -> dict[str, float]:
    """Accuracy (%) per task of the edited model on each task's :class:`~paperlib.clip_tasks.EvalSet`."""
    return {t: accuracy(head(edited.features(coefs, x, key)), y) for t, (x, y, head, key) in sets.items()}


def task_addition(edited: EditedEncoder, val_sets: Mapping[str, EvalSet], test_sets: Mapping[str, EvalSet],
                  single_val: Mapping[str, float], single_test: Mapping[str, float],
                  grid: Sequence[float] = ALPHA_GRID) -> dict:
    """Task addition with one α (Appendix A): pick α on val by normalized accuracy, report test.

    Returns ``alpha``, ``val_curve`` (α → val normalized accuracy), ``test`` (task → accuracy),
    ``absolute`` (mean test accuracy), ``normalized`` (ch5 Eq. (5) on test) and ``criterion``.

    ch5 Eq. (5) divides by each task's single-task accuracy; where one is 0 (a model that learnt nothing, as in a
    rehearsal with random weights and a handful of images) the normalized accuracy is undefined: α is then chosen
    by the mean absolute validation accuracy (``criterion`` says so) and ``normalized`` on test is NaN.
    """
    grid = check_alpha_grid(grid)
    tasks = sorted(val_sets)
    if not tasks:
        raise ValueError("task addition needs at least one task")
    undefined = [t for t in tasks if not single_val[t] > 0]
    criterion = "normalized" if not undefined else \
        f"absolute (normalized undefined: single-task validation accuracy 0 on {', '.join(undefined)})"

    def val_score(alpha: float) -> float:
        acc = evaluate(edited, {t: alpha for t in tasks}, val_sets)
        return normalized_accuracy(acc, single_val) if not undefined else float(np.mean(list(acc.values())))

    alpha, curve = search_alpha(val_score, grid)
    test = evaluate(edited, {t: alpha for t in tasks}, test_sets)
    normalized = normalized_accuracy(test, single_test) if all(single_test[t] > 0 for t in tasks) else math.nan
    return {"alpha": alpha, "val_curve": {str(a): s for a, s in curve.items()}, "test": test,
            "absolute": float(np.mean(list(test.values()))), "normalized": normalized, "criterion": criterion}


def disentanglement(edited: EditedEncoder, pair: tuple[str, str], sets: Mapping[str, EvalSet],
                    grid: Sequence[float]) -> dict[str, np.ndarray]:
    """ξ(α1, α2) for a task pair (Sec. 4), on the representation (KL divergence, Property 3) and on
    the predictions of the full model with each task's head (prediction error, footnote 3)."""
    (t1, t2) = pair

    def outputs(c: tuple[float, float], t: int) -> torch.Tensor:
        task = pair[t]
        x, _, _, key = sets[task]
        return edited.features({t1: c[0], t2: c[1]}, x, key)

    heads = {0: sets[t1].head, 1: sets[t2].head}
    representation = disentanglement_error(outputs, kl_divergence, grid)

    def predictions(c: tuple[float, float], t: int) -> torch.Tensor:
        return heads[t](outputs(c, t))

    classification = disentanglement_error(predictions, prediction_disagreement, grid)
    return {"representation": representation, "classification": classification}


__all__ = ["ALPHA_GRIDS", "EditedEncoder", "disentanglement", "evaluate", "task_addition"]
