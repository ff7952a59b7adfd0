"""Gradient surgery: PCGrad and the calibration of chapter 1 (ch1 Secs. 3.2, 3.3, 5.1, 5.4).

Everything works on *flattened* parameter vectors (one 1-D tensor per gradient or reference), with a
handful of fused tensor operations per reference and no per-parameter Python loop, so calibrating a
ViT-B/32 gradient (88M entries) costs a few vector passes. References stay on the gradient's device;
the calibrators precompute what does not change during a task (squared norms, sign masks).

* :func:`pcgrad`: PCGrad (Yu et al. 2020, ch1 Sec. 3.2) for a set of per-task gradients: each
  gradient is projected onto the normal plane of every *other original* gradient it conflicts with
  (negative inner product), visiting the others in random order, and the projected gradients are
  summed (Yu et al., Algorithm 1).
* :class:`ProjectionCalibrator`: ch1 Sec. 3.3 (S-TL-p{c}): the current task's gradient g is calibrated
  against reference directions v (the other tasks' latest task vectors): if g·v < 0,
  g ← g − c·(g·v/‖v‖²)·v, applied against each reference in turn, in the given order, each time
  with the already-calibrated g (Gram-Schmidt, as the paper says). c = 0 is no calibration, c = 1 the
  full PCGrad projection (Sec. 5.1).
* :class:`SignCalibrator`: ch1 Sec. 5.4 (S-TL-a{c}, after Mansilla et al. 2021): components of g whose
  sign disagrees with the references are scaled by (1 − c). *Reading chosen:* a component disagrees
  when its sign is opposite to that of **any** reference with a non-zero entry there (Mansilla et al.'s
  agreement requires every gradient to share the sign); zero entries carry no sign and never conflict.

Zero-norm references (a task not trained yet, or a zero gradient) are skipped, never divided by.

*Sign convention (a reading of Sec. 3.3).* The paper calibrates the gradient against "the weight
update directions from previous tasks" with PCGrad's test g·g_j < 0, which compares two *gradients*.
A task vector τ = θ* − θ0 is an update, i.e. a descent direction, so the gradient-like reference is
−τ: the calibrators take gradient-convention references, and :meth:`ProjectionCalibrator.from_task_vectors`
(likewise for :class:`SignCalibrator`) negates task vectors. A conflict is then a current update −g
that points against τ, as the paper intends; the projection itself does not depend on the sign.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import torch
from torch import Tensor, nn

CALIBRATIONS = ("pcgrad", "sign")


def check_strength(c: float) -> float:
    """The calibration strength c must lie in [0, 1] (Sec. 5.1)."""
    if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0.0 <= float(c) <= 1.0:
        raise ValueError(f"calibration strength c={c!r} is out of range; allowed: a number in [0, 1] "
                         "(0 = no calibration, 1 = full projection)")
    return float(c)


def flatten(tensors: Mapping[str, Tensor] | Sequence[Tensor], names: Sequence[str] | None = None) -> Tensor:
    """One 1-D tensor from a name → tensor mapping (in ``names`` order, default: the mapping's) or a
    sequence of tensors (one ``torch.cat``)."""
    if isinstance(tensors, Mapping):
        names = list(tensors) if names is None else list(names)
        missing = [n for n in names if n not in tensors]
        if missing:
            raise KeyError(f"no tensor for {missing[:5]}{' …' if len(missing) > 5 else ''}")
        tensors = [tensors[n] for n in names]
    if not len(tensors):
        raise ValueError("nothing to flatten: no tensors given")
    return torch.cat([t.reshape(-1) for t in tensors])


def gradient_vector(params: Sequence[nn.Parameter]) -> Tensor:
    """The parameters' ``.grad`` as one flat vector (zeros where a gradient is ``None``)."""
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params])


def set_gradient_vector(params: Sequence[nn.Parameter], vector: Tensor) -> None:
    """Write a flat vector back into the parameters' ``.grad`` (the inverse of :func:`gradient_vector`)."""
    total = sum(p.numel() for p in params)
    if vector.numel() != total:
        raise ValueError(f"gradient vector has {vector.numel()} entries; the parameters have {total}")
    offset = 0
    for p in params:
        n = p.numel()
        chunk = vector[offset:offset + n].view_as(p)
        if p.grad is None:
            p.grad = chunk.clone()
        else:
            p.grad.copy_(chunk)
        offset += n


class FlatGradients:
    """One flat buffer holding every parameter's ``.grad`` as a view, so that autograd accumulates the
    gradient straight into a single 1-D vector: calibration then works on it in place, with no
    ``torch.cat`` before and no copy back after (the gradient of a linearized model is the ``.grad``
    of its θ, so this holds for every paradigm).

    Use :meth:`zero_` instead of ``optimizer.zero_grad()`` (``set_to_none`` would drop the views).
    """

    def __init__(self, params: Sequence[nn.Parameter]):
        self.params = list(params)
        if not self.params:
            raise ValueError("FlatGradients needs at least one parameter")
        first = self.params[0]
        self.vector = torch.zeros(sum(p.numel() for p in self.params), dtype=first.dtype, device=first.device)
        self.attach()

    def attach(self) -> None:
        """(Re)make every parameter's ``.grad`` a view of :attr:`vector`."""
        offset = 0
        for p in self.params:
            p.grad = self.vector[offset:offset + p.numel()].view_as(p)
            offset += p.numel()

    def zero_(self) -> None:
        self.vector.zero_()

    def check(self) -> None:
        """Raise if a ``.grad`` stopped being a view of :attr:`vector` (e.g. ``zero_grad(set_to_none=True)``)."""
        lo, hi = self.vector.data_ptr(), self.vector.data_ptr() + self.vector.numel() * self.vector.element_size()
        for p in self.params:
            if p.grad is None or not lo <= p.grad.data_ptr() < hi:
                raise RuntimeError("a parameter's .grad is no longer a view of the flat gradient buffer; "
                                   "use FlatGradients.zero_() instead of optimizer.zero_grad()")


def _stack(references: Tensor | Iterable[Tensor]) -> Tensor:
    if not torch.is_tensor(references):
        references = list(references)
        if not references:
            return torch.zeros(0, 0)
    refs = references if torch.is_tensor(references) else torch.stack([r.reshape(-1) for r in references])
    if refs.dim() == 1:
        refs = refs.unsqueeze(0)
    if refs.dim() != 2:
        raise ValueError(f"references must be a (R, P) matrix or a list of flat vectors; got shape {tuple(refs.shape)}")
    return refs


def pcgrad(grads: Tensor | Sequence[Tensor], generator: torch.Generator | None = None) -> Tensor:
    """PCGrad (Yu et al. 2020, Alg. 1; ch1 Sec. 3.2): the sum over tasks of each task's gradient
    projected onto the normal plane of every other task's (original) gradient it conflicts with,
    the others taken in a random order per task (``generator`` seeds it)."""
    g = _stack(grads)
    T = g.shape[0]
    if T == 0:
        raise ValueError("pcgrad needs at least one gradient")
    sq = (g * g).sum(1)
    out = g.clone()
    for i in range(T):
        order = [j for j in torch.randperm(T, generator=generator).tolist() if j != i]
        for j in order:
            dot = out[i] @ g[j]
            coef = torch.where((dot < 0) & (sq[j] > 0), dot / sq[j].clamp_min(torch.finfo(g.dtype).tiny), 0.0)
            out[i] -= coef * g[j]
    return out.sum(0)


class ProjectionCalibrator:
    """S-TL-p{c} calibration (ch1 Sec. 3.3): g ← g − c·(g·v/‖v‖²)·v for each reference v with g·v < 0.

    Args:
        references: (R, P) matrix or R flat vectors (the other tasks' latest task vectors), kept on
            ``device``; zero vectors are skipped.
        c: strength in [0, 1].
    """

    def __init__(self, references: Tensor | Iterable[Tensor], c: float, device: str | torch.device | None = None):
        self.c = check_strength(c)
        refs = _stack(references)
        if device is not None:
            refs = refs.to(device)
        sq = (refs * refs).sum(1)
        keep = sq > 0
        self.references, self.sq_norms = refs[keep], sq[keep]
        # Gram matrix of the references: the dot products of the partly calibrated gradient follow
        # from those of the original one, so the whole calibration reads each reference twice
        self.gram = self.references @ self.references.T
        self.steps, self._conflicts = 0, torch.zeros((), device=refs.device)

    @classmethod
    def from_task_vectors(cls, vectors: Iterable[Mapping[str, Tensor]], names: Sequence[str], c: float,
                          device: str | torch.device | None = None):
        """References −τ from task vectors (see the module docstring), flattened in ``names`` order."""
        return cls([-flatten(v, names) for v in vectors], c, device)

    def __call__(self, g: Tensor) -> Tensor:
        """The calibrated gradient (a new tensor; ``g`` is unchanged)."""
        if self.c == 0.0 or len(self.references) == 0:
            return g
        return self.apply_(g.clone())

    def apply_(self, g: Tensor) -> Tensor:
        """Calibrate ``g`` in place and return it: the same result as projecting against the references
        one after another, computed as d = V g (one pass over the references), the coefficients from
        d and the Gram matrix VVᵀ (g_j·v_j = d_j − Σ_{i<j} coef_i v_i·v_j; R scalars on the device, no
        host sync), and g −= Vᵀ coef (one more pass)."""
        if self.c == 0.0 or len(self.references) == 0:
            return g
        self.steps += 1
        d = self.references @ g
        coefs: list[Tensor] = []
        for j in range(len(self.references)):
            dot = d[j] - sum((coefs[i] * self.gram[i, j] for i in range(j)), start=torch.zeros((), device=g.device))
            self._conflicts += dot < 0
            coefs.append(torch.where(dot < 0, self.c * dot / self.sq_norms[j], 0.0))
        return g.addmv_(self.references.T, torch.stack(coefs), alpha=-1.0)

    def conflict_rate(self) -> float:
        """Fraction of (step, reference) pairs so far where the gradient conflicted (g·v < 0)."""
        total = self.steps * len(self.references)
        return float(self._conflicts) / total if total else 0.0


class SignCalibrator:
    """S-TL-a{c} calibration (ch1 Sec. 5.4): components whose sign disagrees with a reference are
    scaled by (1 − c) (see the module docstring for the reading of "disagrees")."""

    def __init__(self, references: Tensor | Iterable[Tensor], c: float, device: str | torch.device | None = None):
        self.c = check_strength(c)
        refs = _stack(references)
        if device is not None:
            refs = refs.to(device)
        self.empty = len(refs) == 0
        # per component, the multiplier of a positive and of a negative gradient entry: 1 − c where a
        # reference has the opposite sign, else 1 (so apply_ is one comparison, one where, one product)
        self.if_positive = torch.where((refs < 0).any(0), 1.0 - self.c, 1.0).to(refs.dtype)
        self.if_negative = torch.where((refs > 0).any(0), 1.0 - self.c, 1.0).to(refs.dtype)
        self.steps, self._conflicts = 0, torch.zeros((), device=refs.device)

    from_task_vectors = classmethod(ProjectionCalibrator.from_task_vectors.__func__)

    def __call__(self, g: Tensor) -> Tensor:
        """The calibrated gradient (a new tensor; ``g`` is unchanged)."""
        if self.c == 0.0 or self.empty:
            return g
        return self.apply_(g.clone())

    def apply_(self, g: Tensor) -> Tensor:
        """Scale the disagreeing components of ``g`` by (1 − c), in place, and return it."""
        if self.c == 0.0 or self.empty:
            return g
        m = torch.where(g > 0, self.if_positive, self.if_negative)
        self.steps += 1
        # components scaled: those whose multiplier is 1 − c (a zero entry counts if its references
        # disagree among themselves; it is unchanged either way)
        self._conflicts += (m.numel() - m.sum()) / (self.c * m.numel())
        return g.mul_(m)

    def conflict_rate(self) -> float:
        """Mean fraction of gradient components scaled per step so far."""
        return float(self._conflicts) / self.steps if self.steps else 0.0


def calibrator_class(method: str) -> type[ProjectionCalibrator] | type[SignCalibrator]:
    """``"pcgrad"`` → :class:`ProjectionCalibrator`, ``"sign"`` → :class:`SignCalibrator`."""
    if method not in CALIBRATIONS:
        raise ValueError(f"unknown calibration method {method!r}; allowed: {', '.join(CALIBRATIONS)}")
    return ProjectionCalibrator if method == "pcgrad" else SignCalibrator


def make_calibrator(method: str, references: Tensor | Iterable[Tensor], c: float,
                    device: str | torch.device | None = None) -> ProjectionCalibrator | SignCalibrator:
    """The calibrator of ``method`` (:func:`calibrator_class`) against gradient-convention references."""
    return calibrator_class(method)(references, c, device)


__all__ = ["CALIBRATIONS", "FlatGradients", "ProjectionCalibrator", "SignCalibrator", "calibrator_class",
           "check_strength", "flatten", "gradient_vector", "make_calibrator", "pcgrad", "set_gradient_vector"]
