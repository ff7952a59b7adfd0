"""Factorized Tensor Networks (ch2 Sec. 3): low-rank CP updates of a frozen pretrained network, with task
BatchNorm, for convolutions and for attention; LoRA on Q and V as the baseline of the same family.

**Convolutions (ch2 Sec. 3.1).** A conv weight W_l of a frozen pretrained trunk, read as a k² × C_in × C_out tensor,
gets a per-task update that is a sum of R rank-1 tensors (ch2 Eq. (2)),

    ΔW_{l,t} = Σ_r w_{1,t}^r ⊗ w_{2,t}^r ⊗ w_{3,t}^r,

and the layer computes Z_{l,t} = BN_{Γ_t, β_t}(conv(W_l + ΔW_{l,t}, Y_{l−1,t})) (ch2 Eq. (4)) with a BatchNorm of
the task's own (ch2 Eq. (3)). The paper writes ⊗ for "the Kronecker product"; for three vectors the 3-way outer
product is meant (a CP / PARAFAC decomposition; the Kronecker product of the vectors is its vectorisation).
:class:`CPDelta` holds the factors as matrices (dim, R), one per mode. :class:`FTN` wraps an existing trunk (a
torchvision ResNet, the book's CIFAR ResNets, anything with ``nn.Conv2d`` and ``nn.BatchNorm2d`` layers) without
copying its code: every ``nn.Conv2d`` becomes an :class:`FTNConv2d` (the frozen conv plus one :class:`CPDelta`
per task) and every ``nn.BatchNorm2d`` a :class:`TaskBatchNorm2d` (one copy of the pretrained BN per task: Γ, β and
running statistics). Each task has its own linear head h_t (ch2 Eq. (1)).

Readings where the paper is silent or ambiguous (spec ``ch2-ftn.md`` Sec. 5):

* *Which convs.* "Every convolutional layer", but the per-task counts printed twice (16,291 for ResNet-34, 49,204
  for ResNet-50) come out exactly only without the stem conv and with the 1×1 downsample convs; so the stem (the
  trunk's first conv) is not adapted unless ``adapt_stem=True`` (:mod:`paperlib.ftn_counts` prints both counts).
* *Initialisation.* "Xavier uniform" (Sec. 3.1) on each (dim, R) factor matrix (``init="xavier"``). ΔW is then not
  ≈ 0 (3–30 % of a He-initialised W's scale), so ``init="zero"`` zeroes the C_out factor (an exact pretrained start;
  the other factors still get gradients through it). The attention adapters draw every factor from N(0, 0.05²)
  (Sec. 3.2, ``init="normal"``).
* *Scale.* α/R multiplies ΔW for attention (Sec. 3.2: α = 10 for Q&V, 100 for O); no scaling is stated for convs, so
  the conv scale is 1.
* *BN.* Each task owns a full BN copy (Γ, β trainable, running statistics its own, initialised from the pretrained
  BN); the feature extractor baseline keeps the pretrained BN in eval mode (``bn=False``).

**Attention (ch2 Sec. 3.2, ch2 Eqs. (5)–(6)).** On ``nn.MultiheadAttention`` (open_clip's ViTs) the fused
``in_proj_weight`` (3·d_model, d_model) holds W^Q, W^K, W^V as row blocks, output row h·d + j of a block belonging to
head h. FTN (Q&V) views W^Q and W^V each as a d_model × d × n tensor and adds a rank-R CP update to each; FTN (O)
does the same for W_o, whose head axis is on its input (concatenated heads) side. LoRA (Hu et al.) adds
(α/r)·B·A to W^Q and W^V (B zero, A Kaiming-uniform at the start). All three are
``torch.nn.utils.parametrize`` parametrizations of the existing weights (a hook on ``out_proj`` would be bypassed:
the MHA calls ``F.linear(out_proj.weight, …)`` itself), so the model's code is untouched.
"""

from __future__ import annotations

import copy
import math
import string
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize

#: Factor initialisations: the conv paper's Xavier uniform, Xavier with a zero output factor, N(0, σ²) (attention),
#: and LoRA's (output factor zero, input factor Kaiming uniform).
INITS = ("xavier", "zero", "normal", "lora")
#: Attention adapters: FTN on query and value, FTN on the output projection, LoRA on query and value.
ATTENTION_VARIANTS = ("ftn_qv", "ftn_o", "lora_qv")
#: ch2 Sec. 3.2's α per FTN variant (LoRA uses the same α as FTN (Q&V) here: the paper states none for it).
PAPER_ALPHA = {"ftn_qv": 10.0, "ftn_o": 100.0, "lora_qv": 10.0}
#: ch2 Sec. 3.2: "we initialize each low-rank factor by sampling from a Gaussian distribution with μ = 0 and σ = 0.05".
PAPER_FACTOR_STD = 0.05


def check_rank(rank: object, name: str = "rank") -> int:
    """A whole number ≥ 0 (0: no low-rank update, only the task BN and head)."""
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 0:
        raise ValueError(f"{name}={rank!r} is not allowed; allowed: a whole number ≥ 0")
    return rank


def check_alpha(alpha: object) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha={alpha!r} is not allowed; allowed: a finite number > 0")
    return float(alpha)


def check_init(init: str) -> str:
    if init not in INITS:
        raise ValueError(f"init={init!r} is unknown; allowed: {INITS}")
    return init


class CPDelta(nn.Module):
    """A rank-R CP tensor of shape ``dims`` (ch2 Eq. (2)): ``scale · Σ_r f_0[:, r] ⊗ f_1[:, r] ⊗ …``.

    ``factors[m]`` is a (dims[m], R) matrix. With two modes this is exactly LoRA's ``B @ A`` (B = f_0, A = f_1ᵀ).
    ``init``: ``"xavier"`` (each factor ``xavier_uniform_``, ch2 Sec. 3.1), ``"zero"`` (the same with f_0 = 0),
    ``"normal"`` (each factor N(0, std²), ch2 Sec. 3.2), ``"lora"`` (f_0 = 0, the others Kaiming uniform with
    a = √5, as LoRA's A). ``generator`` makes the draw reproducible.
    """

    def __init__(self, dims: Sequence[int], rank: int, *, init: str = "xavier", scale: float = 1.0,
                 std: float = PAPER_FACTOR_STD, generator: torch.Generator | None = None):
        super().__init__()
        self.dims, self.rank, self.scale = tuple(int(d) for d in dims), check_rank(rank), float(scale)
        if len(self.dims) < 2 or any(d < 1 for d in self.dims):
            raise ValueError(f"dims={list(dims)}: a CP tensor needs two or more modes of size ≥ 1")
        if len(self.dims) > 20:
            raise ValueError(f"dims={list(dims)}: at most 20 modes")
        self.init = check_init(init)
        self.factors = nn.ParameterList(nn.Parameter(torch.empty(d, self.rank)) for d in self.dims)
        with torch.no_grad():
            for m, f in enumerate(self.factors):
                if self.rank == 0:
                    continue
                if init == "normal":
                    f.normal_(0.0, std, generator=generator)
                elif init == "lora":
                    if m == 0:
                        f.zero_()
                    else:  # LoRA's A is (r, d_in) with kaiming_uniform_(a=√5): bound 1/√d_in
                        bound = 1.0 / math.sqrt(self.dims[m])
                        f.uniform_(-bound, bound, generator=generator)
                else:
                    nn.init.xavier_uniform_(f, generator=generator)
                    if init == "zero" and m == 0:
                        f.zero_()
        letters = string.ascii_lowercase[:len(self.dims)]
        self._equation = ",".join(f"{c}z" for c in letters) + "->" + letters

    def forward(self) -> Tensor:
        """ΔW of shape ``dims``."""
        return self.scale * torch.einsum(self._equation, *self.factors)

    def num_parameters(self) -> int:
        """R · Σ dims (ch2 Sec. 3.1: R(C_out + C_in + k²) for a conv)."""
        return self.rank * sum(self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}, rank={self.rank}, init={self.init!r}, scale={self.scale:g}"


# --- Convolutions -------------------------------------------------------------------------------------------------

def conv_dims(conv: nn.Conv2d) -> tuple[int, int, int]:
    """(C_out, C_in, k²) of a conv, the modes of its CP update (ch2 Sec. 3.1; C_in per group)."""
    c_out, c_in, kh, kw = conv.weight.shape
    return c_out, c_in, kh * kw


class FTNConv2d(nn.Module):
    """conv(W_l + ΔW_{l,t}, ·) of ch2 Eq. (4): a frozen ``nn.Conv2d`` plus the active task's :class:`CPDelta`.

    ``task`` selects the update (``None``: the pretrained conv); a rank-0 task uses W_l unchanged. The frozen conv
    keeps its stride, padding, dilation, groups and bias.
    """

    def __init__(self, conv: nn.Conv2d, adapt: bool = True):
        super().__init__()
        self.conv, self.adapt = conv, adapt
        for p in conv.parameters():
            p.requires_grad_(False)
        self.deltas = nn.ModuleList()
        self.task: int | None = None

    def add_task(self, rank: int, init: str, generator: torch.Generator | None) -> None:
        self.deltas.append(CPDelta(conv_dims(self.conv), rank if self.adapt else 0, init=init, generator=generator))

    def weight(self, task: int | None = None) -> Tensor:
        """W_l + ΔW_{l,task} (W_l itself for ``None`` or a rank-0 task)."""
        task = self.task if task is None else task
        w = self.conv.weight
        if task is None or self.deltas[task].rank == 0:
            return w
        return w + self.deltas[task]().view_as(w)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv._conv_forward(x, self.weight(), self.conv.bias)


class TaskBatchNorm2d(nn.Module):
    """BN_{Γ_t, β_t} of ch2 Eqs. (3)–(4): one copy of the pretrained ``nn.BatchNorm2d`` per task (Γ, β and running
    statistics), selected by ``task``. A task added with ``bn=False`` (the feature extractor) uses the pretrained BN
    frozen in eval mode; ``task=None`` is the pretrained network."""

    def __init__(self, bn: nn.BatchNorm2d):
        super().__init__()
        self.pretrained = bn
        for p in bn.parameters():
            p.requires_grad_(False)
        self.tasks = nn.ModuleList()
        self.own: list[bool] = []
        self.task: int | None = None

    def add_task(self, bn: bool) -> None:
        copy_ = copy.deepcopy(self.pretrained)
        for p in copy_.parameters():
            p.requires_grad_(bn)
        self.tasks.append(copy_)
        self.own.append(bn)

    def forward(self, x: Tensor) -> Tensor:
        t = self.task
        if t is None or not self.own[t]:
            layer = self.tasks[t] if t is not None else self.pretrained
            return F.batch_norm(x, layer.running_mean, layer.running_var, layer.weight, layer.bias, False, 0.0,
                                layer.eps)
        return self.tasks[t](x)

    def train(self, mode: bool = True):
        super().train(mode)
        self.pretrained.eval()
        return self


class FTN(nn.Module):
    """A shared frozen trunk adapted per task by FTN (ch2 Sec. 3.1): W_shared + ΔW_t, BN_t and a head h_t.

    ``trunk`` maps images to (N, ``feature_dim``) features; it is wrapped in place (pass a copy to keep the
    original). :meth:`add_task` adds a task of any rank (0 = "FC and BN only", ch2 Fig. 2's R = 0; ``bn=False`` and
    rank 0 = the feature extractor); ``forward(x, task)`` runs that task's network. Tasks never share a trainable
    tensor, and the shared weights are frozen, so training one task cannot change another's outputs (ch2 Sec. 1's
    "without catastrophic forgetting", claim C13 of the chapter).
    """

    def __init__(self, trunk: nn.Module, feature_dim: int, *, adapt_stem: bool = False):
        super().__init__()
        convs = [(n, m) for n, m in trunk.named_modules() if isinstance(m, nn.Conv2d)]
        if not convs:
            raise ValueError(f"{type(trunk).__name__} has no nn.Conv2d layer to adapt; FTN for convolutions needs a "
                             "convolutional backbone (use adapt_attention for a ViT)")
        self.adapt_stem, self.feature_dim = adapt_stem, int(feature_dim)
        stem = convs[0][0]
        for name, m in list(trunk.named_modules()):
            for child_name, child in list(m.named_children()):
                full = f"{name}.{child_name}" if name else child_name
                if isinstance(child, nn.Conv2d):
                    setattr(m, child_name, FTNConv2d(child, adapt=adapt_stem or full != stem))
                elif isinstance(child, nn.BatchNorm2d):
                    setattr(m, child_name, TaskBatchNorm2d(child))
        for p in trunk.parameters():
            p.requires_grad_(False)
        self.trunk = trunk
        self.heads = nn.ModuleList()
        self.ranks: list[int] = []
        self.bn: list[bool] = []
        self._task_modules = [m for m in trunk.modules() if isinstance(m, (FTNConv2d, TaskBatchNorm2d))]

    @property
    def n_tasks(self) -> int:
        return len(self.heads)

    def convs(self) -> Iterator[tuple[str, FTNConv2d]]:
        for n, m in self.trunk.named_modules():
            if isinstance(m, FTNConv2d):
                yield n, m

    def add_task(self, n_classes: int, rank: int, *, bn: bool = True, init: str = "xavier",
                 generator: torch.Generator | None = None) -> int:
        """Add task t (returned): rank-``rank`` factors in every adapted conv, a BN copy (trainable when ``bn``), a
        linear head (PyTorch's default init, drawn from ``generator`` when given)."""
        check_rank(rank)
        check_init(init)
        if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
            raise ValueError(f"n_classes={n_classes!r}: a classification task needs 2 or more classes")
        for m in self._task_modules:
            if isinstance(m, FTNConv2d):
                m.add_task(rank, init, generator)
            else:
                m.add_task(bn)
        head = nn.Linear(self.feature_dim, n_classes)
        if generator is not None:
            with torch.no_grad():
                bound = 1.0 / math.sqrt(self.feature_dim)
                head.weight.uniform_(-bound, bound, generator=generator)
                head.bias.uniform_(-bound, bound, generator=generator)
        self.heads.append(head.to(next(self.trunk.parameters()).device))
        self.ranks.append(rank)
        self.bn.append(bn)
        return self.n_tasks - 1

    def select(self, task: int | None) -> None:
        """Make every wrapped layer use task ``task`` (``None``: the pretrained trunk)."""
        if task is not None and not 0 <= task < self.n_tasks:
            raise ValueError(f"task={task!r} does not exist; this network has tasks 0..{self.n_tasks - 1}")
        for m in self._task_modules:
            m.task = task

    def forward(self, x: Tensor, task: int) -> Tensor:
        self.select(task)
        return self.heads[task](self.trunk(x))

    def features(self, x: Tensor, task: int | None) -> Tensor:
        self.select(task)
        return self.trunk(x)

    def task_named_parameters(self, task: int) -> dict[str, nn.Parameter]:
        """The trainable tensors of ``task``: its factors, its BN Γ and β (when it owns BN), its head."""
        mark = f".{task}."
        out = {n: p for n, p in self.named_parameters()
               if (f"deltas{mark}" in n or f"tasks{mark}" in n or n.startswith(f"heads.{task}."))}
        return {n: p for n, p in out.items() if p.requires_grad}

    def task_parameters(self, task: int) -> list[nn.Parameter]:
        return list(self.task_named_parameters(task).values())

    def task_state(self, task: int) -> dict[str, Tensor]:
        """Everything task ``task`` owns (factors, its BN's parameters and statistics, head), detached copies."""
        mark = f".{task}."
        return {n: v.detach().clone() for n, v in self.state_dict().items()
                if f"deltas{mark}" in n or f"tasks{mark}" in n or n.startswith(f"heads.{task}.")}

    def load_task_state(self, task: int, state: dict[str, Tensor], source_task: int | None = None) -> None:
        """Load a :meth:`task_state` (saved as task ``source_task``, default ``task``) into task ``task``."""
        src = task if source_task is None else source_task
        mine = self.state_dict()
        renamed = {}
        for n, v in state.items():
            new = (n.replace(f"deltas.{src}.", f"deltas.{task}.").replace(f"tasks.{src}.", f"tasks.{task}.")
                   .replace(f"heads.{src}.", f"heads.{task}.", 1))
            if new not in mine or mine[new].shape != v.shape:
                raise ValueError(f"task state tensor {n!r} {tuple(v.shape)} does not fit task {task} of this network "
                                 f"(a different backbone, rank or number of classes?)")
            renamed[new] = v
        expected = set(self.task_state(task))
        if set(renamed) != expected:
            missing = sorted(expected - set(renamed))[:3]
            raise ValueError(f"task state misses {len(expected - set(renamed))} tensor(s) of task {task}, "
                             f"e.g. {missing}")
        with torch.no_grad():
            for n, v in renamed.items():
                mine[n].copy_(v)

    def delta_norms(self, task: int) -> list[dict]:
        """Per adapted conv: ‖ΔW_{l,t}‖ / ‖W_l‖ (the supplement's per-layer heatmap, ch2 Sec. 4.1.1)."""
        rows = []
        with torch.no_grad():
            for n, m in self.convs():
                if m.deltas[task].rank:
                    w = m.conv.weight
                    rows.append({"layer": n, "relative_norm": float((m.weight(task) - w).norm() / w.norm())})
        return rows


def trainable_count(params: Sequence[Tensor] | dict[str, Tensor]) -> int:
    values = params.values() if isinstance(params, dict) else params
    return sum(p.numel() for p in values)


# --- Attention ----------------------------------------------------------------------------------------------------

class AttentionDelta(nn.Module):
    """A ``parametrize`` parametrization W ↦ W + ΔW for one attention weight (ch2 Sec. 3.2).

    ``target="in_proj"``: W is the fused (3·d_model, d_model) ``in_proj_weight``; ΔW_q goes to the query rows, ΔW_v
    to the value rows, the key rows are untouched. ``target="out_proj"``: W is W_o's (d_model, d_model) weight.
    ``variant``: ``"ftn_qv"`` (each of ΔW_q, ΔW_v a CP tensor over (n, d, d_model), reshaped head-major to
    (n·d, d_model)), ``"ftn_o"`` (a CP tensor over (d_model, n, d), reshaped to (d_model, n·d): the head axis on W_o's
    input side), ``"lora_qv"`` (ΔW = B·A per matrix, a 2-mode :class:`CPDelta`). ΔW is scaled by α/R.
    """

    def __init__(self, variant: str, d_model: int, n_heads: int, rank: int, alpha: float, *, init: str | None = None,
                 std: float = PAPER_FACTOR_STD, generator: torch.Generator | None = None):
        super().__init__()
        if variant not in ATTENTION_VARIANTS:
            raise ValueError(f"variant={variant!r} is unknown; allowed: {ATTENTION_VARIANTS}")
        if rank < 1:
            raise ValueError(f"rank={rank!r}: an attention adapter needs rank ≥ 1")
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
        self.variant, self.d_model, self.n_heads = variant, d_model, n_heads
        d = d_model // n_heads
        scale = check_alpha(alpha) / check_rank(rank)
        init = init or ("lora" if variant == "lora_qv" else "normal")
        dims = {"ftn_qv": (n_heads, d, d_model), "ftn_o": (d_model, n_heads, d), "lora_qv": (d_model, d_model)}[variant]
        kw = dict(init=init, scale=scale, std=std, generator=generator)
        names = ("o",) if variant == "ftn_o" else ("q", "v")
        self.deltas = nn.ModuleDict({k: CPDelta(dims, rank, **kw) for k in names})

    def delta(self, name: str) -> Tensor:
        """ΔW of matrix ``name`` ("q", "v" or "o") as the (out, in) matrix it is added to."""
        return self.deltas[name]().reshape(self.d_model, self.d_model)

    def forward(self, weight: Tensor) -> Tensor:
        if self.variant == "ftn_o":
            return weight + self.delta("o")
        d = self.d_model
        zeros = weight.new_zeros(d, d)
        return weight + torch.cat([self.delta("q"), zeros, self.delta("v")])

    def num_parameters(self) -> int:
        return sum(c.num_parameters() for c in self.deltas.values())


def attention_modules(model: nn.Module) -> list[nn.MultiheadAttention]:
    mods = [m for m in model.modules() if isinstance(m, nn.MultiheadAttention)]
    if not mods:
        raise ValueError(f"{type(model).__name__} has no nn.MultiheadAttention to adapt (an open_clip ViT has one "
                         "per residual block)")
    for m in mods:
        if not m._qkv_same_embed_dim or m.in_proj_weight is None:
            raise ValueError("attention adapters need the fused in_proj_weight of nn.MultiheadAttention")
    return mods


def adapt_attention(model: nn.Module, variant: str, rank: int, alpha: float | None = None, *,
                    init: str | None = None, std: float = PAPER_FACTOR_STD,
                    generator: torch.Generator | None = None) -> list[AttentionDelta]:
    """Freeze ``model`` and parametrize every ``nn.MultiheadAttention`` in it with an :class:`AttentionDelta`
    (``in_proj_weight`` for Q&V variants, ``out_proj.weight`` for FTN (O)). ``alpha`` defaults to ch2 Sec. 3.2's
    (:data:`PAPER_ALPHA`). Returns the adapters (their parameters are the only trainable ones added)."""
    if variant not in ATTENTION_VARIANTS:
        raise ValueError(f"variant={variant!r} is unknown; allowed: {ATTENTION_VARIANTS}")
    alpha = PAPER_ALPHA[variant] if alpha is None else check_alpha(alpha)
    check_rank(rank)
    mods = attention_modules(model)
    for p in model.parameters():
        p.requires_grad_(False)
    out = []
    for m in mods:
        delta = AttentionDelta(variant, m.embed_dim, m.num_heads, rank, alpha, init=init, std=std,
                               generator=generator).to(m.in_proj_weight.device)
        if variant == "ftn_o":
            parametrize.register_parametrization(m.out_proj, "weight", delta)
        else:
            parametrize.register_parametrization(m, "in_proj_weight", delta)
        out.append(delta)
    return out


def adapters_of(model: nn.Module) -> list[AttentionDelta]:
    """The :class:`AttentionDelta` parametrizations in ``model``, in module order."""
    return [m for m in model.modules() if isinstance(m, AttentionDelta)]


def as_lora(delta: CPDelta, out_modes: int) -> tuple[Tensor, Tensor]:
    """(B, A) with B·A equal to ``delta()`` reshaped to a matrix whose rows are its first ``out_modes`` modes:
    B = [vec(f_0[:, r] ⊗ … ⊗ f_{k−1}[:, r])]_r (Khatri–Rao columns), A = rows of the remaining modes likewise, both
    of rank R (spec Sec. 7: FTN (Q&V) at rank R lies inside LoRA (Q&V) at rank R)."""
    if not 0 < out_modes < len(delta.dims):
        raise ValueError(f"out_modes={out_modes!r}: between 1 and {len(delta.dims) - 1}")

    def khatri_rao(factors) -> Tensor:
        col = factors[0]
        for f in factors[1:]:
            col = (col[:, None, :] * f[None, :, :]).reshape(-1, delta.rank)
        return col

    b = khatri_rao(list(delta.factors)[:out_modes]) * delta.scale
    a = khatri_rao(list(delta.factors)[out_modes:]).T
    return b, a


__all__ = ["ATTENTION_VARIANTS", "AttentionDelta", "CPDelta", "FTN", "FTNConv2d", "INITS", "PAPER_ALPHA",
           "PAPER_FACTOR_STD", "TaskBatchNorm2d", "adapt_attention", "adapters_of", "as_lora", "attention_modules",
           "check_alpha", "check_init", "check_rank", "conv_dims", "trainable_count"]
