"""WideResNet-d-k (Zagoruyko & Komodakis 2016, "Wide Residual Networks") for 32×32 inputs: chapter 3's digits
network, WideResNet-10-2 with dropout 0.4 (ch3 Sec. A.2), and the parameter counts of chapter 3's two trunks.

* A 3×3 stem conv 3→16, then three groups of n = (d − 4)/6 pre-activation basic blocks with 16k, 32k and 64k
  channels (strides 1, 2, 2), a final BN-ReLU and global average pooling; convs have no bias.
* A block is BN-ReLU-conv3×3, BN-ReLU-dropout-conv3×3 (dropout between the two convs, ch3 A.2: ratio 0.4). When
  the shape changes, a 1×1 conv shortcut is applied to the *pre-activated* input (BN-ReLU of x), as in the
  authors' and the widely used xternalz/WideResNet-pytorch code; otherwise the shortcut is the identity on x.
* Initialisation as that code: convs He-normal (fan_out, ReLU), BN Γ = 1, β = 0.
* ``norm="batch"`` with ``domains`` > 1 gives each dataset its own BN statistics and shared Γ, β (ch3 A.2; see
  :mod:`paperlib.models.norm`).

:func:`ch3_parameter_counts` counts the built ResNet-20 (BN, ReLU) and WRN-10-2 trunks beside the analytic numbers
of the chapter 3 spec (:data:`SPEC_PARAMETER_COUNTS`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .norm import DomainBatchNorm2d, make_norm
from .resnet_cifar import ResNetTrunk, count_parameters

GROUP_WIDTHS = (16, 32, 64)  # × widen
GROUP_STRIDES = (1, 2, 2)

#: Analytic parameter counts, derived in the ch3 spec, Sec. 6 (standard designs: ResNet-20 with option-A
#: shortcuts; WRN-10-2 with 1×1 conv shortcuts of 512 + 2,048 + 8,192 weights). BN affine = Γ and β.
SPEC_PARAMETER_COUNTS = {
    "ResNet-20": dict(conv_weights=267_696, shortcut_weights=(), bn_layers=19, bn_channels=688, bn_affine=1_376,
                      trunk=269_072, with_one_head=269_722),
    "WRN-10-2": dict(conv_weights=301_488, shortcut_weights=(512, 2_048, 8_192), bn_layers=7, bn_channels=464,
                     bn_affine=928, trunk=302_416, with_one_head=303_706),
}


class WideBasicBlock(nn.Module):
    """Pre-activation block: BN-ReLU-conv3×3(stride), BN-ReLU-dropout-conv3×3, plus the shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int, dropout: float, *, norm: str = "batch", domains: int = 1):
        super().__init__()
        self.norm1 = make_norm(norm, c_in, domains)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.norm2 = make_norm(norm, c_out, domains)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.act = nn.ReLU()
        self.equal_in_out = c_in == c_out and stride == 1
        self.shortcut = None if self.equal_in_out else nn.Conv2d(c_in, c_out, 1, stride, 0, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        pre = self.act(self.norm1(x))
        out = self.conv2(self.dropout(self.act(self.norm2(self.conv1(pre)))))
        return out + (x if self.shortcut is None else self.shortcut(pre))


class WideResNetTrunk(nn.Module):
    """WRN-``depth``-``widen`` trunk: images (N, 3, H, W) → features (N, 64·widen), ``out_features``.

    ``depth`` = 6n + 4 (n blocks per group; 10 → n = 1), ``widen`` a whole number ≥ 1, ``dropout`` in [0, 1);
    ``norm``, ``domains`` as :func:`paperlib.models.norm.make_norm`."""

    def __init__(self, depth: int = 10, widen: int = 2, dropout: float = 0.4, *, norm: str = "batch",
                 domains: int = 1):
        super().__init__()
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
            raise ValueError(f"depth={depth!r} is not a WideResNet depth; allowed: 6n + 4, n ≥ 1 (10, 16, 22, 28, …)")
        if isinstance(widen, bool) or not isinstance(widen, int) or widen < 1:
            raise ValueError(f"widen={widen!r} is out of range; allowed: a whole number ≥ 1")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"dropout={dropout!r} is out of range; allowed: [0, 1)")
        self.depth, self.widen, self.dropout = depth, widen, float(dropout)
        self.norm_kind, self.domains = norm, domains
        n = (depth - 4) // 6
        self.stem = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        groups, c_in = [], 16
        for c, stride in zip((w * widen for w in GROUP_WIDTHS), GROUP_STRIDES):
            blocks = []
            for i in range(n):
                blocks.append(WideBasicBlock(c_in, c, stride if i == 0 else 1, self.dropout, norm=norm,
                                             domains=domains))
                c_in = c
            groups.append(nn.Sequential(*blocks))
        self.groups = nn.Sequential(*groups)
        self.norm = make_norm(norm, c_in, domains)
        self.act = nn.ReLU()
        self.out_features = c_in
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.groups(self.stem(x)))).mean((2, 3))


_NORM_TYPES = (nn.BatchNorm2d, DomainBatchNorm2d, nn.GroupNorm)


def _count(name: str, trunk: nn.Module, n_classes: int = 10) -> dict:
    convs = [m for m in trunk.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in trunk.modules() if isinstance(m, _NORM_TYPES)]
    head = nn.Linear(trunk.out_features, n_classes)
    row = dict(model=name, conv_weights=sum(m.weight.numel() for m in convs),
               shortcut_weights=tuple(m.weight.numel() for m in convs if m.kernel_size == (1, 1)),
               bn_layers=len(norms), bn_channels=sum(m.weight.numel() for m in norms),
               bn_affine=sum(p.numel() for m in norms for p in m.parameters()),
               trunk=count_parameters(trunk), with_one_head=count_parameters(trunk) + count_parameters(head))
    row.update({f"spec_{k}": v for k, v in SPEC_PARAMETER_COUNTS[name].items()})
    return row


def ch3_parameter_counts() -> list[dict]:
    """Parameters of chapter 3's trunks, counted from the built modules, beside the spec's analytic numbers.

    Rows: ResNet-20 (BatchNorm, ReLU, width 1; ch3 A.1) and WRN-10-2 (ch3 A.2), each with ``conv_weights``,
    ``shortcut_weights`` (the 1×1 convs), ``bn_layers``, ``bn_channels``, ``bn_affine`` (Γ and β), ``trunk``,
    ``with_one_head`` (trunk + one 10-class linear head) and ``spec_*`` from :data:`SPEC_PARAMETER_COUNTS`.
    The global RNG is left untouched."""
    with torch.random.fork_rng(devices=[]):
        return [_count("ResNet-20", ResNetTrunk(20, 1.0, norm="batch", act="relu")),
                _count("WRN-10-2", WideResNetTrunk(10, 2))]


__all__ = ["GROUP_WIDTHS", "SPEC_PARAMETER_COUNTS", "WideBasicBlock", "WideResNetTrunk", "ch3_parameter_counts"]
