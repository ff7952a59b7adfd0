"""One chapter-2 run: a pretrained network adapted to one domain by FTN or a baseline (ch2 Secs. 3-4).

**Convolutional runs** (:class:`ConvRun`, ch2 Sec. 4.1.1, Tables 1-2, Fig. 2). The backbone is frozen and
pretrained: the shipped :mod:`paperlib.resnet_foundation` ResNet (``embedded``, ``smoke``) or torchvision's
``IMAGENET1K_V1`` ResNet-50 / ResNet-34 (``paper``). Methods, each with one new linear head:

* ``fe`` (Feature-Extractor): only the head; the trunk with its pretrained BN in eval mode (spec reading 4). The
  features of a frozen eval-mode trunk do not change, so the embedded runs compute them once for every shift their
  augmentation can make and train the head on those: the same function as a forward of the shifted images through
  the trunk at every step, at a fraction of the cost;
* ``fc_bn`` ("FC and BN only", Fig. 2's R = 0): the head and a task BatchNorm (Γ, β, running statistics);
* ``ftn`` at rank R ≥ 1: the head, task BN and the CP factors of every conv but the stem (ch2 Eqs. (2)-(4));
* ``ft`` (Fine-Tuning): every trunk parameter and the head (an independent network per domain).

The paper states no optimiser, schedule or epoch count for these runs ("in the supplementary material", which the
text lacks); ``paper`` therefore uses TAPS's code defaults, which the paper says it follows ("same settings as
TAPS", labelled as TAPS's): SGD with momentum 0.9, lr 0.005, no weight decay, cosine over 30 epochs, batches of 32
with gradients accumulated over 8 (256 per step), RandomResizedCrop(224) and flips. TAPS selects checkpoints on
the test split; we select nothing (the last step is reported) and keep a validation split for the learning rates.

**ViT runs** (:class:`ViTRun`, ch2 Sec. 4.1.2, Table 3). A CLIP image tower with a linear head initialised from the
zero-shot class embeddings (the head is trained in every method; the paper excludes heads from its counts).
Methods: ``linear_probe`` (feature extractor), ``ft`` (every tower parameter), ``lora_qv`` (LoRA on W^Q and W^V),
``ftn_qv`` and ``ftn_o`` (:func:`paperlib.ftn.adapt_attention`, α/R scaling with α = 10 and 100, factors from
N(0, 0.05²)). The paper: rank 4, batch 64, 100 epochs, lr 5e-6 from a grid search; the optimiser is not stated
(He et al. use AdamW with a cosine schedule, our reading).

A run's :func:`compute` returns its JSON result and its tensors and writes nothing (it may run on a Dask worker);
the chapter's driver stores both in the run cache. Checkpoints (safetensors + JSON) make long runs resumable.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from . import ftn
from .config import check_choice, check_int_range, check_lr, check_profile
from .data import get_dataset
from .mdl import to_input
from .resnet_foundation import apply_shift, shift_offsets
from .store import Checkpoint, load_optimizer_tensors, optimizer_tensors
from .streams import batch_indices, eval_loader, step_loader, taps_transforms
from .train import cosine_lr

CONV_METHODS = ("fe", "fc_bn", "ftn", "ft")
VIT_METHODS = ("linear_probe", "ft", "lora_qv", "ftn_qv", "ftn_o")


def check_method(method: str, allowed: tuple[str, ...]) -> str:
    return check_choice(method, allowed, "method")


class _RunProtocol:
    """What the two run protocols share: one learning rate per method (``lr``, checked against ``METHODS``), the
    schedule's bounds, and the run length (``steps``, or ``epochs`` over the training split at ``batch_size`` ×
    ``accumulate``)."""

    METHODS: ClassVar[tuple[str, ...]] = ()
    accumulate: int = 1

    def _check_schedule(self) -> None:
        check_int_range(self.steps, "steps", 1, 10_000_000)
        check_int_range(self.batch_size, "batch_size", 1, 65_536)
        check_int_range(self.warmup, "warmup", 0, self.steps)
        lrs = dict(self.lr)
        if set(lrs) != set(self.METHODS):
            raise ValueError(f"lr must give one learning rate per method {self.METHODS}; got {sorted(lrs)}")
        for v in lrs.values():
            check_lr(v)

    def lr_of(self, method: str) -> float:
        return dict(self.lr)[method]

    def steps_for(self, n_train: int) -> int:
        """Optimiser steps of a run: ``epochs`` over ``n_train`` items (``paper``), else ``steps``."""
        if self.epochs is None:
            return self.steps
        return max(1, self.epochs * (n_train // (self.batch_size * self.accumulate)))


@dataclass(frozen=True)
class ConvProtocol(_RunProtocol):
    """Optimiser, schedule and data sizes of the convolutional runs of one profile (:data:`CONV_PROTOCOLS`).

    ``lr`` per method (``fe``, ``fc_bn``, ``ftn``, ``ft``); ``accumulate`` batches per optimiser step;
    ``shift``: random ±pixels translation (embedded) — ``paper`` uses RandomResizedCrop(224) and flips instead.
    ``*_per_class``: images per class of the embedded domains (``None``: the paper datasets' splits)."""

    steps: int
    lr: tuple[tuple[str, float], ...]
    batch_size: int
    momentum: float = 0.9
    weight_decay: float = 0.0
    warmup: int = 0
    accumulate: int = 1
    image_size: int = 16
    shift: int = 2
    train_per_class: int | None = None
    val_per_class: int | None = None
    test_per_class: int | None = None
    epochs: int | None = None  # paper: steps come from the epochs and the training set size

    METHODS: ClassVar[tuple[str, ...]] = CONV_METHODS

    def __post_init__(self):
        self._check_schedule()
        check_int_range(self.accumulate, "accumulate", 1, 1024)
        check_int_range(self.image_size, "image_size", 8, 1024)


#: ``embedded``: 16×16 images, 50 training, 20 validation and 50 test images per class, 60 steps of batch 32 (about
#: 4 epochs: the chapter's 120 conv and 50 ViT runs must fit its 12 minutes on 2 cores), shifts of ±1 px, learning
#: rates per method from a pilot on the validation split (seed 0; ``book/pilots/ch2_learning_rates.json``, shown in
#: the chapter). ``smoke``: a few steps. ``paper``: TAPS's code defaults (see the module docstring).
CONV_PROTOCOLS: dict[str, ConvProtocol] = {
    "paper": ConvProtocol(steps=1, epochs=30, lr=(("fe", 0.005), ("fc_bn", 0.005), ("ftn", 0.005), ("ft", 0.005)),
                          batch_size=32, accumulate=8, image_size=224, shift=0),
    "embedded": ConvProtocol(steps=60, lr=(("fe", 0.1), ("fc_bn", 0.15), ("ftn", 0.05), ("ft", 0.03)),
                             batch_size=32, warmup=3, shift=1, train_per_class=50, val_per_class=20, test_per_class=50),
    "smoke": ConvProtocol(steps=4, lr=(("fe", 0.1), ("fc_bn", 0.15), ("ftn", 0.05), ("ft", 0.03)), batch_size=16,
                          warmup=1, shift=1, train_per_class=6, val_per_class=3, test_per_class=4),
}


# --- Data ---------------------------------------------------------------------------------------------------------

@dataclass
class DomainSplits:
    """One domain's train, val and test images (uint8, N×3×H×W) and labels (embedded profiles)."""

    name: str
    n_classes: int
    train: tuple[Tensor, Tensor]
    val: tuple[Tensor, Tensor]
    test: tuple[Tensor, Tensor]
    classnames: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()


def load_splits(name: str, profile: str, image_size: int, train_per_class: int | None,
                val_per_class: int | None, test_per_class: int | None) -> DomainSplits:
    """An embedded domain's three splits at ``image_size`` (generated once, then read from the data cache)."""
    check_profile(profile)
    if profile == "paper":
        raise ValueError("load_splits is for the embedded profiles; profile 'paper' streams its datasets "
                         "(load_paper_splits)")
    sets = {split: get_dataset(name, split, profile, n_per_class=n, image_size=image_size)
            for split, n in (("train", train_per_class), ("val", val_per_class), ("test", test_per_class))}
    train = sets["train"]
    return DomainSplits(name, train.n_classes, *((sets[s].images, sets[s].labels) for s in ("train", "val", "test")),
                        tuple(train.classnames), tuple(train.templates))


def shifted_features(trunk: nn.Module, x: Tensor, pad: int, batch_size: int = 1000) -> Tensor:
    """The frozen eval-mode trunk's features of every image at every shift :func:`apply_shift` can make:
    ((2·pad + 1)², N, F), indexed by ``dy · (2·pad + 1) + dx``. A head trained on them sees exactly what a
    forward through the frozen trunk of the shifted images would give it."""
    k = 2 * pad + 1
    shifts = [(dy, dx) for dy in range(k) for dx in range(k)]
    parts = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = to_input(x[i:i + batch_size])
            n = len(xb)
            parts.append(torch.stack([trunk(apply_shift(xb, torch.full((n,), dy), torch.full((n,), dx), pad))
                                      for dy, dx in shifts]))
    return torch.cat(parts, dim=1)


@dataclass
class StreamedSplits:
    """One paper dataset's train, val and test splits as torch Datasets read from disk (profile ``paper``): items are
    (transformed float image, label)."""

    name: str
    n_classes: int
    train: Dataset
    val: Dataset
    test: Dataset
    workers: int = 8


def load_paper_splits(name: str, root: str | None, image_size: int = 224, workers: int = 8,
                      transforms=None) -> StreamedSplits:
    """A paper dataset's splits with TAPS's transforms (:func:`paperlib.streams.taps_transforms`) or ``transforms``
    = (train, eval); ``val`` is the registry's held-out part of the official training set."""
    from .data.registry import get_dataset as get
    train_t, eval_t = transforms or taps_transforms(image_size)
    splits = {s: get(name, s, "paper", root, transform=train_t if s == "train" else eval_t)
              for s in ("train", "val", "test")}
    return StreamedSplits(name, len(splits["train"].classnames), splits["train"], splits["val"], splits["test"],
                          workers)


def train_size(data) -> int:
    return len(data.train) if isinstance(data, StreamedSplits) else len(data.train[1])


def steps_of(protocol: _RunProtocol, data) -> int:
    """Optimiser steps of a run on ``data`` (:meth:`_RunProtocol.steps_for` its training split)."""
    return protocol.steps_for(train_size(data))


@torch.no_grad()
def evaluate(forward, split, device: str = "cpu", *, prepare=None, batch_size: int = 500, workers: int = 8) -> float:
    """Top-1 accuracy (%) of ``forward`` on a split: an (images, labels) pair of tensors (``prepare`` maps a batch
    of images to the model's input) or a Dataset (streamed through a DataLoader)."""
    correct = total = 0
    if isinstance(split, tuple):
        x, y = split
        batches = ((x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(x), batch_size))
    else:
        batches = eval_loader(split, batch_size=min(batch_size, 256), workers=workers,
                              pin_memory=device.startswith("cuda"))
    for xb, yb in batches:
        xb = prepare(xb) if prepare is not None else xb
        with _autocast(device):
            pred = forward(xb.to(device, non_blocking=True)).argmax(1).cpu()
        correct += int((pred == yb).sum())
        total += len(yb)
    return 100.0 * correct / max(1, total)


def _autocast(device: str):
    """bf16 autocast on CUDA (the paper profile's GPU runs); nothing on the CPU."""
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda"))


@dataclass(frozen=True)
class ConvRun:
    """One convolutional run (its run-cache identity): a domain, a method, a rank, a seed, the protocol and the
    backbone (``weights``: the identity of its pretrained weights)."""

    domain: str
    method: str
    rank: int = 0
    seed: int = 0
    init: str = "xavier"
    profile: str = "embedded"
    protocol: ConvProtocol = CONV_PROTOCOLS["embedded"]
    weights: str = ""
    adapt_stem: bool = False

    def __post_init__(self):
        check_profile(self.profile)
        check_method(self.method, CONV_METHODS)
        ftn.check_rank(self.rank)
        ftn.check_init(self.init)
        check_int_range(self.seed, "seed", 0)
        if (self.method == "ftn") != (self.rank > 0):
            raise ValueError(f"method={self.method!r} with rank={self.rank}: FTN needs rank ≥ 1 and the baselines "
                             "rank 0 (rank 0 with task BN is 'fc_bn')")

    kind = "ch2_conv"

    def config(self) -> dict:
        return dataclasses.asdict(self)

    def label(self) -> str:
        what = f"FTN R={self.rank}" if self.method == "ftn" else self.method
        return f"{self.domain} {what} seed {self.seed}"


def build_model(run: ConvRun, trunk: nn.Module, n_classes: int) -> tuple[nn.Module, list[nn.Parameter], callable]:
    """(model, trainable parameters, forward(x) → logits) of a run, from a pretrained trunk (copied)."""
    g = torch.Generator().manual_seed(run.seed)
    trunk = copy.deepcopy(trunk)
    feature_dim = trunk.out_features
    if run.method == "ft":
        head = nn.Linear(feature_dim, n_classes)
        with torch.no_grad():
            bound = 1.0 / math.sqrt(feature_dim)
            head.weight.uniform_(-bound, bound, generator=g)
            head.bias.uniform_(-bound, bound, generator=g)
        model = nn.ModuleDict({"trunk": trunk, "head": head})
        for p in model.parameters():
            p.requires_grad_(True)
        return model, list(model.parameters()), lambda x: head(trunk(x))
    net = ftn.FTN(trunk, feature_dim, adapt_stem=run.adapt_stem)
    t = net.add_task(n_classes, run.rank, bn=run.method != "fe", init=run.init, generator=g)
    return net, net.task_parameters(t), lambda x: net(x, t)


def lr_groups(run: ConvRun, model: nn.Module, params: list[nn.Parameter]) -> list[dict]:
    """Optimiser groups with their base learning rate: one group at the method's rate, except FTN, whose task BN and
    head train at "FC and BN only"'s rate and whose factors at FTN's (so FTN at any rank is FC and BN only plus the
    factors, trained the same way; our reading: the paper states no rates)."""
    p = run.protocol
    if run.method != "ftn":
        return [{"params": params, "base_lr": p.lr_of(run.method)}]
    named = model.task_named_parameters(0)
    factors = [q for n, q in named.items() if ".factors." in n]
    rest = [q for n, q in named.items() if ".factors." not in n]
    return [{"params": factors, "base_lr": p.lr_of("ftn")}, {"params": rest, "base_lr": p.lr_of("fc_bn")}]


def trainable_tensors(run: ConvRun, model: nn.Module) -> dict[str, Tensor]:
    """What a run adds per domain: the whole model (``ft``) or the task's state (factors, BN, head)."""
    if run.method == "ft":
        return {k: v.detach().clone() for k, v in model.state_dict().items()}
    return model.task_state(0)


def compute_conv(run: ConvRun, data: DomainSplits | StreamedSplits, trunk: nn.Module, *, device: str = "cpu",
                 progress: bool = False, checkpoint_seconds: float = 60.0,
                 stop_after: int | None = None) -> tuple[dict, dict]:
    """Train and evaluate ``run`` on ``data`` (in memory, or streamed for ``paper``) from the pretrained ``trunk``
    (left unchanged). Returns the result (test and val accuracy %, for FTN the accuracy before training, the
    per-domain parameter count, the loss curve, for FTN ‖ΔW_l‖/‖W_l‖ per layer, seconds) and the artifacts
    (``task``: the domain's tensors). ``stop_after`` stops after that many steps having saved a checkpoint (tests of
    resuming)."""
    p = run.protocol
    if data.name != run.domain:
        raise ValueError(f"data of {data.name!r} given to a run on {run.domain!r}")
    streamed = isinstance(data, StreamedSplits)
    prepare = None if streamed else to_input
    torch.manual_seed(run.seed)
    model, params, forward = build_model(run, trunk, data.n_classes)
    model.to(device)
    steps = steps_of(p, data)
    start = time.perf_counter()
    model.eval()
    workers = data.workers if streamed else 0
    initial = evaluate(forward, data.test, device, prepare=prepare, workers=workers) if run.method == "ftn" else None
    opt = torch.optim.SGD(lr_groups(run, model, params), lr=p.lr_of(run.method), momentum=p.momentum,
                          weight_decay=p.weight_decay)
    ckpt = Checkpoint(run.kind, run.config())
    step0, losses = 0, []
    if (saved := ckpt.load()) is not None:
        tensors, state = saved
        model.load_state_dict({k[6:]: v.to(device) for k, v in tensors.items() if k.startswith("model.")})
        load_optimizer_tensors(opt, tensors, state["optimizer"])
        step0, losses = state["step"], state["losses"]
    cached_fe = run.method == "fe" and not streamed
    if cached_fe:  # the frozen eval-mode trunk's features, computed once (see the module docstring)
        model.select(0)
        feats = shifted_features(model.trunk, data.train[0].to(device), p.shift)
        head = model.heads[0]
    if streamed:
        batches = iter(step_loader(data.train, p.batch_size, run.seed, step0 * p.accumulate, steps * p.accumulate,
                                   workers=data.workers, pin_memory=device.startswith("cuda")))
    g = torch.Generator()
    last = time.perf_counter()
    bar = tqdm(range(step0, steps), desc=run.label(), leave=False, disable=not progress)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = cosine_lr(step, group["base_lr"], p.warmup, steps)
        opt.zero_grad(set_to_none=True)
        total = 0.0
        if run.method != "fe":
            model.train()
        for a in range(p.accumulate):
            k = step * p.accumulate + a
            if streamed:
                xb, yb = (t.to(device, non_blocking=True) for t in next(batches))
                with _autocast(device):
                    logits = forward(xb)
            else:
                x, y = data.train
                idx = batch_indices(len(x), p.batch_size, run.seed, k)
                g.manual_seed(run.seed * 7_919 + k)
                dy, dx = shift_offsets(len(idx), g, p.shift) if p.shift else (None, None)
                yb = y[idx].to(device)
                if cached_fe:
                    logits = head(feats[dy * (2 * p.shift + 1) + dx, idx] if p.shift else feats[0, idx])
                else:
                    xb = to_input(x[idx]).to(device)
                    logits = forward(apply_shift(xb, dy.to(device), dx.to(device), p.shift) if p.shift else xb)
            loss = F.cross_entropy(logits.float(), yb) / p.accumulate
            loss.backward()
            total += float(loss.detach())
        opt.step()
        losses.append(total)
        if not math.isfinite(total):
            raise FloatingPointError(f"{run.label()}: the loss diverged at step {step + 1}; lower lr[{run.method!r}]")
        done = step + 1
        if done < steps and (time.perf_counter() - last >= checkpoint_seconds or done == stop_after):
            opt_t, opt_s = optimizer_tensors(opt)
            ckpt.save({**{f"model.{k}": v for k, v in model.state_dict().items()}, **opt_t},
                      {"step": done, "losses": losses, "optimizer": opt_s})
            last = time.perf_counter()
        if done == stop_after:
            return {"stopped": done}, {}
    model.eval()
    tensors = {k: v.cpu() for k, v in trainable_tensors(run, model).items()}
    result = {"acc": evaluate(forward, data.test, device, prepare=prepare, workers=workers),
              "val_acc": evaluate(forward, data.val, device, prepare=prepare, workers=workers),
              "initial_acc": initial, "parameters": int(sum(q.numel() for q in params)),
              "head": (trunk.out_features + 1) * data.n_classes, "steps": steps,
              "loss": [float(np.mean(losses[i:i + 10])) for i in range(0, len(losses), 10)],
              "seconds": time.perf_counter() - start, "n_test": len(data.test) if streamed else len(data.test[1])}
    if run.method == "ftn":
        result["delta_norms"] = model.delta_norms(0)
    ckpt.clear()
    return result, {"task": tensors}


# --- ViT runs -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ViTProtocol(_RunProtocol):
    """Optimiser and sizes of the ViT runs of one profile (:data:`VIT_PROTOCOLS`): AdamW with a cosine schedule
    after ``warmup`` steps, gradient-norm clipping, ``lr`` per method."""

    steps: int
    lr: tuple[tuple[str, float], ...]
    batch_size: int
    warmup: int = 0
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    train_per_class: int | None = None
    val_per_class: int | None = None
    test_per_class: int | None = None
    epochs: int | None = None

    METHODS: ClassVar[tuple[str, ...]] = VIT_METHODS

    def __post_init__(self):
        self._check_schedule()


#: ``paper``: ch2 Sec. 4.1.2 (lr 5e-6 for every method, batch 64, 100 epochs). ``embedded``: the shipped tiny CLIP
#: at 32×32, 50 training images per class, 50 steps of batch 32, learning rates per method from the pilot on the
#: validation split at 60 steps (``book/pilots/ch2_learning_rates.json``; 5e-6 does not move a model this small;
#: the adapters' best rates were at the top of the grid).
VIT_PROTOCOLS: dict[str, ViTProtocol] = {
    "paper": ViTProtocol(steps=1, epochs=100, lr=tuple((m, 5e-6) for m in VIT_METHODS), batch_size=64),
    "embedded": ViTProtocol(steps=50, lr=(("linear_probe", 1e-2), ("ft", 3e-4), ("lora_qv", 1e-2),
                                          ("ftn_qv", 1e-2), ("ftn_o", 1e-2)),
                            batch_size=32, warmup=3, train_per_class=50, val_per_class=20, test_per_class=50),
    "smoke": ViTProtocol(steps=3, lr=(("linear_probe", 1e-2), ("ft", 3e-4), ("lora_qv", 1e-2), ("ftn_qv", 1e-2),
                                      ("ftn_o", 1e-2)), batch_size=16, warmup=1, train_per_class=5, val_per_class=3,
                         test_per_class=4),
}


@dataclass(frozen=True)
class ViTRun:
    """One ViT run: a dataset, a method, rank and α (adapters), a seed, the protocol and the CLIP weights' id."""

    dataset: str
    method: str
    rank: int = 4
    alpha: float | None = None
    seed: int = 0
    profile: str = "embedded"
    protocol: ViTProtocol = VIT_PROTOCOLS["embedded"]
    weights: str = ""

    def __post_init__(self):
        check_profile(self.profile)
        check_method(self.method, VIT_METHODS)
        ftn.check_rank(self.rank)
        if self.alpha is not None:
            ftn.check_alpha(self.alpha)
        if self.method in ftn.ATTENTION_VARIANTS and self.rank < 1:
            raise ValueError(f"{self.method} needs rank ≥ 1; got rank={self.rank}")
        check_int_range(self.seed, "seed", 0)

    kind = "ch2_vit"

    def config(self) -> dict:
        return dataclasses.asdict(self)

    def label(self) -> str:
        return f"{self.dataset} {self.method} seed {self.seed}"


class LinearHead(nn.Module):
    """logits = s · normalize(z) Vᵀ, initialised to the zero-shot classifier: V the unit class embeddings, s CLIP's
    logit scale (fixed). Only V trains: with unit rows its entries are on the scale an optimiser's steps are (the
    scaled embeddings s·e_c would move by a tenth as much relative to their size), so a few hundred steps can move
    it."""

    def __init__(self, weight: Tensor):
        super().__init__()
        scale = weight.detach().norm(dim=1).mean()
        self.register_buffer("scale", scale.clone())
        self.weight = nn.Parameter(weight.detach() / scale)

    def forward(self, z: Tensor) -> Tensor:
        return self.scale * F.normalize(z, dim=-1) @ self.weight.t()


def vit_model(run: ViTRun, encoder: nn.Module, head_weight: Tensor) -> tuple[nn.Module, list[nn.Parameter], dict]:
    """(classifier, trainable parameters, counts) of a ViT run from a fresh copy of the image encoder."""
    head = LinearHead(head_weight)
    g = torch.Generator().manual_seed(run.seed)
    if run.method == "ft":
        for p in encoder.parameters():
            p.requires_grad_(True)
        body = list(encoder.parameters())
    elif run.method == "linear_probe":
        for p in encoder.parameters():
            p.requires_grad_(False)
        body = []
    else:
        adapters = ftn.adapt_attention(encoder.visual, run.method, run.rank, run.alpha, generator=g)
        body = [p for a in adapters for p in a.parameters()]
    model = nn.ModuleDict({"encoder": encoder, "head": head})
    counts = {"adapter": int(sum(p.numel() for p in body)), "head": head.weight.numel()}
    return model, body + [head.weight], counts


def vit_input(x: Tensor) -> Tensor:
    """The image tower's input: uint8 images (embedded) → floats in [0, 1]; streamed images already are."""
    return x.float().div(255) if x.dtype == torch.uint8 else x


def load_vit_paper_splits(name: str, root: str | None, bundle, workers: int = 8) -> StreamedSplits:
    """A Table 3 dataset for ``paper``: open_clip's evaluation transform at the tower's size (no normalisation: the
    :class:`~paperlib.models.clip.ImageEncoder` does it) for every split, as the task-arithmetic chapters load them;
    no augmentation (the paper states none)."""
    from .clip_tasks import task_data
    splits = {s: task_data(name, s, "paper", bundle, root) for s in ("train", "val", "test")}
    return StreamedSplits(name, len(splits["train"].classnames), splits["train"], splits["val"], splits["test"],
                          workers)


def compute_vit(run: ViTRun, data: DomainSplits | StreamedSplits, bundle, head_weight: Tensor, *,
                device: str = "cpu", progress: bool = False, checkpoint_seconds: float = 60.0,
                stop_after: int | None = None) -> tuple[dict, dict]:
    """Train and evaluate a ViT run (``data``: uint8 images at the tower's size, or streamed for ``paper``;
    ``head_weight``: the zero-shot head). Returns the result (test/val accuracy %, the zero-shot accuracy for the
    linear probe, trainable counts, loss curve, seconds) and the artifacts (``trained``: the trained tensors:
    adapters and head, or the whole tower for ``ft``)."""
    p = run.protocol
    streamed = isinstance(data, StreamedSplits)
    workers = data.workers if streamed else 0
    torch.manual_seed(run.seed)
    encoder = bundle.image_encoder()
    model, params, counts = vit_model(run, encoder, head_weight)
    model.to(device)
    enc, head = model["encoder"], model["head"]
    steps = steps_of(p, data)

    def forward(x: Tensor) -> Tensor:
        return head(enc(x))

    def acc(split) -> float:
        enc.eval()
        return evaluate(forward, split, device, prepare=vit_input, workers=workers)

    start = time.perf_counter()
    initial = acc(data.test) if run.method == "linear_probe" else None  # the zero-shot classifier, its start
    lr = p.lr_of(run.method)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=p.weight_decay)
    ckpt = Checkpoint(run.kind, run.config())
    step0, losses = 0, []
    if (saved := ckpt.load()) is not None:
        tensors, state = saved
        model.load_state_dict({k[6:]: v.to(device) for k, v in tensors.items() if k.startswith("model.")})
        load_optimizer_tensors(opt, tensors, state["optimizer"])
        step0, losses = state["step"], state["losses"]
    cached = run.method == "linear_probe" and not streamed
    if cached:  # a frozen tower without dropout or BN: its features never change
        enc.eval()
        x = data.train[0]
        with torch.no_grad():
            feats = torch.cat([enc(vit_input(x[i:i + 500]).to(device)) for i in range(0, len(x), 500)])
    if streamed:
        batches = iter(step_loader(data.train, p.batch_size, run.seed, step0, steps, workers=workers,
                                   pin_memory=device.startswith("cuda")))
    last = time.perf_counter()
    for step in tqdm(range(step0, steps), desc=run.label(), leave=False, disable=not progress):
        for group in opt.param_groups:
            group["lr"] = cosine_lr(step, lr, p.warmup, steps)
        if streamed:
            xb, yb = (t.to(device, non_blocking=True) for t in next(batches))
        else:
            idx = batch_indices(len(data.train[1]), p.batch_size, run.seed, step)
            xb, yb = data.train[0][idx], data.train[1][idx].to(device)
        if cached:
            logits = head(feats[idx])
        else:
            enc.train()
            with _autocast(device):
                logits = forward(vit_input(xb).to(device))
        loss = F.cross_entropy(logits.float(), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, p.grad_clip)
        opt.step()
        losses.append(float(loss.detach()))
        if not math.isfinite(losses[-1]):
            raise FloatingPointError(f"{run.label()}: the loss diverged at step {step + 1}; lower lr[{run.method!r}]")
        done = step + 1
        if done < steps and (time.perf_counter() - last >= checkpoint_seconds or done == stop_after):
            opt_t, opt_s = optimizer_tensors(opt)
            ckpt.save({**{f"model.{k}": v for k, v in model.state_dict().items()}, **opt_t},
                      {"step": done, "losses": losses, "optimizer": opt_s})
            last = time.perf_counter()
        if done == stop_after:
            return {"stopped": done}, {}
    trained = {n: v.detach().cpu().clone() for n, v in model.named_parameters() if v.requires_grad}
    result = {"acc": acc(data.test), "val_acc": acc(data.val), "zero_shot_acc": initial, **counts, "steps": steps,
              "loss": [float(np.mean(losses[i:i + 10])) for i in range(0, len(losses), 10)],
              "seconds": time.perf_counter() - start,
              "n_test": len(data.test) if streamed else len(data.test[1])}
    ckpt.clear()
    return result, {"trained": trained}


__all__ = ["CONV_METHODS", "CONV_PROTOCOLS", "ConvProtocol", "ConvRun", "DomainSplits", "VIT_METHODS",
           "LinearHead", "ViTProtocol", "ViTRun", "VIT_PROTOCOLS", "batch_indices", "build_model", "check_method",
           "compute_conv", "compute_vit", "evaluate", "load_paper_splits", "load_splits",
           "load_vit_paper_splits", "steps_of", "StreamedSplits", "to_input", "train_size", "vit_input", "vit_model"]
