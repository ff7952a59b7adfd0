"""Task vectors and task addition (ch5 Sec. 2–3, Appendix A).

A task vector is τ_t = θ*_t − θ0, the fine-tuned minus the pre-trained weights of the representation
model (Sec. 2, "Task arithmetic"); editing adds Σ_t α_t τ_t to θ0 (ch5 Eq. (1)). Task addition (Sec. 3,
Table 1) uses one coefficient α = α_1 = … = α_T chosen from ALPHA_GRID (Appendix A, "Tuning of α").
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import reduce

import numpy as np
import torch
from torch import Tensor

#: α ∈ {0.0, 0.05, 0.1, …, 1.0} (Appendix A, "Tuning of α in task arithmetic benchmarks").
ALPHA_GRID: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(21))

Scalar = float | int | Tensor


def _scalar(value) -> float | None:
    """``value`` as a float if it is a Python/NumPy real or a one-element tensor, else ``None``."""
    if isinstance(value, Tensor):
        return float(value) if value.numel() == 1 else None
    return float(value) if isinstance(value, numbers.Real) else None


class TaskVector(Mapping[str, Tensor]):
    """An immutable mapping parameter name → τ tensor (float32, CPU): τ_t = θ*_t − θ0 (Sec. 2).

    The constructor copies its tensors, so later changes to the inputs do not reach the vector;
    the tensors it hands out must be treated as read-only. Binary operations (``+``, ``-``, ``dot``,
    ``cosine``) require both vectors to have the same parameter names.
    """

    __slots__ = ("_tensors",)
    __array_ufunc__ = None  # so that ``numpy_scalar * tv`` defers to __rmul__

    def __init__(self, tensors: Mapping[str, Tensor]):
        if not tensors:
            raise ValueError("a task vector needs at least one tensor")
        for name, t in tensors.items():
            if not isinstance(t, Tensor):
                raise TypeError(f"task vector entry {name!r} is a {type(t).__name__}, not a tensor")
        self._tensors = {str(k): v.detach().to("cpu", torch.float32, copy=True) for k, v in tensors.items()}

    @classmethod
    def _wrap(cls, tensors: dict[str, Tensor]) -> TaskVector:
        """A vector over freshly computed float32 CPU tensors (no validation, no copy)."""
        tv = cls.__new__(cls)
        tv._tensors = tensors
        return tv

    @classmethod
    def from_states(cls, pretrained: Mapping[str, Tensor], finetuned: Mapping[str, Tensor],
                    names: Iterable[str] | None = None) -> TaskVector:
        """τ = θ* − θ0 (Sec. 2) over ``names`` (default: every key of ``finetuned``).

        Raises ``KeyError`` naming the names missing from either state and ``ValueError`` naming
        the parameters whose shapes differ.
        """
        names = list(finetuned if names is None else names)
        if not names:
            raise ValueError("a task vector needs at least one tensor")
        for label, state in (("pretrained", pretrained), ("finetuned", finetuned)):
            missing = [n for n in names if n not in state]
            if missing:
                raise KeyError(f"{label} state has no {missing}")
        bad = [f"{n}: {tuple(pretrained[n].shape)} vs {tuple(finetuned[n].shape)}"
               for n in names if pretrained[n].shape != finetuned[n].shape]
        if bad:
            raise ValueError(f"pretrained and finetuned shapes differ for {bad}")
        return cls._wrap({n: finetuned[n].detach().to("cpu", torch.float32)
                          - pretrained[n].detach().to("cpu", torch.float32) for n in names})

    # --- mapping ------------------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._tensors)

    def __getitem__(self, name: str) -> Tensor:
        return self._tensors[name]

    def __len__(self) -> int:
        return len(self._tensors)

    def __iter__(self) -> Iterator[str]:
        return iter(self._tensors)

    def __eq__(self, other) -> bool:
        """Same names (in any order) and exactly equal tensors (Mapping's default compares tensors with ``==``)."""
        if not isinstance(other, TaskVector):
            return NotImplemented
        return set(self.names) == set(other.names) and all(torch.equal(v, other[k]) for k, v in self.items())

    def __repr__(self) -> str:
        return f"TaskVector({len(self)} tensors, {sum(v.numel() for v in self.values())} values)"

    # --- algebra ------------------------------------------------------------------------------

    def _check_same(self, other: TaskVector) -> None:
        if set(self.names) != set(other.names):
            only_a, only_b = sorted(set(self.names) - set(other.names)), sorted(set(other.names) - set(self.names))
            raise ValueError(f"task vectors have different parameter names: only in the first {only_a}, "
                             f"only in the second {only_b}")

    def __add__(self, other: TaskVector) -> TaskVector:
        if not isinstance(other, TaskVector):
            return NotImplemented
        self._check_same(other)
        return TaskVector._wrap({k: v + other[k] for k, v in self.items()})

    def __radd__(self, other) -> TaskVector:
        """``0 + τ`` is τ, so that ``sum(vectors)`` works."""
        if isinstance(other, numbers.Number) and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: TaskVector) -> TaskVector:
        if not isinstance(other, TaskVector):
            return NotImplemented
        self._check_same(other)
        return TaskVector._wrap({k: v - other[k] for k, v in self.items()})

    def __neg__(self) -> TaskVector:
        return TaskVector._wrap({k: -v for k, v in self.items()})

    def __mul__(self, scalar: Scalar) -> TaskVector:
        s = _scalar(scalar)
        if s is None:
            return NotImplemented
        return TaskVector._wrap({k: v * s for k, v in self.items()})

    __rmul__ = __mul__

    def __truediv__(self, scalar: Scalar) -> TaskVector:
        s = _scalar(scalar)
        if s is None:
            return NotImplemented
        if s == 0:
            raise ZeroDivisionError("task vector divided by zero")
        return TaskVector._wrap({k: v / s for k, v in self.items()})

    def dot(self, other: TaskVector) -> float:
        """⟨τ_a, τ_b⟩ over all parameters, accumulated in float64."""
        self._check_same(other)
        return float(sum(torch.dot(v.flatten().double(), other[k].flatten().double()) for k, v in self.items()))

    def norm(self) -> float:
        """‖τ‖_2 over all parameters."""
        return math.sqrt(self.dot(self))

    def cosine(self, other: TaskVector) -> float:
        """Cosine similarity ⟨τ_a, τ_b⟩ / (‖τ_a‖ ‖τ_b‖), as in Fig. 5 (Sec. 4); ``ValueError`` for a zero vector."""
        self._check_same(other)
        na, nb = self.norm(), other.norm()
        if na == 0 or nb == 0:
            raise ValueError("cosine similarity is undefined for a zero task vector")
        return self.dot(other) / (na * nb)

    # --- editing and storage --------------------------------------------------------------------

    def apply(self, pretrained: Mapping[str, Tensor], alpha: float = 1.0) -> dict[str, Tensor]:
        """θ0 + α τ (ch5 Eq. (1) with one task, or with τ = Σ_t τ_t for task addition, Sec. 3).

        Entries of ``pretrained`` not in τ are copied unchanged. Returns new tensors with the dtype
        and device of ``pretrained`` (the sum is computed in at least float32); inputs are untouched.
        Raises ``KeyError`` naming parameters of τ missing from ``pretrained`` and ``ValueError`` on
        a shape mismatch.
        """
        missing = [n for n in self.names if n not in pretrained]
        if missing:
            raise KeyError(f"pretrained state has no {missing}")
        bad = [f"{n}: {tuple(pretrained[n].shape)} vs {tuple(t.shape)}" for n, t in self.items()
               if pretrained[n].shape != t.shape]
        if bad:
            raise ValueError(f"task vector and pretrained shapes differ for {bad}")
        alpha = float(alpha)
        out = {}
        for name, p in pretrained.items():
            p = p.detach()
            if name in self._tensors:
                dtype = torch.promote_types(p.dtype, torch.float32)
                out[name] = (p.to(dtype) + alpha * self._tensors[name].to(p.device, dtype)).to(p.dtype)
            else:
                out[name] = p.clone()
        return out

    def to_tensors(self) -> dict[str, Tensor]:
        """A copy of the tensors as a plain dict."""
        return {k: v.clone() for k, v in self.items()}


def sum_task_vectors(vectors: Sequence[TaskVector]) -> TaskVector:
    """τ = Σ_t τ_t, the vector added to θ0 in task addition (Sec. 3, Appendix A)."""
    if not vectors:
        raise ValueError("sum_task_vectors needs at least one task vector")
    return reduce(lambda a, b: a + b, vectors)


def check_alpha_grid(grid: Iterable[float]) -> tuple[float, ...]:
    """Validate a task-addition α grid (Appendix A uses ALPHA_GRID ⊂ [0, 1]): non-empty, finite, ≥ 0.

    Returns the grid as a tuple of floats; raises ``ValueError`` naming the first bad value.
    """
    values = tuple(float(a) for a in grid)
    if not values:
        raise ValueError("α grid is empty; give at least one value, e.g. paperlib.task_vectors.ALPHA_GRID")
    for a in values:
        if not math.isfinite(a):
            raise ValueError(f"α grid values must be finite; got {a}")
        if a < 0:
            raise ValueError(f"α grid must lie in [0, ∞); got {a}")
    return values


def search_alpha(score: Callable[[float], float],
                 grid: Iterable[float] = ALPHA_GRID) -> tuple[float, dict[float, float]]:
    """Pick the single task-addition coefficient α (Appendix A): the grid value maximising ``score``.

    Appendix A maximises the normalized accuracy (ch5 Eq. (5)) on held-out validation data; ``score``
    is that criterion (or any other). Each distinct α is scored once; ties go to the smallest α.
    Returns (best α, {α: score}). Raises ``ValueError`` for a bad grid or a NaN score.
    """
    scores = {a: float(score(a)) for a in dict.fromkeys(check_alpha_grid(grid))}
    nan = [a for a, s in scores.items() if math.isnan(s)]
    if nan:
        raise ValueError(f"score is NaN at α = {nan}")
    top = max(scores.values())
    return min(a for a, s in scores.items() if s == top), scores


def cosine_matrix(vectors: Sequence[TaskVector]) -> np.ndarray:
    """T×T cosine similarities between task vectors (Fig. 5, Sec. 4); ``ValueError`` for a zero vector."""
    if not vectors:
        raise ValueError("cosine_matrix needs at least one task vector")
    norms = [v.norm() for v in vectors]
    zero = [i for i, n in enumerate(norms) if n == 0]
    if zero:
        raise ValueError(f"cosine similarity is undefined for zero task vectors (positions {zero})")
    out = np.ones((len(vectors), len(vectors)))
    for i in range(len(vectors)):
        for j in range(i + 1, len(vectors)):
            out[i, j] = out[j, i] = vectors[i].dot(vectors[j]) / (norms[i] * norms[j])
    return out


__all__ = ["ALPHA_GRID", "TaskVector", "check_alpha_grid", "cosine_matrix", "search_alpha", "sum_task_vectors"]
