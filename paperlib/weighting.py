"""Multi-domain loss weighting (ch4 Sec. 3.2): Uniform, Uncertainty and CoV.

The multi-domain objective is Σ_t λ_t L_t(θ_share, θ_t) (ch4 Eq. (1)); the schemes differ in λ_t:

* :class:`Uniform`: λ_t = 1.
* :class:`Uncertainty` (Kendall et al. 2018, the paper's [21]): λ_t = 1/ε_t² with learnable ε_t, plus
  the regularizer Σ_t log(1 + ε_t²) (the paper's choice, after [29], to avoid the trivial solution
  ε → ∞). *Reading:* ε_t starts at 1 (λ_t = 1, Uniform's weights), the paper gives no initial value.
* :class:`CoV` (Groenendijk et al. 2021, the paper's [15]) with full-history statistics: losses are
  detached; L0 is the first loss, then the running mean of the losses; l = L / L0; the first two
  iterations use uniform weights, later ones α_t ∝ std(l_t) / mean(l_t) from the statistics *before*
  this step's update (Welford's running mean and population variance); the α_t (which sum to 1) are
  multiplied by T, as the paper says, and applied to the raw losses.

Every scheme is an ``nn.Module`` taking the vector of the T task losses and returning the total
loss; :meth:`LossWeighting.weights` gives the λ_t used last. Uncertainty's ε are parameters (give
them to the optimizer); CoV's statistics are buffers, so ``state_dict`` checkpoints and resumes them.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .config import check_choice, check_int_range

WEIGHTINGS = ("uniform", "uncertainty", "cov")


class LossWeighting(nn.Module):
    """Common interface: ``forward(losses)`` → the total loss Σ_t λ_t L_t of ch4 Eq. (1); ``weights()`` → the
    λ_t used last."""

    def __init__(self, n_tasks: int):
        super().__init__()
        self.n_tasks = check_int_range(n_tasks, "number of tasks", 1)
        self.register_buffer("last_weights", torch.ones(n_tasks))

    def _check(self, losses: Tensor) -> Tensor:
        if losses.shape != (self.n_tasks,):
            raise ValueError(f"expected a vector of {self.n_tasks} task losses; got shape {tuple(losses.shape)}")
        return losses

    def weights(self) -> Tensor:
        return self.last_weights.clone()


class Uniform(LossWeighting):
    """λ_t = 1 (ch4 Sec. 3.2)."""

    def forward(self, losses: Tensor) -> Tensor:
        return self._check(losses).sum()


class Uncertainty(LossWeighting):
    """λ_t = 1/ε_t², loss Σ_t L_t/ε_t² + Σ_t log(1 + ε_t²) (ch4 Sec. 3.2); ε_t learnable, starting at 1."""

    def __init__(self, n_tasks: int, init: float = 1.0):
        super().__init__(n_tasks)
        if not init > 0:
            raise ValueError(f"initial ε={init!r} is out of range; allowed: > 0")
        self.epsilon = nn.Parameter(torch.full((n_tasks,), float(init)))

    def forward(self, losses: Tensor) -> Tensor:
        sq = self.epsilon ** 2
        lam = 1.0 / sq
        self.last_weights.copy_(lam.detach())
        return (lam * self._check(losses)).sum() + torch.log1p(sq).sum()


class CoV(LossWeighting):
    """Coefficient-of-variation weighting with full-history statistics (module docstring)."""

    def __init__(self, n_tasks: int, eps: float = 1e-8):
        super().__init__(n_tasks)
        self.eps = eps
        self.register_buffer("iteration", torch.zeros((), dtype=torch.long))
        self.register_buffer("mean_loss", torch.zeros(n_tasks))     # running mean of L (the L0 after step 0)
        self.register_buffer("mean_ratio", torch.zeros(n_tasks))    # running mean of l = L / L0
        self.register_buffer("m2_ratio", torch.zeros(n_tasks))      # Welford's sum of squared deviations of l
        self.register_buffer("std_ratio", torch.zeros(n_tasks))

    def forward(self, losses: Tensor) -> Tensor:
        L = self._check(losses).detach()
        i = int(self.iteration)
        l = L / (L if i == 0 else self.mean_loss)  # noqa: E741 - the paper's ℓ (loss ratio)
        if i <= 1:
            alpha = torch.full_like(L, 1.0 / self.n_tasks)
        else:
            ratio = self.std_ratio / self.mean_ratio
            alpha = ratio / ratio.sum()
        weights = alpha * self.n_tasks
        self.last_weights.copy_(weights)
        if self.training:  # update the statistics after choosing this step's weights
            keep = 0.0 if i == 0 else 1.0 - 1.0 / (i + 1)
            new_mean = keep * self.mean_ratio + (1 - keep) * l
            self.m2_ratio += (l - self.mean_ratio) * (l - new_mean)
            self.mean_ratio.copy_(new_mean)
            self.std_ratio.copy_(torch.sqrt(self.m2_ratio / (i + 1) + self.eps))
            self.mean_loss.copy_(keep * self.mean_loss + (1 - keep) * L)
            self.iteration += 1
        return (weights * losses).sum()


def make_weighting(name: str, n_tasks: int) -> LossWeighting:
    """``"uniform"``, ``"uncertainty"`` or ``"cov"`` for ``n_tasks`` losses; ``ValueError`` otherwise."""
    check_choice(name, WEIGHTINGS, "loss weighting")
    return {"uniform": Uniform, "uncertainty": Uncertainty, "cov": CoV}[name](n_tasks)


__all__ = ["CoV", "LossWeighting", "Uncertainty", "Uniform", "WEIGHTINGS", "make_weighting"]
