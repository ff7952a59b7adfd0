"""Smooth Transfer Learning (ch3, Takayama et al.): a source and a target dataset trained together with a
loss weight that moves from the source to the target along training time, its schedule searched.

The paper, in the order the code follows it:

* **Two heads on one backbone** (ch3 Sec. 2): g_θ shared, h^T and h^S per dataset; per-sample losses are
  the cross-entropies of ch3 Eqs. (1)–(2). :class:`TwoHeadNet`.
* **The mini-batch loss** (ch3 Eq. (3)): λ₀ times the target sub-batch's mean cross-entropy plus 1 − λ₀
  times the source sub-batch's; the sub-batches are equal (128 + 128, A.1/A.2). :func:`two_head_loss`.
* **The scheduler** (ch3 Eq. (4)): λ_ω(t) = σ((t − T/2 − t₀)/τ − α) with ω = {t₀, τ, α}, whose limits are
  pre-training-then-fine-tuning (τ → 0, ch3 Eq. (5): a step at T/2 + t₀) and multi-task learning with a fixed
  weight (τ → ∞, ch3 Eq. (6): the constant σ(−α)). :func:`schedule_weight`, :func:`step_limit`,
  :func:`constant_limit`, :class:`Schedule`.
* **Training** (ch3 Eq. (7), A.3): momentum-SGD steps t = 1..T on ch3 Eq. (3) at λ_ω(t), a cosine learning
  rate after a linear warm-up over 2.5 % of the run, early stopping on target validation accuracy.
  :func:`learning_rate`, :func:`train`.
* **The budgets** (A.1/A.2, derived in the spec): joint runs last as many source epochs as source
  pre-training plus fine-tuning on the whole target set, 200 + 200·45,000/50,000 = 380 (CIFAR) and
  160 + 160·65,931/60,000 ≈ 336 (digits); the target sizes N are the training pool times 10^(−k/2).
  :func:`joint_epochs`, :func:`n_grid`, :func:`nested_subsets`.

Readings where the paper is silent (the chapter repeats them):

* **ω is searched relative to T**: t₀/T, τ/T (log) and α; the ranges are the chapter's parameters
  (spec, ambiguity 1). :meth:`Schedule.weights` turns them into λ_ω(t) for t = 1..T.
* **BN statistics** (A.1 "shared", A.2 "dataset-specific"): ``shared`` is one forward over the
  concatenated target + source batch (one set of batch moments and running statistics);
  ``specific`` is one forward per dataset with its own batch moments and running statistics and shared
  Γ, β (:class:`paperlib.models.norm.DomainBatchNorm2d`); the target is evaluated with its own
  statistics. Single-dataset runs use ordinary BN.
* **Early stopping** (A.3: "saved at certain intervals"): target validation accuracy at
  ``eval_points`` evenly spaced steps (every 1 % on ``paper``) and at the end; the best checkpoint is
  tested once. Source pre-training has no target validation: it keeps its last weights.
* **Iterations**: an epoch is ⌈|D|/b⌉ steps of the dataset that defines it (the source for joint runs);
  the other dataset's iterator cycles, reshuffled each time it is exhausted (spec, ambiguity 5).
* **Inputs**: pixels mapped to [−1, 1] (the paper states no normalisation); augmentation (random crop
  with 4-pixel padding and horizontal flip) only where the protocol says so (CIFAR on ``paper``), never
  for digits.
* **Weight decay** on every parameter; warm-up from 0 to the peak learning rate.
"""

from __future__ import annotations

import copy
import math
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import expit
from torch import Tensor, nn

from .config import check_choice, check_int_range, check_lr, check_profile
from .models.norm import statistics_of
from .models.resnet_cifar import ResNetTrunk
from .models.wide_resnet import WideResNetTrunk

TARGET, SOURCE = 0, 1  # index of each dataset's BN statistics and head
METHODS = ("target", "source", "finetune", "joint")
BN_MODES = ("shared", "specific")
ARCHS = ("resnet20", "wrn")


# --- The scheduler (ch3 Eqs. (4)–(6)) -----------------------------------------------------------------

def schedule_weight(t, total: float, t0: float, tau: float, alpha: float):
    """λ_ω(t) of ch3 Eq. (4) for iteration(s) ``t`` of ``total`` = T, with ω = (t₀, τ, α).

    Computed as σ((t − T/2 − t₀)/τ − α) with ``scipy.special.expit``, which saturates to exactly 0 or
    1 instead of overflowing, so τ → 0 (a step) is safe down to τ = 1e-9 and below.
    """
    if not tau > 0:
        raise ValueError(f"tau={tau!r}: the gain τ of ch3 Eq. (4) must be > 0")
    t = np.asarray(t, dtype=np.float64)
    z = (t - total / 2 - t0) / tau - alpha  # −(exponent) of ch3 Eq. (4): (t − T/2 − t₀)/τ − α
    out = expit(z)                          # [1 + exp(−z)]^(−1)
    return float(out) if out.ndim == 0 else out


def step_limit(t, total: float, t0: float):
    """ch3 Eq. (5), the τ → 0 limit: 0 before T/2 + t₀, 1 after (pre-training-then-fine-tuning); ½ at the
    switch itself, where the limit of ch3 Eq. (4) depends on α."""
    t = np.asarray(t, dtype=np.float64)
    out = np.where(t < total / 2 + t0, 0.0, np.where(t > total / 2 + t0, 1.0, 0.5))
    return float(out) if out.ndim == 0 else out


def constant_limit(alpha: float) -> float:
    """ch3 Eq. (6), the τ → ∞ limit: the fixed weight (1 + e^α)^(−1) = σ(−α) (multi-task learning)."""
    return float(expit(-alpha))


@dataclass(frozen=True)
class Schedule:
    """The target loss weight λ of every step of a run.

    ``kind``: ``"smooth"`` is λ_ω(t) of ch3 Eq. (4) with ω given relative to T (``t0`` = t₀/T,
    ``tau`` = τ/T, ``alpha`` = α); ``"constant"`` is a fixed ``weight`` λ₀ (the Multi-task baseline,
    ch3 Eq. (3) with a constant); ``"target"`` and ``"source"`` are single-dataset training (λ ≡ 1 or 0, one
    sub-batch only).
    """

    kind: str = "smooth"
    t0: float = 0.0
    tau: float = 1.0
    alpha: float = 0.0
    weight: float = 0.5

    def __post_init__(self):
        check_choice(self.kind, ("smooth", "constant", "target", "source"), "schedule kind")
        for name in ("t0", "tau", "alpha", "weight"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"schedule {name}={getattr(self, name)!r} is not finite")
        if self.kind == "smooth" and not self.tau > 0:
            raise ValueError(f"schedule tau={self.tau!r}: τ/T must be > 0")
        if self.kind == "constant" and not 0 <= self.weight <= 1:
            raise ValueError(f"schedule weight={self.weight!r}: λ₀ of ch3 Eq. (3) must be in [0, 1]")

    @property
    def joint(self) -> bool:
        """Whether both sub-batches are forwarded each step."""
        return self.kind in ("smooth", "constant")

    def weights(self, total: int) -> np.ndarray:
        """λ for t = 1..T (``total`` = T iterations)."""
        t = np.arange(1, total + 1, dtype=np.float64)
        if self.kind == "smooth":
            return schedule_weight(t, total, self.t0 * total, self.tau * total, self.alpha)
        value = {"constant": self.weight, "target": 1.0, "source": 0.0}[self.kind]
        return np.full(total, value)

    def label(self) -> str:
        if self.kind == "smooth":
            return f"t0/T={self.t0:+.3f} tau/T={self.tau:.2g} alpha={self.alpha:+.2f}"
        return f"lambda={self.weight:g}" if self.kind == "constant" else self.kind


# --- The loss (ch3 Eqs. (1)–(3)) ----------------------------------------------------------------------

def two_head_loss(target_logits: Tensor, target_labels: Tensor, source_logits: Tensor, source_labels: Tensor,
                  weight: float) -> Tensor:
    """ch3 Eq. (3): λ₀/|B^T| Σ L^T + (1 − λ₀)/|B^S| Σ L^S, with L^T and L^S the cross-entropies of the
    softmax of each head (ch3 Eqs. (1)–(2)). At λ₀ = 1 (0) the source (target) term is multiplied by zero,
    so its head gets a zero gradient."""
    target = F.cross_entropy(target_logits, target_labels)  # 1/|B^T| Σ_{B^T} L(s(h^T(g(x))), y)
    source = F.cross_entropy(source_logits, source_labels)  # 1/|B^S| Σ_{B^S} L(s(h^S(g(x))), y)
    return weight * target + (1 - weight) * source          # λ₀ · target + (1 − λ₀) · source


# --- Learning rate and budgets (A.1–A.3) ----------------------------------------------------------------

def learning_rate(step: int, total: int, peak: float, final: float, warmup_fraction: float = 0.025) -> float:
    """The learning rate of step ``step`` (1..``total``), ch3 A.3: linear warm-up from 0 to ``peak`` over
    the first ``warmup_fraction`` of the run, then cosine annealing to ``final`` at the last step."""
    warm = max(1, round(warmup_fraction * total)) if warmup_fraction > 0 else 0
    if step <= warm:
        return peak * step / warm
    if total <= warm + 1:
        return final
    progress = (step - warm - 1) / (total - warm - 1)
    return final + 0.5 * (peak - final) * (1 + math.cos(math.pi * progress))


def joint_epochs(single_epochs: float, n_target: int, n_source: int) -> float:
    """Epochs (with respect to the source) of a joint run: source pre-training plus fine-tuning on the
    whole target training set, E + E·|D^T_tr|/|D^S| (derived in the spec from A.1/A.2: 200 + 200·45,000/
    50,000 = 380 for CIFAR and 160 + 160·65,931/60,000 = 335.8 ≈ 336 for digits)."""
    return single_epochs * (1 + n_target / n_source)


def steps_per_epoch(n: int, batch: int) -> int:
    """⌈n / batch⌉: an epoch ends with a last, smaller batch (spec, Sec. 2.4)."""
    return -(-n // batch)


def n_grid(n_max: int, count: int, granularity: int = 1) -> tuple[int, ...]:
    """The target sizes N of ch3 Table 1: ``n_max`` · 10^(−k/2), k = 0..count−1, rounded to a multiple of
    ``granularity`` (the spec's derivation: CIFAR-10 rounds to tens, 45,000 … 140; SVHN to units,
    65,931 … 208)."""
    check_int_range(n_max, "n_max", 1)
    check_int_range(count, "count", 1)
    return tuple(max(granularity, granularity * round(n_max * 10 ** (-k / 2) / granularity)) for k in range(count))


def nested_subsets(n_pool: int, sizes, seed: int = 0) -> dict[int, Tensor]:
    """Indices of the target training subsets, each smaller N inside every larger one: the first N of
    one seeded permutation of the pool (A.1/A.2 "random sampling"; nested, as the spec recommends, so
    that differences across N are not differences of draws)."""
    sizes = list(sizes)
    too_big = [n for n in sizes if not 1 <= n <= n_pool]
    if too_big:
        raise ValueError(f"target sizes {too_big} are not in [1, {n_pool}] (the target training pool)")
    perm = torch.randperm(n_pool, generator=torch.Generator().manual_seed(seed))
    return {n: perm[:n].sort().values for n in sizes}


# --- The model ----------------------------------------------------------------------------------------

class TwoHeadNet(nn.Module):
    """g_θ with the target head h^T and the source head h^S (ch3 Sec. 2)."""

    def __init__(self, trunk: nn.Module, n_target: int, n_source: int):
        super().__init__()
        self.trunk = trunk
        self.heads = nn.ModuleList([nn.Linear(trunk.out_features, n_target), nn.Linear(trunk.out_features, n_source)])

    def logits(self, x: Tensor, dataset: int, statistics: int | None = None) -> Tensor:
        """h^{dataset}(g_θ(x)), with BN statistics set ``statistics`` (default: the dataset's own when the
        trunk has one set per dataset)."""
        with statistics_of(self.trunk, self._stats(dataset if statistics is None else statistics)):
            return self.heads[dataset](self.trunk(x))

    def joint_logits(self, xt: Tensor, xs: Tensor, bn: str) -> tuple[Tensor, Tensor]:
        """Target and source logits of one step: ``shared`` BN is one forward over the concatenated batch,
        ``specific`` one forward per dataset with its own statistics."""
        if bn == "shared":
            f = self.trunk(torch.cat([xt, xs]))
            return self.heads[TARGET](f[:len(xt)]), self.heads[SOURCE](f[len(xt):])
        return self.logits(xt, TARGET), self.logits(xs, SOURCE)

    def _stats(self, dataset: int) -> int:
        n = getattr(self, "_n_stats", None)
        if n is None:
            from .models.norm import DomainBatchNorm2d
            sets = {m.running_mean.shape[0] for m in self.trunk.modules() if isinstance(m, DomainBatchNorm2d)}
            n = self._n_stats = max(sets, default=1)
        return dataset if n > 1 else 0


# --- One run ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class STLProtocol:
    """Everything of a chapter-3 run that is not the method: model, optimiser, budgets, data sizes.

    ``single_epochs``: target-only runs, source pre-training and the fine-tuning stage (A.1: 200, A.2:
    160); joint runs last :func:`joint_epochs` of the source. ``batch`` for single-dataset runs and
    ``sub_batch`` per dataset in joint runs (128 and 128); ``small_batch`` = (N, b): target-only and
    fine-tuning runs with N ≤ that size use batch b (A.1: 16 at N = 140). ``eval_points``: validation
    checkpoints per run for early stopping. ``*_per_class``: images per class of the embedded domains
    (``None`` on ``paper``: the datasets' splits).
    """

    arch: str = "resnet20"
    width: float = 1.0            # ResNet-20's width multiplier, or WRN's widening factor k
    dropout: float = 0.0
    bn: str = "shared"
    single_epochs: int = 200
    batch: int = 128
    sub_batch: int = 128
    small_batch: tuple[int, int] | None = None
    lr_peak: float = 0.1
    lr_final: float = 1e-3
    weight_decay: float = 1e-4
    momentum: float = 0.9
    warmup: float = 0.025
    eval_points: int = 100
    augment: bool = False
    image_size: int = 32
    target_per_class: int | None = None
    val_per_class: int | None = None
    test_per_class: int | None = None
    source_per_class: int | None = None

    def __post_init__(self):
        check_choice(self.arch, ARCHS, "architecture")
        check_choice(self.bn, BN_MODES, "BN statistics")
        if not self.width > 0:
            raise ValueError(f"width={self.width!r}: must be > 0")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout={self.dropout!r}: allowed [0, 1)")
        check_int_range(self.single_epochs, "single_epochs", 1, 100_000)
        check_int_range(self.batch, "batch", 1, 65_536)
        check_int_range(self.sub_batch, "sub_batch", 1, 65_536)
        check_int_range(self.eval_points, "eval_points", 1, 100_000)
        check_int_range(self.image_size, "image_size", 8, 1024)
        check_lr(self.lr_peak)
        check_lr(self.lr_final)
        if not 0 <= self.warmup < 1:
            raise ValueError(f"warmup={self.warmup!r}: the warm-up fraction must be in [0, 1)")

    def trunk(self, domains: int = 1) -> nn.Module:
        """ResNet-20 with BN and ReLU (A.1) or WRN-10-k with dropout (A.2); ``domains`` BN statistics sets."""
        if self.arch == "resnet20":
            return ResNetTrunk(20, self.width, norm="batch", act="relu", domains=domains)
        return WideResNetTrunk(10, int(self.width), dropout=self.dropout, norm="batch", domains=domains)

    def single_batch(self, n: int) -> int:
        return self.small_batch[1] if self.small_batch and n <= self.small_batch[0] else self.batch


@dataclass
class PairData:
    """A source → target pair as uint8 (N, 3, H, W) tensors: the target's training pool, validation and
    test sets, the source's training set."""

    pair: str
    target_x: Tensor
    target_y: Tensor
    val_x: Tensor
    val_y: Tensor
    test_x: Tensor
    test_y: Tensor
    source_x: Tensor
    source_y: Tensor
    n_target_classes: int
    n_source_classes: int
    subsets: dict[int, Tensor] = field(default_factory=dict)


#: The source → target pairs (ch3 Sec. 3; stand-ins in :mod:`paperlib.data.standins`) and their benchmarks.
PAIRS = {"objects": "ch3_objects", "digits": "ch3_digits"}


def pair_datasets(pair: str, profile: str) -> tuple[str, str]:
    """(source, target) dataset names of ``pair`` for ``profile``."""
    from .data import benchmark
    source, target = benchmark(PAIRS[check_choice(pair, PAIRS, "pair")], profile)
    return source, target


def load_pair(pair: str, profile: str, protocol: STLProtocol, data_root: str | None = None,
              target_val: int | None = None) -> PairData:
    """The pair's data as uint8 tensors at ``protocol.image_size``, three channels (MNIST is resized from
    28×28 and repeated to RGB: spec, ambiguity 9). ``paper``: the target's official training set split
    into the training pool and ``target_val`` validation images (A.1: 5,000 of CIFAR-10's 50,000; A.2:
    7,326 of SVHN's 73,257; ``None``: the registry's rule), the official test set, the source's whole training
    set (spec: no source split is mentioned); decoded once, then cached. Embedded: the profile's
    generated splits, ``*_per_class`` images per class."""
    from .data import get_dataset
    source, target = pair_datasets(pair, profile)
    size = protocol.image_size
    if profile == "paper":
        val_size = target_val
        parts = {"target": (target, ("train",)), "val": (target, ("val",)), "test": (target, ("test",)),
                 "source": (source, ("train", "val"))}
        loaded = {k: _paper_uint8(name, ps, size, data_root, val_size if name == target else None)
                  for k, (name, ps) in parts.items()}
        out = {k: v[:2] for k, v in loaded.items()}
        n_t, n_s = loaded["target"][2], loaded["source"][2]
    else:
        per = {"target": (target, "train", protocol.target_per_class),
               "val": (target, "val", protocol.val_per_class),
               "test": (target, "test", protocol.test_per_class),
               "source": (source, "train", protocol.source_per_class)}
        out = {}
        for k, (name, split, n) in per.items():
            ds = get_dataset(name, split, profile, n_per_class=n, image_size=size)
            out[k] = (ds.images, ds.labels)
        n_t = get_dataset(target, "train", profile, n_per_class=protocol.target_per_class).n_classes
        n_s = get_dataset(source, "train", profile, n_per_class=protocol.source_per_class).n_classes
    return PairData(pair, *out["target"], *out["val"], *out["test"], *out["source"], n_t, n_s)


def _paper_uint8(name: str, parts, size: int, root, val_size) -> tuple[Tensor, Tensor, int]:
    """A paper dataset's split(s) as uint8 (N, 3, size, size), labels and the number of classes, decoded
    once and cached."""
    from .config import cache_dir
    from .data import get_dataset
    from .store import cached_tensors, content_key

    def to_uint8(img):
        return torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.uint8).copy()).permute(2, 0, 1)

    sets = [get_dataset(name, p, "paper", root, image_size=size, transform=to_uint8, val_size=val_size)
            for p in parts]
    spec = dict(name=name, parts=list(parts), size=size, n=[len(s) for s in sets], kind="ch3")
    path = cache_dir() / "data" / f"{name}-{'+'.join(parts)}-ch3-{content_key(spec)}.safetensors"

    def build():
        loader = torch.utils.data.DataLoader(torch.utils.data.ConcatDataset(sets), batch_size=512)
        xs, ys = zip(*loader)
        return {"images": torch.cat(xs), "labels": torch.cat(ys).long()}

    t = cached_tensors(path, build, metadata={k: str(v) for k, v in spec.items()})[0]
    return t["images"], t["labels"], sets[0].n_classes


@dataclass(frozen=True)
class STLRun:
    """One chapter-3 run (its run-cache identity): ``method`` is ``target`` (target only, N images),
    ``source`` (source pre-training), ``finetune`` (the pre-trained ``source`` run of the same seed, then
    target only) or ``joint`` (ch3 Eq. (3) with ``schedule``: Multi-task or Smooth Transfer Learning)."""

    pair: str
    method: str
    n: int | None
    seed: int
    protocol: STLProtocol
    profile: str
    schedule: Schedule = Schedule("target")
    bn: str | None = None  # joint runs: the protocol's, or the ablation's

    def __post_init__(self):
        check_choice(self.method, METHODS, "method")
        check_profile(self.profile)
        check_int_range(self.seed, "seed", 0)
        if (self.n is None) != (self.method == "source"):
            raise ValueError(f"method {self.method!r}: {'no' if self.method == 'source' else 'a'} target size N")
        if self.method == "joint" and not self.schedule.joint:
            raise ValueError(f"a joint run needs a smooth or constant schedule, not {self.schedule.kind!r}")

    @property
    def kind(self) -> str:
        return f"ch3_{self.method}"

    @property
    def bn_mode(self) -> str:
        return self.bn or self.protocol.bn

    def config(self) -> dict:
        return plain_config(self)

    def pretraining(self) -> "STLRun":
        """The source pre-training run a ``finetune`` run starts from (it does not depend on N)."""
        return STLRun(self.pair, "source", None, self.seed, self.protocol, self.profile, Schedule("source"))

    def label(self) -> str:
        what = {"target": "target only", "source": "source pre-training", "finetune": "fine-tune",
                "joint": self.schedule.label() + (f" bn={self.bn_mode}" if self.bn else "")}[self.method]
        return f"{self.pair} N={self.n} {what} seed {self.seed}"


def plain_config(run: STLRun) -> dict:
    out = asdict(run)
    out["protocol"]["small_batch"] = list(run.protocol.small_batch) if run.protocol.small_batch else None
    return out


def to_input(images: Tensor) -> Tensor:
    """uint8 → float in [−1, 1] (our reading: the paper states no normalisation)."""
    return images.float().div_(127.5).sub_(1.0)


def _augment(x: Tensor, g: torch.Generator) -> Tensor:
    """Random crop with 4-pixel zero padding and a random horizontal flip (CIFAR on ``paper``; spec,
    ambiguity 10)."""
    n, _, h, w = x.shape
    padded = F.pad(x, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,), generator=g)
    dx = torch.randint(0, 9, (n,), generator=g)
    rows = (dy[:, None] + torch.arange(h)[None])[:, :, None].expand(n, h, w)
    cols = (dx[:, None] + torch.arange(w)[None])[:, None, :].expand(n, h, w)
    out = padded[torch.arange(n)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)
    flip = torch.rand(n, generator=g) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


class _Batches:
    """Mini-batches of one dataset: a seeded reshuffle each time it is exhausted (⌈n/b⌉ per pass)."""

    def __init__(self, n: int, batch: int, g: torch.Generator):
        self.n, self.batch, self.g = n, min(batch, n), g
        self.order, self.pos = torch.randperm(n, generator=g), 0

    def next(self) -> Tensor:
        if self.pos >= self.n:
            self.order, self.pos = torch.randperm(self.n, generator=self.g), 0
        idx = self.order[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return idx


@torch.no_grad()
def evaluate(model: TwoHeadNet, x: Tensor, y: Tensor, dataset: int = TARGET, device: str = "cpu",
             batch: int = 1000) -> float:
    """Accuracy (%) of the head of ``dataset`` on uint8 images ``x`` (eval mode, the dataset's BN statistics)."""
    was = model.training
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        pred = model.logits(to_input(x[i:i + batch].to(device)), dataset).argmax(-1).cpu()
        correct += int((pred == y[i:i + batch]).sum())
    model.train(was)
    return 100.0 * correct / max(1, len(x))


#: One run at a time per process: a Dask worker with several threads must not interleave two runs'
#: use of torch's global random state (dropout), or results would depend on scheduling.
_RUN_LOCK = threading.Lock()


def run_steps(run: STLRun, data: PairData) -> int:
    """T, the iterations of ``run`` (A.1/A.2 epochs × ⌈|D|/b⌉ of the dataset that defines the epoch)."""
    p = run.protocol
    n_source = len(data.source_y)
    if run.method == "source":
        return p.single_epochs * steps_per_epoch(n_source, p.batch)
    if run.method in ("target", "finetune"):
        return p.single_epochs * steps_per_epoch(run.n, p.single_batch(run.n))
    epochs = joint_epochs(p.single_epochs, len(data.target_y), n_source)
    return max(1, round(epochs * steps_per_epoch(n_source, p.sub_batch)))


def compute(run: STLRun, data: PairData, *, device: str = "cpu", start: dict[str, Tensor] | None = None,
            progress: bool = False) -> tuple[dict, dict[str, dict[str, Tensor]]]:
    """Train and evaluate ``run`` (ch3 Eq. (7) with A.3's optimiser); returns its JSON result and artifacts,
    writing nothing (it may run on a Dask worker; the notebook's process stores both).

    ``start``: the pre-trained weights of a ``finetune`` run (its :meth:`STLRun.pretraining`'s ``model``
    artifact). The result holds T, the validation curve (step, accuracy %), the early-stopping step
    and its λ, the best validation and its test accuracy (%), the last step's losses. A ``source`` run
    stores its weights (artifact ``model``) and reports its source test accuracy in place of the target's.
    """
    with _RUN_LOCK:
        return _compute(run, data, device, start, progress)


def _compute(run: STLRun, data: PairData, device: str, start: dict | None, progress: bool):
    from tqdm.auto import tqdm
    p = run.protocol
    if run.method == "finetune" and start is None:
        raise ValueError(f"{run.label()}: fine-tuning needs the pre-trained source weights (start=...)")
    torch.manual_seed(run.seed)
    g = torch.Generator().manual_seed(run.seed * 7919 + 17)
    joint = run.method == "joint"
    domains = 2 if joint and run.bn_mode == "specific" else 1
    model = TwoHeadNet(p.trunk(domains), data.n_target_classes, data.n_source_classes)
    if start is not None:
        model.load_state_dict(start)
    model.to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.0, momentum=p.momentum, weight_decay=p.weight_decay)

    total = run_steps(run, data)
    weights = run.schedule.weights(total) if joint else None
    if run.method == "source":
        sx, sy = data.source_x, data.source_y
        src = _Batches(len(sy), p.batch, g)
    else:
        idx = data.subsets[run.n] if run.n in data.subsets else torch.arange(run.n)
        tx, ty = data.target_x[idx], data.target_y[idx]
        tgt = _Batches(len(ty), p.sub_batch if joint else p.single_batch(run.n), g)
        if joint:
            sx, sy = data.source_x, data.source_y
            src = _Batches(len(sy), p.sub_batch, g)
    checkpoints = set(np.linspace(0, total, p.eval_points + 1).round().astype(int)[1:].tolist()) | {total}
    evaluate_target = run.method != "source"

    def batch(x, y, sampler):
        i = sampler.next()
        xb = x[i]
        if p.augment:
            xb = _augment(xb, g)
        return to_input(xb.to(device)), y[i].to(device)

    curve, best = [], (-1.0, 0, None)
    losses = {}
    for t in tqdm(range(1, total + 1), desc=run.label(), leave=False, disable=not progress):
        for group in opt.param_groups:
            group["lr"] = learning_rate(t, total, p.lr_peak, p.lr_final, p.warmup)
        if joint:
            xt, yt = batch(tx, ty, tgt)
            xs, ys = batch(sx, sy, src)
            lt, ls = model.joint_logits(xt, xs, run.bn_mode)
            loss = two_head_loss(lt, yt, ls, ys, float(weights[t - 1]))  # ch3 Eq. (3) at λ_ω(t)
            losses = {"target": float(F.cross_entropy(lt.detach(), yt)),
                      "source": float(F.cross_entropy(ls.detach(), ys))}
        elif run.method == "source":
            xs, ys = batch(sx, sy, src)
            loss = F.cross_entropy(model.logits(xs, SOURCE), ys)
            losses = {"source": loss.item()}
        else:
            xt, yt = batch(tx, ty, tgt)
            loss = F.cross_entropy(model.logits(xt, TARGET), yt)
            losses = {"target": loss.item()}
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()                                                     # ch3 Eq. (7), momentum SGD
        if evaluate_target and t in checkpoints:
            acc = evaluate(model, data.val_x, data.val_y, TARGET, device)
            curve.append((t, acc))
            if acc > best[0]:
                best = (acc, t, copy.deepcopy(model.state_dict()))
    result: dict[str, Any] = {"steps": total, "losses": losses}
    artifacts: dict[str, dict[str, Tensor]] = {}
    if run.method == "source":
        artifacts["model"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        return result, artifacts
    model.load_state_dict(best[2])                                      # early stopping (A.3)
    result.update(val_curve=curve, best_val=best[0], best_step=best[1],
                  best_weight=float(weights[best[1] - 1]) if joint else None,
                  test=evaluate(model, data.test_x, data.test_y, TARGET, device))
    return result, artifacts


__all__ = ["ARCHS", "BN_MODES", "METHODS", "PAIRS", "PairData", "SOURCE", "STLProtocol", "STLRun", "Schedule",
           "TARGET", "TwoHeadNet", "compute", "constant_limit", "evaluate", "joint_epochs", "learning_rate",
           "load_pair", "n_grid", "nested_subsets", "pair_datasets", "run_steps", "schedule_weight", "step_limit",
           "steps_per_epoch", "to_input", "two_head_loss"]
