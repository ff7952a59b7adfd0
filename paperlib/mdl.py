"""Multi-domain learning from scratch: the training protocol of chapter 4 (Secs. 3.1–3.5, supplement S1).

One run trains a :class:`~paperlib.models.resnet_cifar.MultiDomainNet` (ResNet-32 trunk at a width,
one head per domain) on one domain (an *independent*, single-domain model) or on several jointly,
with a loss weighting of :mod:`paperlib.weighting`, then records what the chapter's metrics need:
each domain's per-sample test correctness (for PerfGain / Interference / Transfer, ch4 Eqs. (2)–(3)) and,
for single-domain models, the trunk's features on the fixed probe set (for CKA, Sec. 3.4).

Protocol (S1), per profile in :data:`PROTOCOLS`:

* SGD, momentum 0.9, weight decay 1e-4, initial learning rate 0.1, batch 128; single-domain models
  250 epochs with ×0.1 at epochs 140 and 210, multi-domain models 300 epochs with ×0.1 at 150 and 250.
* Mixed batches (Sec. 3.3): the domains' training sets are pooled and shuffled together each epoch, so
  a batch may hold any domain; each sample's loss comes from its own domain's head (ch4 Eq. (1)).
* Loss weighting (Sec. 3.2): the per-domain mean cross-entropies of the batch are combined by the
  weighting; Uncertainty's ε are trained by the same SGD, without weight decay (they are not weights).
* ``embedded`` and ``smoke`` scale the schedule down with the same shape: the epochs of multi-domain
  runs are 300/250 of the single-domain ones and the decays sit at the same fractions of training
  (:meth:`MDLProtocol.schedule`).

Readings where S1 is silent (also in the chapter): no data augmentation (none is mentioned); pixels are
mapped to [−1, 1] for every domain (no per-domain statistics, so single and joint models see the same
inputs); the last incomplete batch of an epoch is dropped (every step then holds a full batch, which
CoV's per-domain loss statistics need); Uncertainty's ε start at 1.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from .config import cache_dir, check_choice, check_int_range, check_lr, check_profile, loader_workers
from .data import get_dataset
from .metrics import accuracy, correct
from .models.resnet_cifar import DEPTHS, WIDTHS, MultiDomainNet, channels, count_parameters
from .store import (
    Checkpoint,
    artifact_path,
    cached_result,
    cached_tensors,
    content_key,
    load_optimizer_tensors,
    load_scheduler_state,
    load_tensors,
    optimizer_tensors,
    scheduler_state,
    store_run,
)
from .weighting import WEIGHTINGS, make_weighting

#: The paper's epochs: single-domain 250 (decays at 140, 210), multi-domain 300 (decays at 150, 250) (S1).
PAPER_SINGLE = (250, (140, 210))
PAPER_MULTI = (300, (150, 250))


@dataclass(frozen=True)
class MDLProtocol:
    """Optimiser, schedule and data sizes of chapter 4's runs (S1; :data:`PROTOCOLS` per profile).

    ``single_epochs`` sets the length; :meth:`schedule` derives the multi-domain length and every decay
    from the paper's ratios. ``train_per_class`` / ``test_per_class`` are images per class of the
    embedded domains (``None``: the paper datasets' full splits); ``probe_per_class`` test images per
    class per domain make the CKA probe set (Sec. 3.4: 50).
    """

    single_epochs: int = PAPER_SINGLE[0]
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    batch_size: int = 128
    gamma: float = 0.1
    image_size: int = 32
    train_per_class: int | None = None
    test_per_class: int | None = None
    probe_per_class: int = 50

    def __post_init__(self):
        check_int_range(self.single_epochs, "single_epochs", 1, 10_000)
        check_int_range(self.batch_size, "batch_size", 2, 65_536)
        check_int_range(self.image_size, "image_size", 8, 1024)
        check_int_range(self.probe_per_class, "probe_per_class", 1)
        for name in ("train_per_class", "test_per_class"):
            if getattr(self, name) is not None:
                check_int_range(getattr(self, name), name, 1, 100_000)
        check_lr(self.lr)
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum={self.momentum!r} is out of range; allowed: [0, 1)")
        if not 0 <= self.weight_decay < 1:
            raise ValueError(f"weight_decay={self.weight_decay!r} is out of range; allowed: [0, 1)")
        if not 0 < self.gamma <= 1:
            raise ValueError(f"gamma={self.gamma!r} is out of range; allowed: (0, 1]")

    def schedule(self, n_domains: int) -> tuple[int, tuple[int, ...]]:
        """(epochs, decay epochs) for a model of ``n_domains`` domains (S1, scaled with the same shape).

        At ``single_epochs`` = 250 this is exactly the paper's: (250, (140, 210)) for one domain and
        (300, (150, 250)) for two or more. Otherwise epochs and decays are rounded from the same ratios.
        """
        check_int_range(n_domains, "number of domains", 1)
        epochs, milestones = PAPER_SINGLE if n_domains == 1 else PAPER_MULTI
        scale = self.single_epochs / PAPER_SINGLE[0]
        total = max(1, round(epochs * scale))
        return total, tuple(min(total, max(1, round(m * scale))) for m in milestones)


#: Per profile. ``embedded`` (2-core CPU, about 12 min for the chapter's grid at one seed): 16×16 images,
#: 40 training and 50 test images per class, batch 32 at lr 0.025 (the paper's 0.1 at batch 128, scaled
#: linearly), 4 single-domain epochs (5 joint); ``smoke`` is a few steps per model. The reasons are in the
#: chapter's "Protocol" section.
PROTOCOLS: dict[str, MDLProtocol] = {
    "paper": MDLProtocol(),
    "embedded": MDLProtocol(single_epochs=4, lr=0.025, batch_size=32, image_size=16, train_per_class=40,
                            test_per_class=50, probe_per_class=50),
    "smoke": MDLProtocol(single_epochs=1, lr=0.025, batch_size=32, image_size=16, train_per_class=8,
                         test_per_class=6, probe_per_class=6),
}


# --- Data --------------------------------------------------------------------------------------------

@dataclass
class DomainData:
    """One domain's training and test images (uint8, N×3×H×W) and labels, and its probe indices."""

    name: str
    n_classes: int
    train_x: Tensor
    train_y: Tensor
    test_x: Tensor
    test_y: Tensor
    probe: Tensor  # indices into the test set: the first ``probe_per_class`` of each class

    def __post_init__(self):
        for split in ("train", "test"):
            x, y = getattr(self, f"{split}_x"), getattr(self, f"{split}_y")
            if x.dtype != torch.uint8 or x.ndim != 4 or len(x) != len(y) or len(x) == 0:
                raise ValueError(f"{self.name} {split}: need a non-empty uint8 (N, C, H, W) tensor and N labels; "
                                 f"got {x.dtype} {tuple(x.shape)} and {tuple(y.shape)}")


def probe_indices(labels: Tensor, n_classes: int, per_class: int) -> Tensor:
    """The first ``per_class`` test samples of each class, class by class (Sec. 3.4's fixed probe set)."""
    out = [(labels == c).nonzero().flatten()[:per_class] for c in range(n_classes)]
    short = [c for c, idx in enumerate(out) if len(idx) < per_class]
    if short:
        raise ValueError(f"the probe set needs {per_class} test images of every class; classes {short} have fewer")
    return torch.cat(out)


def _paper_tensors(name: str, split: str, protocol: MDLProtocol, root: str | None) -> dict[str, Tensor]:
    """A paper dataset's split as uint8 tensors (decoded once, then cached under ``<cache>/data``).

    ``train`` is the union of the registry's train and held-out val parts: ch4 Sec. 3.3 trains on
    the whole official training set (50,000 images per domain) and names no validation split.
    """
    def to_uint8(img):
        return torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1)

    parts = ("train", "val") if split == "train" else ("test",)
    sets = [get_dataset(name, p, "paper", root, image_size=protocol.image_size, transform=to_uint8) for p in parts]
    spec = dict(name=name, split=split, size=protocol.image_size, n=[len(s) for s in sets], kind="ch4")
    path = cache_dir() / "data" / f"{name}-{split}-ch4-{content_key(spec)}.safetensors"

    def build():
        workers = loader_workers(min(8, os.cpu_count() or 1))
        loader = torch.utils.data.DataLoader(torch.utils.data.ConcatDataset(sets), batch_size=512, num_workers=workers)
        xs, ys = zip(*[(x, y) for x, y in tqdm(loader, desc=f"decoding {name} {split}", leave=False)])
        return {"images": torch.cat(xs), "labels": torch.cat(ys).long()}

    return cached_tensors(path, build, metadata={k: str(v) for k, v in spec.items()})[0]


def load_domain(name: str, profile: str, protocol: MDLProtocol, data_root: str | None = None) -> DomainData:
    """Training and test data of one domain for ``profile`` (embedded: generated; paper: from ``data_root``)."""
    check_profile(profile)
    if profile == "paper":
        tr, te = (_paper_tensors(name, s, protocol, data_root) for s in ("train", "test"))
        train_x, train_y, test_x, test_y = tr["images"], tr["labels"], te["images"], te["labels"]
        n_classes = int(max(train_y.max(), test_y.max())) + 1
    else:
        tr = get_dataset(name, "train", profile, n_per_class=protocol.train_per_class, image_size=protocol.image_size)
        te = get_dataset(name, "test", profile, n_per_class=protocol.test_per_class, image_size=protocol.image_size)
        (train_x, train_y), (test_x, test_y) = (tr.images, tr.labels), (te.images, te.labels)
        n_classes = tr.n_classes
    return DomainData(name, n_classes, train_x, train_y, test_x, test_y,
                      probe_indices(test_y, n_classes, protocol.probe_per_class))


def to_input(images: Tensor, device: str | torch.device = "cpu") -> Tensor:
    """uint8 images → float inputs in [−1, 1] (our reading: the paper states no normalization)."""
    return images.to(device, non_blocking=True).float().div_(127.5).sub_(1.0)


# --- One run -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunSpec:
    """Everything that defines one chapter-4 model (and so its run-cache key)."""

    domains: tuple[str, ...]
    width: float
    weighting: str
    seed: int
    protocol: MDLProtocol
    profile: str
    depth: int = 32

    def __post_init__(self):
        check_profile(self.profile)
        if not self.domains or len(set(self.domains)) != len(self.domains):
            raise ValueError(f"domains={list(self.domains)}: give one or more distinct domains")
        check_choice(self.weighting, WEIGHTINGS, "loss weighting")
        if len(self.domains) == 1 and self.weighting != "uniform":
            raise ValueError(f"a single-domain model has one loss; weighting {self.weighting!r} needs 2 or more "
                             "domains (use 'uniform')")
        channels(self.width)
        check_choice(self.depth, tuple(DEPTHS), "ResNet depth")
        check_int_range(self.seed, "seed", 0)

    @property
    def kind(self) -> str:
        return "ch4_single" if len(self.domains) == 1 else "ch4_joint"

    def config(self) -> dict:
        return dict(dataclasses.asdict(self), domains=list(self.domains))

    def label(self) -> str:
        return f"{'+'.join(self.domains)} w{self.width:g} {self.weighting} seed {self.seed}"


def _epoch_order(n: int, seed: int, epoch: int) -> Tensor:
    """The shuffled order of epoch ``epoch`` (a fixed function of seed and epoch, so resuming needs no RNG state)."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g)


def train(spec: RunSpec, data: Sequence[DomainData], *, device: str = "cpu", checkpoint: Checkpoint | None = None,
          checkpoint_seconds: float = 60.0, stop_after_epoch: int | None = None,
          progress: bool = False) -> tuple[MultiDomainNet, dict]:
    """Train the model of ``spec`` on ``data`` (one :class:`DomainData` per domain, in ``spec.domains`` order).

    Resumes from ``checkpoint`` when it holds a state of this run; saves one at the end of an epoch
    whenever ``checkpoint_seconds`` have passed since the last save. ``stop_after_epoch`` stops early
    (for tests of resuming). Returns the model (eval mode) and its history: per epoch, the mean
    per-domain losses, the mean loss weights λ_t and the learning rate it used.
    """
    if [d.name for d in data] != list(spec.domains):
        raise ValueError(f"data for {[d.name for d in data]} given to a run on {list(spec.domains)}")
    p = spec.protocol
    torch.manual_seed(spec.seed)
    model = MultiDomainNet([d.n_classes for d in data], spec.depth, spec.width).to(device)
    weighting = make_weighting(spec.weighting, len(data)).to(device)
    groups = [dict(params=list(model.parameters()), weight_decay=p.weight_decay)]
    extra = [q for q in weighting.parameters()]
    if extra:
        groups.append(dict(params=extra, weight_decay=0.0))
    optimizer = torch.optim.SGD(groups, lr=p.lr, momentum=p.momentum)
    epochs, milestones = p.schedule(len(data))
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, list(milestones), gamma=p.gamma)

    # the pooled training set lives on the device (uint8: 150 MB for the paper's 2 × 50,000 images)
    x = torch.cat([d.train_x for d in data]).to(device)
    y = torch.cat([d.train_y for d in data]).to(device)
    dom = torch.cat([torch.full((len(d.train_y),), t, dtype=torch.long) for t, d in enumerate(data)]).to(device)
    steps = len(x) // p.batch_size
    if steps == 0:
        raise ValueError(f"batch_size={p.batch_size} exceeds the {len(x)} training images of {spec.label()}")

    history: dict[str, list] = {"loss": [], "weights": [], "lr": []}
    start = 0
    if checkpoint is not None and (saved := checkpoint.load()) is not None:
        tensors, state = saved
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        weighting.load_state_dict({k[10:]: v for k, v in tensors.items() if k.startswith("weighting.")})
        load_optimizer_tensors(optimizer, tensors, state["optimizer"])
        load_scheduler_state(scheduler, state["scheduler"])
        history, start = state["history"], state["epoch"]
    last_save = time.perf_counter()
    bar = tqdm(range(start, epochs), desc=spec.label(), leave=False, disable=not progress)
    for epoch in bar:
        model.train()
        weighting.train()
        order = _epoch_order(len(x), spec.seed, epoch).to(device)
        loss_sum = torch.zeros(len(data), device=device)
        weight_sum = torch.zeros(len(data), device=device)
        for s in range(steps):
            idx = order[s * p.batch_size:(s + 1) * p.batch_size]
            xb, yb, db = to_input(x[idx], device), y[idx], dom[idx]
            losses = model.domain_losses(model(xb, db), yb, db)
            total = weighting(losses)
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
            loss_sum += losses.detach()
            weight_sum += weighting.last_weights
        history["loss"].append((loss_sum / steps).tolist())
        history["weights"].append((weight_sum / steps).tolist())
        history["lr"].append(optimizer.param_groups[0]["lr"])  # the rate this epoch used
        scheduler.step()
        if not np.isfinite(history["loss"][-1]).all():
            raise FloatingPointError(f"{spec.label()}: the loss diverged in epoch {epoch + 1} "
                                     f"({history['loss'][-1]}); lower the learning rate")
        bar.set_postfix(loss=f"{float(np.mean(history['loss'][-1])):.3f}")
        done = epoch + 1
        if checkpoint is not None and done < epochs and (
                time.perf_counter() - last_save >= checkpoint_seconds or done == stop_after_epoch):
            opt_tensors, opt_state = optimizer_tensors(optimizer)
            tensors = {**{f"model.{k}": v for k, v in model.state_dict().items()},
                       **{f"weighting.{k}": v for k, v in weighting.state_dict().items()}, **opt_tensors}
            checkpoint.save(tensors, dict(epoch=done, history=history, optimizer=opt_state,
                                          scheduler=scheduler_state(scheduler)))
            last_save = time.perf_counter()
        if done == stop_after_epoch:
            break
    model.eval()
    return model, history


@torch.no_grad()
def predict(model: MultiDomainNet, images: Tensor, domain: int, *, device: str = "cpu",
            batch_size: int = 1000) -> tuple[Tensor, Tensor]:
    """(predicted labels, trunk features) of ``images`` through the trunk and domain ``domain``'s head."""
    model.eval()
    preds, feats = [], []
    for i in range(0, len(images), batch_size):
        f = model.trunk(to_input(images[i:i + batch_size], device))
        preds.append(model.heads[domain](f).argmax(-1).cpu())
        feats.append(f.cpu())
    return torch.cat(preds), torch.cat(feats)


def bits(mask: Tensor) -> str:
    """A boolean vector as a string of 0/1 (how per-sample correctness is stored in JSON results)."""
    return "".join("1" if b else "0" for b in mask.tolist())


def unbits(s: str) -> Tensor:
    """Inverse of :func:`bits`."""
    return torch.tensor([c == "1" for c in s], dtype=torch.bool)


def probe_images(data: Sequence[DomainData]) -> Tensor:
    """Sec. 3.4's fixed probe set: the probe test images of every domain, domain by domain."""
    return torch.cat([d.test_x[d.probe] for d in data])


def run_artifacts(spec: RunSpec) -> tuple[str, ...]:
    """The artifacts :func:`run` stores beside a run's result."""
    return ("model", "probe") if spec.kind == "ch4_single" else ("model",)


def compute(spec: RunSpec, data: dict[str, DomainData], *, device: str = "cpu", probe: Tensor | None = None,
            progress: bool = False) -> tuple[dict, dict[str, dict[str, Tensor]]]:
    """Train and evaluate the model of ``spec`` without writing the run cache (it may run on a Dask worker
    on another machine; its resumable checkpoint is that machine's). Returns the JSON result and the
    artifacts :func:`run` stores: the weights (``model``) and, for single-domain runs, the trunk features
    on ``probe`` (``probe``, key ``features``), for CKA.

    Result: ``parameters`` (trunk), ``history``, and per domain ``acc`` (%), ``correct`` (0/1 per test
    sample, :func:`unbits`).
    """
    if spec.kind == "ch4_single" and probe is None:
        raise ValueError("single-domain runs need the probe images (probe_images(...)) for CKA")
    model, history = train(spec, [data[n] for n in spec.domains], device=device,
                           checkpoint=Checkpoint(spec.kind, spec.config()), progress=progress)
    out = {"parameters": count_parameters(model.trunk), "history": history, "domains": {}}
    for t, name in enumerate(spec.domains):
        d = data[name]
        pred, _ = predict(model, d.test_x, t, device=device)
        out["domains"][name] = {"acc": accuracy(pred, d.test_y), "correct": bits(correct(pred, d.test_y)),
                                "n": len(pred)}
    artifacts = {"model": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    if spec.kind == "ch4_single":
        artifacts["probe"] = {"features": predict(model, probe, 0, device=device)[1]}
    Checkpoint(spec.kind, spec.config()).clear()
    return out, artifacts


def run(spec: RunSpec, data: dict[str, DomainData], *, device: str = "cpu", probe: Tensor | None = None,
        progress: bool = False) -> dict:
    """The result of :func:`compute` through the run cache: loaded when stored, else computed here and
    stored with its artifacts (``<key>.model.safetensors``, ``<key>.probe.safetensors``)."""
    hit = cached_result(spec.kind, spec.config(), artifacts=run_artifacts(spec))
    if hit is not None:
        return hit[0]
    start = time.perf_counter()
    out, artifacts = compute(spec, data, device=device, probe=probe, progress=progress)
    return store_run(spec.kind, spec.config(), out, artifacts, seconds=time.perf_counter() - start)


def probe_features(spec: RunSpec) -> Tensor:
    """The stored probe features of a finished single-domain run."""
    if cached_result(spec.kind, spec.config(), artifacts=("probe",)) is None:
        raise FileNotFoundError(f"run {spec.label()} has not been computed (or its stored files are damaged): "
                                "run it again")
    return load_tensors(artifact_path(spec.kind, spec.config(), "probe"))["features"]


__all__ = ["DomainData", "MDLProtocol", "PROTOCOLS", "RunSpec", "bits", "compute", "load_domain", "predict",
           "probe_features", "probe_images", "probe_indices", "run", "run_artifacts", "to_input", "train",
           "unbits", "WIDTHS"]
