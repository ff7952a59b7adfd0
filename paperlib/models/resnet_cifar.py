"""CIFAR-style ResNets with a width multiplier, GroupNorm and Mish, and hard parameter sharing
(ch4 Sec. 3.1, ch4 Eq. (1); supplement S1); with ``norm="batch", act="relu"`` the BatchNorm + ReLU ResNet-20 of
chapter 3 (ch3 Sec. A.1).

* The trunk is He et al.'s CIFAR ResNet-(6n+2): a 3×3 stem, then three stages of n basic blocks with
  16w, 32w and 64w channels (strides 1, 2, 2), global average pooling. ResNet-20 has n = 3,
  ResNet-32 n = 5. The width multiplier w scales every trunk layer, not the heads (Sec. 3.3).
* Downsampling shortcuts are parameter-free (option A of He et al.: stride-2 subsampling and zero
  channels), the CIFAR ResNets' choice; with it ResNet-32's parameter counts at w = 0.25, 0.5, 1, 2
  come out close to the paper's 29K, 116K, 463K and 1848K (:func:`parameter_table` prints both).
* Normalization and activation, chapter 4 (S1, the defaults ``norm="group", act="mish"``): GroupNorm with
  min(32, C/k) groups, k = 2, and Mish; a width whose channel counts are not whole numbers or not divisible into
  those groups is rejected.
* Chapter 3 uses ResNet-20 with ``norm="batch", act="relu"`` (ch3 A.1: BatchNorm in all experiments, ReLU as in
  He et al.); its CIFAR protocol shares the BN statistics between source and target (plain ``nn.BatchNorm2d``),
  while its digits protocol uses dataset-specific statistics (ch3 A.2): ``domains=2`` builds
  :class:`~paperlib.models.norm.DomainBatchNorm2d` layers, selected with
  :func:`~paperlib.models.norm.use_statistics`. With ``norm="batch"`` a width only needs whole channel counts.
  The defaults build chapter 4's networks unchanged (same modules, parameters and initialisation order).
* :class:`MultiDomainNet`: one trunk, one linear head per domain; a sample goes through its own
  domain's head only (ch4 Eq. (1)), so its loss never depends on the other heads.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .norm import GROUP_DIVISOR, NORMS, group_norm, make_norm

#: The paper's widths (Sec. 3.3) and its parameter counts for ResNet-32 at those widths.
WIDTHS = (0.25, 0.5, 1.0, 2.0)
PAPER_PARAMETERS = {0.25: 29_000, 0.5: 116_000, 1.0: 463_000, 2.0: 1_848_000}
DEPTHS = {20: 3, 32: 5}
ACTIVATIONS = ("mish", "relu")


def channels(width: float, norm: str = "group") -> tuple[int, int, int]:
    """Channels of the three stages, 16w, 32w and 64w; ``ValueError`` unless whole (and, for ``norm="group"``,
    GroupNorm-divisible)."""
    if norm not in NORMS:
        raise ValueError(f"norm={norm!r} is unknown; allowed: {NORMS}")
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not width > 0:
        raise ValueError(f"width={width!r} is out of range; allowed: a positive multiplier such as {WIDTHS}")
    out = tuple(16 * width * m for m in (1, 2, 4))
    if norm == "batch":
        if any(c != int(c) or c < 1 for c in out):
            raise ValueError(f"width={width!r} gives stage channels {out}; they must be whole numbers ≥ 1")
    elif any(c != int(c) or c < GROUP_DIVISOR or int(c) % GROUP_DIVISOR for c in out):
        raise ValueError(f"width={width!r} gives stage channels {out}; they must be whole numbers divisible by "
                         f"k = {GROUP_DIVISOR} for GroupNorm (the paper's widths: {WIDTHS})")
    return tuple(int(c) for c in out)


def activation(kind: str) -> nn.Module:
    """``"mish"`` (ch4 S1) or ``"relu"`` (ch3, He et al.)."""
    if kind not in ACTIVATIONS:
        raise ValueError(f"act={kind!r} is unknown; allowed: {ACTIVATIONS}")
    return nn.Mish() if kind == "mish" else nn.ReLU()


class BasicBlock(nn.Module):
    """conv-norm-act-conv-norm, plus the option-A shortcut, then act (post-activation, He et al.)."""

    def __init__(self, c_in: int, c_out: int, stride: int, *, norm: str = "group", act: str = "mish",
                 domains: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.norm1 = make_norm(norm, c_out, domains)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.norm2 = make_norm(norm, c_out, domains)
        self.act = activation(act)
        self.stride, self.pad = stride, c_out - c_in

    def shortcut(self, x: Tensor) -> Tensor:
        """Option A: subsample by the stride, zero-pad the new channels (no parameters)."""
        if self.stride > 1:
            x = x[:, :, ::self.stride, ::self.stride]
        if self.pad:
            x = F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return x

    def forward(self, x: Tensor) -> Tensor:
        out = self.act(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        return self.act(out + self.shortcut(x))


class ResNetTrunk(nn.Module):
    """ResNet-``depth`` (20 or 32) trunk at width ``width``: images (N, 3, H, W) → features (N, 64w).

    ``norm``: ``"group"`` (ch4) or ``"batch"`` (ch3); ``act``: ``"mish"`` (ch4) or ``"relu"`` (ch3); ``domains``:
    sets of BatchNorm statistics (ch3 A.2; > 1 only with ``norm="batch"``)."""

    def __init__(self, depth: int = 32, width: float = 1.0, *, norm: str = "group", act: str = "mish",
                 domains: int = 1):
        super().__init__()
        if depth not in DEPTHS:
            raise ValueError(f"depth={depth!r} is not a CIFAR ResNet here; allowed: {sorted(DEPTHS)}")
        c1, c2, c3 = channels(width, norm)
        activation(act)  # an unknown act fails before any layer is built
        self.depth, self.width, self.out_features = depth, width, c3
        self.norm_kind, self.act_kind, self.domains = norm, act, domains
        self.stem = nn.Sequential(nn.Conv2d(3, c1, 3, 1, 1, bias=False), make_norm(norm, c1, domains), activation(act))
        blocks, c_in = [], c1
        for c, stride in ((c1, 1), (c2, 2), (c3, 2)):
            for i in range(DEPTHS[depth]):
                blocks.append(BasicBlock(c_in, c, stride if i == 0 else 1, norm=norm, act=act, domains=domains))
                c_in = c
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: Tensor) -> Tensor:
        return self.blocks(self.stem(x)).mean((2, 3))


class MultiDomainNet(nn.Module):
    """Hard parameter sharing (ch4 Eq. (1)): a shared trunk and one linear head per domain.

    ``forward(x, domains)`` returns (N, max classes) logits where row i comes from the head of
    ``domains[i]`` (columns beyond that domain's classes are −inf); :meth:`domain_losses` gives the
    vector of per-domain mean cross-entropies that a loss weighting combines.

    ``norm``, ``act``, ``domains`` as :class:`ResNetTrunk`; ``domains`` counts BatchNorm statistics sets, which
    :func:`~paperlib.models.norm.use_statistics` selects; it is independent of the heads.
    """

    def __init__(self, n_classes: Sequence[int], depth: int = 32, width: float = 1.0, *, norm: str = "group",
                 act: str = "mish", domains: int = 1):
        super().__init__()
        if len(n_classes) < 1 or any(int(c) < 2 for c in n_classes):
            raise ValueError(f"n_classes={list(n_classes)}: give each domain's number of classes (≥ 2)")
        self.trunk = ResNetTrunk(depth, width, norm=norm, act=act, domains=domains)
        self.n_classes = [int(c) for c in n_classes]
        self.heads = nn.ModuleList(nn.Linear(self.trunk.out_features, c) for c in self.n_classes)

    def forward(self, x: Tensor, domains: Tensor) -> Tensor:
        features = self.trunk(x)
        out = features.new_full((len(x), max(self.n_classes)), float("-inf"))
        for t, head in enumerate(self.heads):
            idx = (domains == t).nonzero().flatten()
            if len(idx):
                out[idx, :self.n_classes[t]] = head(features[idx])
        return out

    def domain_losses(self, logits: Tensor, labels: Tensor, domains: Tensor) -> Tensor:
        """Per-domain mean cross-entropy L_t over the batch's samples of domain t (0 for a domain with
        no sample in the batch, which mixed batches allow)."""
        losses = []
        for t, c in enumerate(self.n_classes):
            idx = domains == t
            losses.append(F.cross_entropy(logits[idx, :c], labels[idx]) if idx.any() else logits.new_zeros(()))
        return torch.stack(losses)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def parameter_table(depth: int = 32, n_classes: int = 100) -> list[dict]:
    """Trunk parameters per paper width (and with one ``n_classes`` head) beside the paper's counts."""
    rows = []
    for w in WIDTHS:
        trunk = ResNetTrunk(depth, w)
        rows.append(dict(width=w, trunk=count_parameters(trunk),
                         with_one_head=count_parameters(trunk) + trunk.out_features * n_classes + n_classes,
                         paper=PAPER_PARAMETERS[w] if depth == 32 else None))
    return rows


__all__ = ["ACTIVATIONS", "DEPTHS", "GROUP_DIVISOR", "MultiDomainNet", "PAPER_PARAMETERS", "ResNetTrunk", "WIDTHS",
           "activation", "channels", "count_parameters", "group_norm", "parameter_table"]
