"""What the ``paper`` profile costs: the training steps of every chapter's full paper protocol, the measured
speed of each paper architecture, and the GPU-hours that follow (``make bench``; the book's appendix).

**Step counts** (:func:`paper_parts`) are computed from the chapters' own ``paper`` configs and protocols
(:func:`paper_config` builds each chapter's validated config without looking for the datasets), with the
chapters' own rules: ch1 Sec. 5.1's epochs per target turned into iterations by
:func:`paperlib.sequential.iterations_per_task`, its sequences planned by
:class:`paperlib.sequential.SequenceSpec` (so Table 4's 24 orders share their trained prefixes as the
:class:`~paperlib.sequential.Sequencer` shares them); ch2's runs by ``steps_for`` of its run protocols (TAPS's 30
epochs of 32 × 8 images; Sec. 4.1.2's 100 epochs of 64); ch3's by :func:`paperlib.smooth.run_steps` (A.1/A.2
budgets) with the TPE trial counts of footnote 2 / A.1–A.2 (:data:`paperlib.reference.CH3_TEXT`); ch4's by
:meth:`paperlib.mdl.MDLProtocol.schedule` (S1: 250 and 300 epochs of batch 128); ch5's by the fine-tuning
protocol (Appendix A: 2,000 iterations of batch 128) over its settings, seeds and tasks. A *part* is one group
of runs on one architecture (:class:`Part`): its runs, optimiser steps, training images, and the images its
evaluations push through the network (forward only) where they are a visible share of the work (ch1, ch3, ch5).

**Dataset sizes** the step counts need are in :data:`TRAIN_SIZES`. Those of the task-arithmetic, ch2-ViT and ch3
datasets are the registry's splits (each number is in the dataset's protocol string in
:mod:`paperlib.data.real`, which a test checks); ch4 trains on the whole 50,000 training images per domain (ch4
Sec. 3.3, :func:`paperlib.mdl.load_domain`). ImageNet-to-Sketch and DomainNet (ch2 Tables 1–2) are not sized
anywhere in the papers or the repository: their sizes are the benchmarks' own list files (Piggyback, Mallya et
al. 2018; DomainNet's cleaned lists, Peng et al. 2019), marked ``external`` in :data:`TRAIN_SIZES`.

**Speed** (:func:`measure_arch`): images per second of one training step (forward, backward, optimiser step, as
the chapter trains it, on random images) and of a forward pass (evaluation), per architecture
(:data:`ARCHS`), on the CPU at a small batch and, where there is a GPU, at the paper's batch (bf16 autocast
where the chapter's own code uses it: chapter 2's runs; chapters 3 and 4 train in fp32). ViT-B/32's three
paradigms come from the paradigm benchmark (:func:`paperlib.bench.run`, ``linearization.json``).

**GPU-hours** (:func:`chapter_costs`): Σ over a chapter's parts of training images ÷ training images/s +
evaluation images ÷ forward images/s, on one GPU. Without a GPU measurement the column says so; the same sum
at the 2-core CPU's measured speed is shown for scale only.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F

from .store import atomic_path, atomic_write_json
from .timing import machine, measured, sync, time_steps

#: What a cost needs that is not measured: the GPU rows of a session without a GPU say this.
NOT_MEASURED = "not measured (no GPU in this session)"

#: Training-split sizes (after the registry's held-out validation, where the chapter holds one out) and, for the
#: evaluation counts, validation and test sizes: dataset → (train, val, test, source). ``external``: not in the
#: papers or the repository, from the benchmark's own release (the module docstring).
TRAIN_SIZES: dict[str, tuple[int, int | None, int | None, str]] = {
    # paperlib.data.real protocol strings (Ilharco et al.'s splits; ch1 Sec. 4, ch5 Appendix A)
    "EuroSAT": (21_600, 2_700, 2_700, "paperlib.data.real (Ilharco et al.'s splits)"),
    "RESISC45": (17_010, 1_890, 6_300, "paperlib.data.real (Ilharco et al.'s splits)"),
    "Cars": (7_330, 814, 8_041, "paperlib.data.real (Ilharco et al.'s splits)"),
    "DTD": (3_384, 376, 1_880, "paperlib.data.real (Ilharco et al.'s splits)"),
    "GTSRB": (23_976, 2_664, 12_630, "paperlib.data.real (Ilharco et al.'s splits)"),
    "MNIST": (55_000, 5_000, 10_000, "paperlib.data.real (Ilharco et al.'s splits)"),
    "SUN397": (17_865, 1_985, 19_850, "paperlib.data.real (Ilharco et al.'s splits)"),
    "SVHN": (68_257, 5_000, 26_032, "paperlib.data.real (Ilharco et al.'s splits)"),
    # ch2 Table 3's datasets (ch2 Sec. 4.1.2), paperlib.data.real
    "CIFAR10": (45_000, 5_000, None, "paperlib.data.real"),
    "CIFAR100": (45_000, 5_000, None, "paperlib.data.real"),
    "STL10": (4_500, 500, 8_000, "paperlib.data.real"),
    "FER2013": (28_709, 3_589, 3_589, "paperlib.data.real (official splits)"),
    # ch2 Table 1 (ImageNet-to-Sketch): the benchmark's train/test folders (Piggyback) -- external
    "ImageNetToSketch:flowers": (2_040, None, 6_149, "external: Piggyback (Mallya et al. 2018) train/test"),
    "ImageNetToSketch:wikiart": (42_129, None, 10_628, "external: Piggyback (Mallya et al. 2018) train/test"),
    "ImageNetToSketch:sketch": (16_000, None, 4_000, "external: Piggyback (Mallya et al. 2018) train/test"),
    "ImageNetToSketch:cars": (8_144, None, 8_041, "external: Piggyback (Mallya et al. 2018) train/test"),
    "ImageNetToSketch:cub": (5_994, None, 5_794, "external: Piggyback (Mallya et al. 2018) train/test"),
    # ch2 Table 2 (DomainNet, cleaned lists) -- external; totals 409,832 train / 176,743 test
    "DomainNet:clipart": (33_525, None, 14_604, "external: DomainNet clipart_train/test.txt (Peng et al. 2019)"),
    "DomainNet:infograph": (36_023, None, 15_582, "external: DomainNet infograph_train/test.txt"),
    "DomainNet:painting": (50_416, None, 21_850, "external: DomainNet painting_train/test.txt"),
    "DomainNet:quickdraw": (120_750, None, 51_750, "external: DomainNet quickdraw_train/test.txt"),
    "DomainNet:real": (120_906, None, 52_041, "external: DomainNet real_train/test.txt"),
    "DomainNet:sketch": (48_212, None, 20_916, "external: DomainNet sketch_train/test.txt"),
}
#: ch4 Sec. 3.3: every domain trains on its whole training set of 100 classes × 500 images
#: (:func:`paperlib.mdl.load_domain` joins the registry's train and val parts).
CH4_TRAIN = 50_000


def train_size(name: str) -> int:
    """The training images a chapter's run sees per epoch of ``name``: the registry's train part, which for a
    dataset with a held-out validation split (``min(10 %, 5000)``) is the listed size minus it."""
    from .data.real import PAPER_DATASETS, heldout_size
    n, val, _, _ = TRAIN_SIZES[name]
    if val is None and name in PAPER_DATASETS and PAPER_DATASETS[name].split_kind == "heldout":
        return n - heldout_size(n)
    return n


# --- the papers' own statements of their compute ---------------------------------------------------------

#: chapter → (what the paper says about its compute, where), or ``None`` where it says nothing.
PAPER_COMPUTE: dict[str, tuple[str, str] | None] = {
    "ch1": None,
    "ch2": ("hardware only, no hours: \"All experiments are run on a single NVIDIA GeForce RTX 2080 Ti GPU with "
            "12GB memory\"", "ch2 Sec. 4 (opening paragraph)"),
    "ch3": None,
    "ch4": None,
    "ch5": ("\"four 3090 NVIDIA GPUs with 24GB of memory each which can be reproduced in less than 150 GPU "
            "hours\" (all of the paper's experiments, ViT-B/16 and ViT-L/14 included)", "ch5 Appendix A"),
}
#: What a paper that states no compute does say about its cost, if anything (shown beside "states nothing").
PAPER_COMPUTE_NOTES: dict[str, str] = {
    "ch1": "ch1 Sec. 6 says only that tangent linearization and PCGrad \"introduce increased computational "
           "complexity\"",
    "ch3": "ch3 Appendix A.1–A.3 give epochs, batches and trial counts, no hardware or time",
    "ch4": "ch4 Supplement S1 gives epochs, batch and learning rates, no hardware or time",
}


# --- the chapters' paper configs ----------------------------------------------------------------------------

def paper_config(chapter: str):
    """A chapter's validated ``paper`` config at its defaults, built without the check that its datasets are on
    disk (a cost needs the protocol, not the images)."""
    from .chapters.kit import Config
    if chapter == "ch1":
        from .chapters.ch1_sequential_tangent_pcgrad.config import Ch1Config as cls
    elif chapter == "ch2":
        from .chapters.ch2_factorized_tensor_networks.config import Ch2Config as cls
    elif chapter == "ch3":
        from .chapters.ch3_smooth_transfer.config import Ch3Config as cls
    elif chapter == "ch4":
        from .chapters.ch4_transfer_vs_interference.config import Ch4Config as cls
    elif chapter == "ch5":
        from .chapters.ch5_linear_layers_task_arithmetic.config import Ch5Config as cls
    else:
        raise ValueError(f"chapter={chapter!r}; allowed: {CHAPTERS}")
    values = {"profile": "paper"}
    for p in cls.PARAMS.params[1:]:
        values[p.name] = p.resolve(None, "paper")
    return cls.from_config(Config(values))


CHAPTERS = ("ch1", "ch2", "ch3", "ch4", "ch5")


@dataclass(frozen=True)
class Part:
    """One group of a chapter's paper runs on one architecture: ``runs`` runs, ``steps`` optimiser steps and
    ``train_images`` images through a training step (``mode="forward"``: through a forward pass only, e.g. the
    feature extractor's frozen trunk), and ``eval_images`` images through forward-only evaluations."""

    chapter: str
    what: str
    arch: str
    runs: int
    steps: int
    train_images: int
    eval_images: int = 0
    mode: str = "train"
    note: str = ""

    @property
    def images_per_step(self) -> float:
        return self.train_images / self.steps if self.steps else 0.0


# --- chapter 1 ------------------------------------------------------------------------------------------------

def _ch1_sizes(tasks) -> tuple[int, int]:
    return sum(TRAIN_SIZES[t][1] for t in tasks), sum(TRAIN_SIZES[t][2] for t in tasks)


def ch1_parts(curriculum: tuple[str, ...] | None = None) -> list[Part]:
    """Chapter 1's paper protocol: the single-task runs, Table 3's sequences per seed, Table 4's orders, the
    sweeps of Figs. 3–5 and the forgetting trajectory, as :class:`~paperlib.sequential.SequenceSpec` plans them.
    A trained prefix shared by several sequences (same state after the same segments, as the Sequencer keys
    them) and a spec that two parts both ask for count once, in the first part; S-TL's first segment is its
    B-TL single-task run (loaded, not trained). ``curriculum``: Sec. 3.4's order (it depends on the single-task
    results; only which task S-TL loads depends on it): default the targets in Sec. 5.1's order."""
    from .chapters.ch1_sequential_tangent_pcgrad.config import default_methods
    from .finetune import PROTOCOLS
    from .sequential import PAPER_EPOCHS, SequenceSpec, all_orders, iterations_per_task, parse_method

    c = paper_config("ch1")
    its = {t: iterations_per_task(t, "paper", c.iterations, train_size(t), c.batch_size) for t in c.targets}
    proto = PROTOCOLS["paper"]
    cur = tuple(curriculum) if curriculum else tuple(t for t in PAPER_EPOCHS if t in c.targets)
    val_t, _ = _ch1_sizes(c.targets)
    _, test_all = _ch1_sizes(c.tasks)

    def spec(method: str, seed: int, order=cur, lr=None, scale=1.0) -> SequenceSpec:
        scaled = {t: max(1, round(n * scale)) for t, n in its.items()}
        warm = {t: min(scaled[t], round(min(c.warmup, its[t]) * scale)) for t in c.targets}
        m = parse_method(method)
        btl = tuple((t, f"btl-seed{seed}-{t}") for t in c.targets) if m.precalibration is not None else ()
        return SequenceSpec(method=method, order=tuple(order), seed=seed, profile="paper", weights="paper",
                            lr=c.lr if lr is None else lr, batch_size=c.batch_size,
                            weight_decay=proto.weight_decay, grad_clip=proto.grad_clip,
                            iterations=tuple(scaled.items()), warmup=tuple(warm.items()), btl_vectors=btl,
                            eval_tasks=c.tasks)

    trained: set = set()
    specs_seen: set = set()

    def count(specs, what: str, evals_each: int = 1) -> list[Part]:
        """Parts (one per paradigm) for the new segments of ``specs`` and one test evaluation per new spec."""
        by: dict[str, list] = {}
        for s in specs:
            key = repr(sorted(s.identity().items()))
            if key in specs_seen:
                continue
            specs_seen.add(key)
            m = s.parsed
            steps = 0
            for k, seg in enumerate(s.segments()):
                prefix = s.prefix_key(k + 1)
                if prefix in trained:
                    continue
                trained.add(prefix)
                from_single = k == 0 and m.rounds == 1 and (m.precalibration is None or m.precalibration[1] == 0) \
                    and s.lr == c.lr and dict(s.iterations) == its
                if not from_single:
                    steps += seg.iterations
            row = by.setdefault(m.paradigm, [0, 0, 0])
            row[0] += 1
            row[1] += steps
            row[2] += evals_each * test_all
        return [Part("ch1", f"{what} ({'standard' if p == 'non_linear' else 'linearized'})", _vit(p), n, st,
                     st * c.batch_size, ev) for p, (n, st, ev) in by.items()]

    parts = []
    for paradigm in ("non_linear", "linearized"):
        runs = [(s, t) for s in c.seeds for t in c.targets]
        steps = sum(its[t] for _, t in runs)
        evals = sum(TRAIN_SIZES[t][1] + TRAIN_SIZES[t][2] for _, t in runs)
        parts.append(Part("ch1", f"single-task runs, B-{'Stand' if paradigm == 'non_linear' else 'TL'} "
                          f"ingredients ({', '.join(f'{t} {its[t]}' for t in c.targets)} iterations)",
                          _vit(paradigm), len(runs), steps, steps * c.batch_size, evals))
    merges = [m for m in c.methods if parse_method(m).family == "merge"]
    for m in merges:
        p = parse_method(m).paradigm
        parts.append(Part("ch1", f"{m} merge: α search over {len(c.alpha_grid)} values on the targets' val, "
                          "then test (evaluation only)", _vit(p), len(c.seeds), 0, 0,
                          len(c.seeds) * (len(c.alpha_grid) * val_t + test_all)))
    sequential = [m for m in default_methods(c.rounds) if m in c.methods and parse_method(m).family == "sequential"]
    parts += count([spec(m, s) for m in sequential for s in c.seeds], "Table 3 sequences")
    seed = c.seeds[0]
    parts += count([spec("S-TL-p0.5", seed, order=o) for o in all_orders(c.targets)], "Table 4 orders")
    base = f"S-TL-p0.5-{c.sweep_rounds}" if c.sweep_rounds > 1 else "S-TL-p0.5"
    sweeps = [spec(f"S-TL-p0.5-{n}" if n > 1 else "S-TL-p0.5", seed) for n in c.rounds_grid]
    sweeps += [spec(base, seed, lr=v) for v in c.lr_grid]
    sweeps += [spec(base, seed, scale=v) for v in c.epoch_scales]
    parts += count(sweeps, "Figs. 3–5 sweeps")
    trajectory = spec("S-TL", seed)
    specs_seen.discard(repr(sorted(trajectory.identity().items())))
    trained.difference_update({trajectory.prefix_key(k + 1) for k in range(len(trajectory.segments()))})
    parts += count([trajectory], "forgetting trajectory (S-TL re-trained in memory)",
                   evals_each=1 + len(trajectory.segments()))
    parts.append(Part("ch1", "zero-shot val and test (evaluation only)", _vit("non_linear"), 1, 0, 0,
                      sum(TRAIN_SIZES[t][1] + TRAIN_SIZES[t][2] for t in c.tasks)))
    return [p for p in parts if p.runs]


def _vit(paradigm: str) -> str:
    return {"non_linear": "vit_b32_standard", "linearized": "vit_b32_linearized",
            "linear_only": "vit_b32_linear_only"}[paradigm]


# --- chapter 2 ------------------------------------------------------------------------------------------------

#: ch2's method → architecture row of its backbone (``{b}``: resnet50 / resnet34) and mode. The feature
#: extractor's step is a forward of the frozen trunk (its head's backward is negligible); "FC and BN only" and
#: FTN at every rank are timed by the rank-1 FTN step (the rank changes the factors' size, not the convs'
#: work); the ViT adapters (LoRA, FTN Q&V, FTN O) by the linear-only ViT step (a backward through the whole
#: tower, weight gradients only for a subset): proxies, stated in the table.
CH2_ARCH = {"fe": ("{b}_ft", "forward"), "fc_bn": ("{b}_ftn", "train"), "ftn": ("{b}_ftn", "train"),
            "ft": ("{b}_ft", "train"), "linear_probe": ("vit_b32_standard", "forward"),
            "ft_vit": ("vit_b32_standard", "train"), "lora_qv": ("vit_b32_linear_only", "train"),
            "ftn_qv": ("vit_b32_linear_only", "train"), "ftn_o": ("vit_b32_linear_only", "train")}
_PROXY = {"fc_bn": "timed as rank-1 FTN", "lora_qv": "timed as linear-only ViT", "ftn_qv": "timed as linear-only "
          "ViT", "ftn_o": "timed as linear-only ViT", "fe": "trunk forward only", "linear_probe": "tower forward only"}


def ch2_parts() -> list[Part]:
    """Chapter 2's paper protocol: every (benchmark, domain, method or rank, seed) conv run for ``steps_for`` its
    training split (TAPS's 30 epochs of 32 × 8 images), every ViT run (Sec. 4.1.2: 100 epochs of 64)."""
    c = paper_config("ch2")
    parts = []
    p = c.conv_protocol
    per_step = p.batch_size * p.accumulate
    for b in c.benchmarks:
        backbone = c.backbones[b]
        methods = [(m, 0) for m in c.baselines] + [("ftn", r) for r in c.ranks[b]]
        for m, r in methods:
            arch, mode = CH2_ARCH[m]
            runs = steps = 0
            for d in c.domains[b]:
                n = p.steps_for(train_size(d))
                runs += len(c.seeds)
                steps += len(c.seeds) * n
            label = f"FTN R={r}" if m == "ftn" else m
            parts.append(Part("ch2", f"{b} ({backbone}): {label}, {len(c.domains[b])} domains", arch.format(b=backbone),
                              runs, steps, steps * per_step, mode=mode, note=_PROXY.get(m, "")))
    if c.vit:
        v = c.vit_protocol
        for m in c.vit_methods:
            arch, mode = CH2_ARCH["ft_vit" if m == "ft" else m]
            steps = sum(v.steps_for(train_size(d)) for d in c.vit_datasets) * len(c.seeds)
            parts.append(Part("ch2", f"ViT (Table 3): {m}, {len(c.vit_datasets)} datasets", arch,
                              len(c.vit_datasets) * len(c.seeds), steps, steps * v.batch_size, mode=mode,
                              note=_PROXY.get(m, "")))
    return parts


# --- chapter 3 ------------------------------------------------------------------------------------------------

def _checkpoints(total: int, eval_points: int) -> int:
    """Validation passes of one run (:func:`paperlib.smooth.compute`: evenly spaced, and the last step)."""
    return len(set(np.linspace(0, total, eval_points + 1).round().astype(int)[1:].tolist()) | {total})


def ch3_parts() -> list[Part]:
    """Chapter 3's paper protocol per pair: source pre-training, Target / Fine-tune / Multi-task per (N, seed),
    the TPE search (trials × rounds per N, first seed), Ours at the other seeds and the ch3 Eq. (5) limit per N;
    T by :func:`paperlib.smooth.run_steps` (A.1/A.2). Evaluation: the target validation set at every checkpoint
    of every non-source run (A.3's early stopping; the one test pass per run is not counted)."""
    c = paper_config("ch3")
    return [p for pair in c.pairs for p in _ch3_pair(c, pair)]


def _ch3_pair(c, pair: str) -> list[Part]:
    from .reference import CH3_TEXT
    from .smooth import Schedule, STLRun, run_steps

    proto = c.protocols[pair]
    arch = "resnet20" if proto.arch == "resnet20" else f"wrn10_{int(proto.width)}"
    n_source = CH3_TEXT["source_size"][pair]
    data = SimpleNamespace(source_y=range(n_source), target_y=range(CH3_TEXT["target_pool"][pair]))
    n_val = CH3_TEXT["target_val"][pair]
    k, rounds = c.search[pair]
    parts = []

    def run(method: str, n: int | None) -> STLRun:
        schedule = {"source": Schedule("source"), "joint": Schedule("constant", weight=c.multitask_weight)}
        return STLRun(pair, method, n, 0, proto, "paper", schedule.get(method, Schedule("target")))

    def per_step(n: int, b: int) -> float:
        """Images per step of passes over n images at batch b: ⌈n/b⌉ steps hold n images (the last batch is
        smaller; :class:`paperlib.smooth._Batches`)."""
        return n / -(-n // min(b, n))

    def images(r: STLRun, steps: int) -> float:
        if r.method == "source":
            return steps * per_step(n_source, proto.batch)
        if r.method == "joint":
            return steps * (per_step(n_source, proto.sub_batch) + per_step(r.n, proto.sub_batch))
        return steps * per_step(r.n, proto.single_batch(r.n))

    def add(what: str, runs: list[tuple[STLRun, int]]) -> None:
        steps = sum(run_steps(r, data) * m for r, m in runs)
        train = sum(images(r, run_steps(r, data)) * m for r, m in runs)
        evals = sum(m * n_val * _checkpoints(run_steps(r, data), proto.eval_points)
                    for r, m in runs if r.method != "source")
        parts.append(Part("ch3", f"{pair}: {what}", arch, sum(m for _, m in runs), steps, round(train), evals))

    seeds, sizes = len(c.seeds), c.sizes[pair]
    add("source pre-training", [(run("source", None), seeds)])
    add(f"Target, N = {', '.join(map(str, sizes))}", [(run("target", n), seeds) for n in sizes])
    add("Fine-tune (after the pre-training)", [(run("finetune", n), seeds) for n in sizes])
    add("Multi-task (joint, 128 + 128 per step)", [(run("joint", n), seeds) for n in sizes])
    add(f"TPE search: {k} trials × {rounds} rounds per N (joint)", [(run("joint", n), k * rounds) for n in sizes])
    if seeds > 1:
        add("Ours at the other seeds (joint)", [(run("joint", n), seeds - 1) for n in sizes])
    if c.bn_ablation:
        add("BN ablation (joint)", [(run("joint", n), 2) for n in sizes])
    add("Eq. (5) limit (joint)", [(run("joint", n), 1) for n in sizes])
    return parts


# --- chapter 4 ------------------------------------------------------------------------------------------------

def ch4_parts() -> list[Part]:
    """Chapter 4's paper protocol per width: the single-domain models (domains × seeds, 250 epochs) and the
    joint ones (pairs × weightings × seeds, 300 epochs over the pooled pair), full batches (S1; the last
    incomplete batch is dropped, :func:`paperlib.mdl.train`)."""
    c = paper_config("ch4")
    p = c.protocol
    parts = []
    for w in c.widths:
        e1, _ = p.schedule(1)
        e2, _ = p.schedule(2)
        n1 = len(c.domains) * len(c.seeds)
        s1 = e1 * (CH4_TRAIN // p.batch_size)
        n2 = len(c.pairs) * len(c.weightings) * len(c.seeds)
        s2 = e2 * (2 * CH4_TRAIN // p.batch_size)
        arch = f"resnet32_w{w:g}"
        parts.append(Part("ch4", f"width {w:g}: single-domain models ({e1} epochs)", arch, n1, n1 * s1,
                          n1 * s1 * p.batch_size))
        parts.append(Part("ch4", f"width {w:g}: joint models ({e2} epochs, pooled pair)", arch, n2, n2 * s2,
                          n2 * s2 * p.batch_size))
    return parts


# --- chapter 5 ------------------------------------------------------------------------------------------------

def ch5_parts() -> list[Part]:
    """Chapter 5's paper protocol: the fine-tuning grid (settings × seeds × 8 tasks, 2,000 iterations of 128;
    Table 2's extra variants at the first seed), each run's val and test; task addition per (setting, seed)
    (α grid on the 8 val sets, then the 8 test sets); the ξ grids (pairs × paradigms × grid² × 2 tasks ×
    ξ points); the interference maps (paradigms × (1 + tasks) × tasks × ξ points); zero-shot val and test."""
    from .chapters.ch5_linear_layers_task_arithmetic.experiment import setting_name

    c = paper_config("ch5")
    val = sum(TRAIN_SIZES[t][1] for t in c.tasks)
    test = sum(TRAIN_SIZES[t][2] for t in c.tasks)
    parts = []
    for paradigm, variant in c.settings():
        seeds = len(c.seeds) if variant in (None, 1) else 1
        runs = seeds * len(c.tasks)
        steps = runs * c.iterations
        evals = seeds * sum(TRAIN_SIZES[t][1] + TRAIN_SIZES[t][2] for t in c.tasks)
        evals += seeds * (len(c.alpha_grid) * val + test)
        name = setting_name(paradigm, variant)
        parts.append(Part("ch5", f"{name}: fine-tuning, task addition", _vit(paradigm), runs, steps,
                          steps * c.batch_size, evals,
                          note="" if variant in (None, 1) else "timed as linear-only variant 1"))
    for paradigm in c.paradigms:
        xi = len(c.pairs) * len(c.xi_grid) ** 2 * 2 * c.xi_points
        interference = (1 + len(c.tasks)) * len(c.tasks) * c.xi_points
        parts.append(Part("ch5", f"{paradigm}: ξ grids and interference (evaluation only)", _vit(paradigm), 1, 0, 0,
                          xi + interference))
    parts.append(Part("ch5", "zero-shot val and test (evaluation only)", _vit("non_linear"), 1, 0, 0, val + test))
    return parts


def paper_parts(chapters=CHAPTERS) -> list[Part]:
    """Every chapter's parts (:class:`Part`) of its full ``paper`` protocol."""
    build = {"ch1": ch1_parts, "ch2": ch2_parts, "ch3": ch3_parts, "ch4": ch4_parts, "ch5": ch5_parts}
    return [p for ch in chapters for p in build[ch]()]


# --- architectures and their measurement ----------------------------------------------------------------------

@dataclass(frozen=True)
class Arch:
    """A paper architecture as a chapter trains it."""

    label: str
    chapters: str
    image_size: int
    gpu_batch: int          # the paper's batch (images per micro-batch)
    gpu_autocast: bool      # the chapter's code trains under bf16 autocast on CUDA
    cpu_batch: int


ARCHS: dict[str, Arch] = {
    "vit_b32_standard": Arch("ViT-B/32, standard fine-tuning", "ch1, ch2 (ft), ch5", 224, 128, True, 8),
    "vit_b32_linearized": Arch("ViT-B/32, NTK-linearized fine-tuning", "ch1, ch5", 224, 128, True, 8),
    "vit_b32_linear_only": Arch("ViT-B/32, linear layers only", "ch2 (adapters, proxy), ch5", 224, 128, True, 8),
    "resnet50_ftn": Arch("ResNet-50 + FTN rank-1 adapters on every non-stem conv, task BN, head", "ch2 Table 1",
                         224, 32, True, 8),
    "resnet50_ft": Arch("ResNet-50, plain fine-tuning (every parameter)", "ch2 Table 1", 224, 32, True, 8),
    "resnet34_ftn": Arch("ResNet-34 + FTN rank-1 adapters on every non-stem conv, task BN, head", "ch2 Table 2",
                         224, 32, True, 8),
    "resnet34_ft": Arch("ResNet-34, plain fine-tuning (every parameter)", "ch2 Table 2", 224, 32, True, 8),
    "resnet20": Arch("ResNet-20 (BN, ReLU), two heads", "ch3 objects (A.1)", 32, 128, False, 32),
    "wrn10_2": Arch("WRN-10-2 (dropout 0.4), two heads", "ch3 digits (A.2)", 32, 128, False, 32),
    **{f"resnet32_w{w:g}": Arch(f"ResNet-32 ×{w:g} (GroupNorm, Mish)", "ch4", 32, 128, False, 32)
       for w in (0.25, 0.5, 1.0, 2.0)},
}
#: The ViT rows come from the paradigm benchmark (``linearization.json``): arch → its ``setting``.
VIT_SETTINGS = {"vit_b32_standard": "standard", "vit_b32_linearized": "linearized",
                "vit_b32_linear_only": "linear_only"}
#: What the paper profile streams from disk per training image (the chapters' data paths), for the limit column.
DATA_PATH = {"vit": "JPEG decode + bicubic resize to 224 in DataLoader workers (ch1/ch5: 4 workers)",
             "resnet5": "JPEG decode + RandomResizedCrop(224) + flip in DataLoader workers (ch2: 8 workers)",
             "resnet3": "JPEG decode + RandomResizedCrop(224) + flip in DataLoader workers (ch2: 8 workers)",
             "resnet20": "uint8 tensors in memory; random crop + flip on the CPU per batch (ch3 A.1)",
             "wrn": "uint8 tensors in memory, no augmentation (ch3 A.2)",
             "resnet32": "uint8 tensors on the device (ch4)"}


def _autocast(device: str, enabled: bool = True):
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=enabled and device.startswith("cuda"))


def build_arch(key: str, batch: int, device: str, image_size: int | None = None):
    """(training step, timed forward pass, trainable parameters, model, forward function, images) of an
    architecture on ``batch`` random images, as its chapter trains it: ch2's
    :func:`paperlib.ftn_train.build_model` on a torchvision trunk (random weights) with SGD momentum 0.9 and
    cross-entropy in fp32 of bf16-autocast logits (CUDA); ch3's
    :class:`paperlib.smooth.TwoHeadNet` on the A.1/A.2 trunk with SGD (target head); ch4's
    :class:`paperlib.models.resnet_cifar.MultiDomainNet` with SGD (one domain, uniform weighting)."""
    arch = ARCHS[key]
    size = image_size or arch.image_size
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    x = torch.rand(batch, 3, size, size, generator=g).mul_(2).sub_(1).to(device)
    autocast = arch.gpu_autocast
    if key.endswith(("_ftn", "_ft")):
        import torchvision

        from .ftn_train import CONV_PROTOCOLS, ConvRun, build_model
        name, method = key.split("_")
        classes = 200 if name == "resnet50" else 345
        # the trunk of ch2's torchvision_backbone (its experiment module is slow to import): fc → identity
        trunk = torchvision.models.get_model(name, weights=None)
        trunk.out_features = trunk.fc.in_features
        trunk.fc = torch.nn.Identity()
        run = ConvRun("bench", method, 1 if method == "ftn" else 0, profile="paper", protocol=CONV_PROTOCOLS["paper"])
        model, params, forward = build_model(run, trunk, classes)
        model.to(device)
        opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9)
    elif key in ("resnet20", "wrn10_2"):
        from .chapters.ch3_smooth_transfer.config import PROTOCOLS
        from .smooth import TARGET, TwoHeadNet
        proto = PROTOCOLS["paper"]["objects" if key == "resnet20" else "digits"]
        classes = 10
        model = TwoHeadNet(proto.trunk(1), 10, 100 if key == "resnet20" else 10).to(device)
        params = list(model.parameters())
        opt = torch.optim.SGD(params, lr=1e-3, momentum=proto.momentum, weight_decay=proto.weight_decay)

        def forward(inp):
            return model.logits(inp, TARGET)
    elif key.startswith("resnet32_w"):
        from .models.resnet_cifar import MultiDomainNet
        classes = 100
        model = MultiDomainNet([classes], 32, float(key[len("resnet32_w"):])).to(device)
        params = list(model.parameters())
        opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9, weight_decay=1e-4)
        domains = torch.zeros(batch, dtype=torch.long, device=device)

        def forward(inp):
            return model(inp, domains[:len(inp)])
    else:
        raise ValueError(f"architecture {key!r} is not built here; allowed: "
                         f"{[k for k in ARCHS if k not in VIT_SETTINGS]}")
    y = torch.randint(0, classes, (batch,), generator=g).to(device)

    def step():
        opt.zero_grad(set_to_none=True)
        with _autocast(device, autocast):
            logits = forward(x)
        F.cross_entropy(logits.float(), y).backward()
        opt.step()

    @torch.no_grad()
    def infer():
        with _autocast(device, autocast):
            forward(x)

    return step, infer, params, model, forward, x


def _forward_flops(forward, x: torch.Tensor) -> float | None:
    """FLOPs of one image's forward pass (``torch.utils.flop_counter``; None where it cannot count)."""
    try:
        from torch.utils.flop_counter import FlopCounterMode
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            forward(x[:1])
        return float(counter.get_total_flops())
    except Exception:  # noqa: BLE001 -- a missing formula only drops the column
        return None


def measure_arch(key: str, batch: int, steps: int, device: str = "cpu", warmup: int = 1,
                 image_size: int | None = None) -> dict:
    """Median seconds of ``steps`` training steps and forward passes of architecture ``key`` at ``batch`` random
    images (after ``warmup`` untimed ones; every timing is kept as well, the CPU being shared), images per
    second of each, peak device memory (CUDA only) and the forward FLOPs per image. The model is put in train
    mode for the steps, eval mode for the forwards."""
    step, infer, params, model, forward, x = build_arch(key, batch, device, image_size)
    model.train()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times = time_steps(step, steps, warmup, device)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None
    model.eval()
    fwd = time_steps(infer, steps, warmup, device)
    flops = _forward_flops(forward, x)
    sync(device)
    sec, fsec = statistics.median(times), statistics.median(fwd)
    arch = ARCHS[key]
    return {"arch": key, "label": arch.label, "device": device, "batch": batch,
            "image_size": image_size or arch.image_size,
            "precision": "bf16 autocast" if arch.gpu_autocast and device.startswith("cuda") else "fp32",
            "measured": True, "step_seconds": sec, "images_per_second": batch / sec,
            "forward_seconds": fsec, "forward_images_per_second": batch / fsec, "peak_mb": peak,
            "trainable": int(sum(p.numel() for p in params)), "forward_flops_per_image": flops,
            "step_seconds_all": times, "forward_seconds_all": fwd,
            "forward_gflops_per_second": None if flops is None else flops * batch / min(fwd) / 1e9}


def vit_rows(linearization: dict | None) -> list[dict]:
    """The ViT-B/32 rows of the paradigm benchmark's result (``linearization.json``) as architecture rows."""
    rows = []
    for r in (linearization or {}).get("rows", []):
        if r.get("model") != "ViT-B-32" or r["setting"] not in VIT_SETTINGS.values() or not r.get("measured", True):
            continue
        key = next(k for k, s in VIT_SETTINGS.items() if s == r["setting"])
        cuda = r["device"].startswith("cuda")
        rows.append({"arch": key, "label": ARCHS[key].label, "device": r["device"], "batch": r["batch"],
                     "image_size": 224, "precision": r.get("precision", "bf16 autocast" if cuda else "fp32"),
                     "measured": True, "step_seconds": r["step_seconds"],
                     "images_per_second": r["batch"] / r["step_seconds"], "forward_seconds": r["forward_seconds"],
                     "forward_images_per_second": r["batch"] / r["forward_seconds"],
                     "peak_mb": r["peak_mb"] if cuda else None, "trainable": r["trainable"],
                     "forward_flops_per_image": None, "forward_gflops_per_second": None,
                     "source": f"linearization.json ({linearization.get('date')})"})
    return rows


def gpu_placeholders(rows: list[dict]) -> list[dict]:
    """A "not measured" GPU row for every architecture without a measured CUDA row (at the paper's batch)."""
    have = {r["arch"] for r in rows if r["device"].startswith("cuda") and r.get("measured")}
    return [{"arch": k, "label": a.label, "device": "cuda", "batch": a.gpu_batch, "image_size": a.image_size,
             "precision": "bf16 autocast" if a.gpu_autocast else "fp32", "measured": False}
            for k, a in ARCHS.items() if k not in have]


def limit_of(row: dict, rows: list[dict]) -> str:
    """What bounds an architecture's measured step, where the numbers tell: the achieved forward GFLOP/s (of the
    fastest forward: on a shared machine the least disturbed) against the best of the same device (at least
    40 %: dense kernels, compute-bound; below: small kernels that leave the device waiting, overhead- or
    memory-bound). Data loading is never in these numbers (random tensors on
    the device): :data:`DATA_PATH` says what the paper profile adds."""
    if not row.get("measured"):
        return "–"
    if row["forward_seconds"] >= row["step_seconds"]:  # a forward cannot cost more than forward + backward
        return "– (forward timed slower than a whole training step: disturbed by other jobs)"
    rates = [r["forward_gflops_per_second"] for r in rows
             if r.get("measured") and r["device"] == row["device"] and r.get("forward_gflops_per_second")]
    mine = row.get("forward_gflops_per_second")
    if not mine or not rates:
        return "–"
    share = mine / max(rates)
    kind = "compute-bound (dense convs/matmuls)" if share >= 0.4 else "small kernels: overhead/memory-bound"
    return f"{kind}; {mine:.0f} GFLOP/s forward ({share:.0%} of the best here)"


# --- the cost table -------------------------------------------------------------------------------------------

def _rate(rows: list[dict], arch: str, device: str) -> dict | None:
    for r in rows:
        if r["arch"] == arch and r["device"].startswith(device) and r.get("measured"):
            return r
    return None


def part_seconds(part: Part, rows: list[dict], device: str) -> float | None:
    """Seconds of a part on one ``device`` ("cpu" or "cuda") at the measured speeds, or None if unmeasured."""
    r = _rate(rows, part.arch, device)
    if r is None:
        return None
    train_rate = r["forward_images_per_second"] if part.mode == "forward" else r["images_per_second"]
    return part.train_images / train_rate + part.eval_images / r["forward_images_per_second"]


def chapter_costs(parts: list[Part], rows: list[dict]) -> list[dict]:
    """Per chapter: runs, steps, training and evaluation images, and hours on one GPU and on this CPU (None where
    an architecture it needs is not measured on that device), beside the paper's own statement."""
    out = []
    for ch in dict.fromkeys(p.chapter for p in parts):
        mine = [p for p in parts if p.chapter == ch]
        hours = {}
        for device in ("cuda", "cpu"):
            secs = [part_seconds(p, rows, device) for p in mine]
            hours[device] = None if any(s is None for s in secs) else sum(secs) / 3600
        steps = sum(p.steps for p in mine)
        train = sum(p.train_images for p in mine)
        out.append(dict(chapter=ch, runs=sum(p.runs for p in mine if p.steps), steps=steps, train_images=train,
                        images_per_step=train / steps if steps else 0.0,
                        eval_images=sum(p.eval_images for p in mine),
                        archs=sorted({p.arch for p in mine}), gpu_hours=hours["cuda"], cpu_hours=hours["cpu"],
                        paper=PAPER_COMPUTE[ch], paper_note=PAPER_COMPUTE_NOTES.get(ch)))
    return out


def _num(v: float) -> str:
    return f"{v:,.0f}" if v >= 10 else f"{v:.1f}"


def _hours(h: float | None, what: str) -> str:
    if h is None:
        return what
    return f"{h:,.0f}" if h >= 10 else f"{h:.2f}"


def markdown(result: dict) -> str:
    """The appendix's tables: the architectures' speeds, the chapters' costs, the parts behind them."""
    rows = result["archs"]
    load = result.get("load_average")
    shared = "" if not load else (f"; load average {load['before'][0]:.1f} before and {load['after'][0]:.1f} after "
                                  "the measurement: other jobs shared the cores, so CPU speeds are noisy")
    lines = [measured(result) + shared + ".", "", "**Architectures: one training step and one forward pass.** "
             "Random images on the device (no data loading); GPU rows at the paper's batch.", "",
             "| architecture | used by | device | batch | precision | train step (s) | train img/s | "
             "forward img/s | peak memory (MB) | what limits it |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        dev = f"{r['device']} ({result['threads']} threads)" if r["device"] == "cpu" else r["device"]
        head = f"| {r['label']} ({r['image_size']} px) | {ARCHS[r['arch']].chapters} | {dev} | {r['batch']} | " \
               f"{r['precision']} |"
        if not r.get("measured"):
            lines.append(f"{head} {NOT_MEASURED} | {NOT_MEASURED} | {NOT_MEASURED} | – | – |")
            continue
        peak = "–" if r.get("peak_mb") is None else f"{r['peak_mb']:.0f}"
        lines.append(f"{head} {r['step_seconds']:.3f} | {r['images_per_second']:.1f} | "
                     f"{r['forward_images_per_second']:.1f} | {peak} | {limit_of(r, rows)} |")
    lines += ["", "**Chapters: the full `paper` protocol.** Steps and images computed from the chapters' paper "
              "configs (`paperlib.cost`); hours = training images ÷ training img/s + evaluation images ÷ forward "
              "img/s of each part's architecture.", "",
              "| chapter | runs | training steps | images per step (mean) | training images | evaluation images | "
              "GPU-hours (one GPU) | 2-core CPU hours (for scale only) | the paper's statement |",
              "|---|---|---|---|---|---|---|---|---|"]
    for c in result["chapters"]:
        paper = f"{c['paper'][0]}; {c['paper'][1]}" if c["paper"] else \
            "states nothing" + (f" ({c['paper_note']})" if c.get("paper_note") else "")
        lines.append(f"| {c['chapter']} | {c['runs']:,} | {c['steps']:,} | {c['images_per_step']:.0f} | "
                     f"{c['train_images']:,} | {c['eval_images']:,} | {_hours(c['gpu_hours'], NOT_MEASURED)} | "
                     f"{_hours(c['cpu_hours'], 'not measured')} | {paper} |")
    lines += ["", "**The parts behind each chapter's count.**", "",
              "| chapter | part | architecture | runs | training steps | images per step | evaluation images | "
              "note |", "|---|---|---|---|---|---|---|---|"]
    for p in result["parts"]:
        mode = " (forward only)" if p["mode"] == "forward" else ""
        ips = p["train_images"] / p["steps"] if p["steps"] else 0
        lines.append(f"| {p['chapter']} | {p['what']} | {p['arch']}{mode} | {p['runs']:,} | {p['steps']:,} | "
                     f"{_num(ips) if p['steps'] else '–'} | {p['eval_images']:,} | {p['note'] or ''} |")
    return "\n".join(lines) + "\n"


#: CPU plan: (architecture, batch, timed steps) -- small batches that keep the run to a few minutes on 2 cores
#: (each after one untimed step; as many forward passes, after one untimed).
CPU_PLAN = [("resnet50_ftn", 4, 3), ("resnet50_ft", 4, 3), ("resnet34_ftn", 4, 3), ("resnet34_ft", 4, 3),
            ("resnet20", 32, 3), ("wrn10_2", 32, 3), *((f"resnet32_w{w:g}", 32, 3) for w in (0.25, 0.5, 1.0, 2.0))]


def run(out: Path, linearization: dict | None = None, quick: bool = False, steps: int | None = None) -> dict:
    """Measure the architectures (CPU; and GPU at the paper's batch where one is present), count every
    chapter's paper steps, and write ``out`` (JSON) and its Markdown beside it."""
    from tqdm.auto import tqdm

    plan = [(k, b, steps or n) for k, b, n in CPU_PLAN if not (quick and ARCHS[k].image_size > 32)]
    jobs = [(k, b, n, "cpu") for k, b, n in plan]
    if torch.cuda.is_available():
        jobs += [(k, ARCHS[k].gpu_batch, steps or 10, "cuda") for k in ARCHS if k not in VIT_SETTINGS]
    t0, load = time.perf_counter(), os.getloadavg()
    rows = vit_rows(linearization) + [measure_arch(k, b, n, d) for k, b, n, d in tqdm(jobs, desc="architectures")]
    rows += gpu_placeholders(rows)
    order = list(ARCHS)
    rows.sort(key=lambda r: (r["device"] != "cpu", order.index(r["arch"])))
    parts = paper_parts()
    result = {**machine(), "cpu_plan": [dict(arch=k, batch=b, steps=n) for k, b, n in plan],
              "measure_seconds": time.perf_counter() - t0, "load_average": {"before": load, "after": os.getloadavg()},
              "archs": rows,
              "chapters": chapter_costs(parts, rows), "parts": [asdict(p) for p in parts],
              "data_paths": DATA_PATH,
              "notes": ["ch1/ch5 train in fp32 (paperlib.finetune has no autocast); the GPU ViT-B/32 rows are "
                        "bf16 autocast as the issue asks, so their GPU-hours are a lower bound for the code as it "
                        "is", "parts marked 'timed as ...' use another architecture's speed as a proxy"]}
    atomic_write_json(_finite(result), out)
    with atomic_path(out.with_suffix(".md")) as tmp:
        tmp.write_text(markdown(result))
    return result


def _finite(v):
    """JSON-safe: NaN and infinities to None."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


__all__ = ["ARCHS", "CH4_TRAIN", "CHAPTERS", "CPU_PLAN", "NOT_MEASURED", "PAPER_COMPUTE", "Part", "TRAIN_SIZES",
           "build_arch", "ch1_parts", "ch2_parts", "ch3_parts", "ch4_parts", "ch5_parts", "chapter_costs",
           "gpu_placeholders", "markdown", "measure_arch", "paper_config", "paper_parts", "part_seconds", "run",
           "train_size", "vit_rows"]
