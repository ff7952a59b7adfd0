"""Normalization layers of the CIFAR trunks: chapter 4's GroupNorm and chapter 3's BatchNorm, with a BatchNorm
that keeps one set of statistics per dataset.

* ``make_norm("group", C)``: GroupNorm with min(32, C/k) groups, k = 2 (ch4 supplement S1).
* ``make_norm("batch", C)``: ordinary ``nn.BatchNorm2d``. In joint source + target training this is the
  *shared statistics* treatment of ch3 Sec. A.1: one forward over the concatenated batch normalises with the joint
  batch moments and keeps one set of running statistics.
* ``make_norm("batch", C, domains=D)`` with D > 1: :class:`DomainBatchNorm2d`, the *dataset-specific statistics*
  of ch3 Sec. A.2 ("the source and target datasets have different sets of batch statistics"). Our reading: each
  dataset has its own running mean/variance **and** its own batch moments (a forward sees one dataset's batch
  only), while the affine Γ, β stay **shared**. A.2 says only that the *statistics* differ, so we keep everything
  else shared; fully separate BN layers would be a different reading (they add one Γ, β per dataset).

Which statistics set a forward uses is the layer's ``domain`` attribute; :func:`use_statistics` sets it on every
such layer of a model, :func:`statistics_of` does so for a ``with`` block and restores the previous ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn

GROUP_DIVISOR = 2  # k of min(32, C/k) (ch4 S1)
NORMS = ("group", "batch")


def group_norm(c: int) -> nn.GroupNorm:
    """GroupNorm with min(32, C/k) groups, k = 2 (ch4 S1)."""
    return nn.GroupNorm(min(32, c // GROUP_DIVISOR), c)


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}={value!r} is out of range; allowed: a whole number ≥ 1")
    return value


class DomainBatchNorm2d(nn.Module):
    """``BatchNorm2d`` with ``n_domains`` sets of statistics and one shared affine Γ (``weight``), β (``bias``).

    Buffers ``running_mean``, ``running_var`` (n_domains, C) and ``num_batches_tracked`` (n_domains,). A forward
    uses set ``self.domain``: in train mode it normalises with the batch's own moments and updates that set's running
    statistics only; in eval mode it normalises with that set's running statistics (ch3 Sec. A.2).
    ``eps`` and ``momentum`` as ``nn.BatchNorm2d`` (``momentum=None``: cumulative average).
    """

    def __init__(self, num_features: int, n_domains: int = 2, eps: float = 1e-5, momentum: float | None = 0.1):
        super().__init__()
        self.num_features = _check_count("num_features", num_features)
        self.n_domains = _check_count("n_domains", n_domains)
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(n_domains, num_features))
        self.register_buffer("running_var", torch.ones(n_domains, num_features))
        self.register_buffer("num_batches_tracked", torch.zeros(n_domains, dtype=torch.long))
        self.domain = 0

    @property
    def domain(self) -> int:
        return self._domain

    @domain.setter
    def domain(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < self.n_domains:
            raise ValueError(f"domain={value!r} is out of range; allowed: 0..{self.n_domains - 1}")
        self._domain = value

    def reset_running_stats(self) -> None:
        self.running_mean.zero_()
        self.running_var.fill_(1)
        self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        nn.init.ones_(self.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise ValueError(f"expected a 4-D input (N, C, H, W), got {x.dim()}-D")
        d = self._domain
        factor = 0.0
        if self.training:
            self.num_batches_tracked[d] += 1  # integer indexing: an in-place update of the buffer's row
            factor = 1.0 / float(self.num_batches_tracked[d]) if self.momentum is None else self.momentum
        # running_mean[d] is a view of row d, so F.batch_norm's in-place update lands in the buffer
        return F.batch_norm(x, self.running_mean[d], self.running_var[d], self.weight, self.bias, self.training,
                            factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, n_domains={self.n_domains}, eps={self.eps}, momentum={self.momentum}, "
                f"domain={self._domain}")


def _domain_norms(model: nn.Module) -> list[DomainBatchNorm2d]:
    return [m for m in model.modules() if isinstance(m, DomainBatchNorm2d)]


def use_statistics(model: nn.Module, domain: int) -> None:
    """Make every :class:`DomainBatchNorm2d` of ``model`` use statistics set ``domain`` from now on.

    The allowed range is 0..D−1 with D the fewest sets any such layer has; a model without one has D = 1
    (``domain=0`` is then a no-op, so the same training code runs with shared statistics)."""
    norms = _domain_norms(model)
    n = min((m.n_domains for m in norms), default=1)
    if isinstance(domain, bool) or not isinstance(domain, int) or not 0 <= domain < n:
        raise ValueError(f"domain={domain!r} is out of range; allowed: 0..{n - 1} "
                         f"(the model has {n} set{'s' if n > 1 else ''} of BatchNorm statistics)")
    for m in norms:
        m.domain = domain


@contextmanager
def statistics_of(model: nn.Module, domain: int) -> Iterator[nn.Module]:
    """``with statistics_of(model, d):`` runs the block with statistics set ``d``, then restores each layer's
    previous set (also on an exception)."""
    previous = [(m, m.domain) for m in _domain_norms(model)]
    use_statistics(model, domain)
    try:
        yield model
    finally:
        for m, d in previous:
            m.domain = d


def make_norm(kind: str, channels: int, domains: int = 1) -> nn.Module:
    """The normalization layer of a trunk: ``"group"`` (ch4 S1; ``domains`` must be 1) or ``"batch"``
    (``nn.BatchNorm2d``, or :class:`DomainBatchNorm2d` with ``domains`` sets of statistics when ``domains`` > 1)."""
    if kind not in NORMS:
        raise ValueError(f"norm={kind!r} is unknown; allowed: {NORMS}")
    _check_count("domains", domains)
    if kind == "group":
        if domains != 1:
            raise ValueError(f"domains={domains!r} needs norm='batch'; GroupNorm keeps no statistics (domains=1)")
        return group_norm(channels)
    return nn.BatchNorm2d(channels) if domains == 1 else DomainBatchNorm2d(channels, domains)


__all__ = ["DomainBatchNorm2d", "GROUP_DIVISOR", "NORMS", "group_norm", "make_norm", "statistics_of",
           "use_statistics"]
