"""Fine-tuning a CLIP image encoder on one task, in each of the three paradigms (ch5 Sec. 3, Fig. 2).

The protocol is the task-arithmetic one (Ilharco et al. 2023; ch5 Appendix A): the image encoder
f(·; θ) is fine-tuned with cross-entropy through the task's *frozen* zero-shot head
(:func:`paperlib.models.clip.zero_shot_head`), with AdamW, weight decay 0.1, batch 128, a cosine
schedule with linear warm-up, gradient-norm clipping at 1.0. ``paper`` runs the appendix's 2,000
iterations at lr 1e-5 with 200 warm-up steps; ``embedded`` and ``smoke`` run scaled-down
iteration counts on the shipped tiny model (see :data:`PROTOCOLS` for the values and why).

Paradigms (:mod:`paperlib.linearize`):

* ``non_linear``: all encoder parameters (Fig. 2a);
* ``linearized``: the first-order Taylor expansion around θ0, ch5 Eq. (2) (Fig. 2b);
* ``linear_only``: only the attention module's linear layers, variant (1)–(4) of Table 2 (Fig. 2c).

A run is identified by its full config plus the weights' identity (run cache, :mod:`paperlib.store`):
a finished run is loaded, an interrupted one resumes from its last checkpoint (safetensors + JSON).
Its result is the task vector τ = θ* − θ0 over the trained parameters (safetensors beside the
result JSON) and the fine-tuned model's accuracy on the task's val and test splits.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .clip_tasks import accuracy_of, build_encoder, encoder_state, load_encoder_state, task_data, trainable_parameters
from .config import check_int_range, check_lr, check_profile, loader_workers
from .data.dataset import limited
from .data.registry import check_dataset
from .linearize import check_paradigm
from .models.clip import ClipBundle, ImageClassifier, load_clip, model_id
from .store import (
    Checkpoint,
    artifact_path,
    cached_run,
    load_optimizer_tensors,
    load_tensors,
    optimizer_tensors,
    save_tensors,
)
from .surgery import FlatGradients
from .task_vectors import TaskVector
from .train import cosine_lr


@dataclass(frozen=True)
class Protocol:
    """Fine-tuning hyper-parameters of one profile."""

    iterations: int
    lr: float
    batch_size: int
    warmup: int
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    checkpoint_every: int = 500
    #: val images per class (embedded only): the α search of task addition uses the same set.
    val_per_class: int | None = None
    #: at most this many runs of one paradigm and protocol train as one batched computation
    #: (:mod:`paperlib.batched`); 1: every run trains alone.
    together: int = 16


#: Appendix A for ``paper``. For the tiny model of ``embedded``: lr 3e-4, batch 32, 72 iterations (4 of
#: warm-up), and 10 val images per class for the α search. Chosen by measurement (issue 13,
#: ``scripts/regime_gate.py``; every attempt is in ``book/regime/`` and chapter 5's table of attempts):
#: on the 3,000-step foundation model, 8 tasks, seed 0, the previous protocol (lr 1e-3, 36 iterations,
#: batch 64) gave task vectors that cost the *other* tasks 24.7 points at α = 1 for +29.3 on their own
#: task (non-linear; linear-only 12.7 for +27.0); lr 3e-4 × 72 at batch 32 costs them 10.8 for +29.0
#: (4.9 for +23.0), with the same images per run as before (batch 64 did no better: 11.4 and 5.8).
#: A smaller lr over more steps comes closer to the gate (lr 1e-4 × 144 at batch 32: 5.7 and 3.1) but
#: takes twice the steps, which the chapters' 20-minute budgets on 2 cores cannot pay for (chapter 5
#: trains 96 runs, chapter 1 its sequences on top), and task addition gains no more from it (+3.3 and
#: +0.5 over zero-shot, against +4.3 and +2.9). The paper's 1e-5 barely moves the tiny model.
PROTOCOLS: dict[str, Protocol] = {
    # paper: every run alone. Batching runs (paperlib.batched) pays off where a model is too small to fill the
    # hardware; ViT-B/32 at batch 128 fills a GPU by itself, K stacked copies multiply its activation memory by K,
    # and on 2 CPU cores a step of 2 ViT-B/32 runs under vmap took 36 s against 2.3 s for one plain step (the
    # paper profile's rehearsal, issue 16).
    "paper": Protocol(iterations=2000, lr=1e-5, batch_size=128, warmup=200, together=1),
    "embedded": Protocol(iterations=72, lr=3e-4, batch_size=32, warmup=4, checkpoint_every=36,
                         val_per_class=10),
    "smoke": Protocol(iterations=4, lr=1e-3, batch_size=16, warmup=1, checkpoint_every=2),
}


@dataclass(frozen=True)
class FinetuneConfig:
    """One fine-tuning run (its identity in the run cache)."""

    task: str
    paradigm: str = "non_linear"
    variant: int | None = None
    profile: str = "embedded"
    model: str | None = None
    pretrained: str | None = None
    iterations: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    warmup: int | None = None
    weight_decay: float | None = None
    grad_clip: float | None = None
    seed: int = 0
    data_root: str | None = None
    #: evaluate the finished run on at most this many images of its val and test splits
    #: (:func:`paperlib.data.dataset.limited`; None: the whole splits). Part of the run's identity only when set.
    eval_images: int | None = None

    def resolved(self) -> "FinetuneConfig":
        """Validate and fill the profile's protocol defaults (raise ``ValueError`` naming a bad value)."""
        check_profile(self.profile)
        paradigm, variant = check_paradigm(self.paradigm, self.variant)
        p = PROTOCOLS[self.profile]
        pick = lambda v, d: d if v is None else v  # noqa: E731
        iterations = pick(self.iterations, p.iterations)
        # the protocol's warm-up, cut to a run shorter than it (e.g. paper's 200 steps in a 1-step rehearsal)
        warmup = pick(self.warmup, min(p.warmup, iterations) if isinstance(iterations, int) else p.warmup)
        cfg = dataclasses.replace(self, paradigm=paradigm, variant=variant,
                                  iterations=iterations, lr=pick(self.lr, p.lr),
                                  batch_size=pick(self.batch_size, p.batch_size), warmup=warmup,
                                  weight_decay=pick(self.weight_decay, p.weight_decay),
                                  grad_clip=pick(self.grad_clip, p.grad_clip))
        check_int_range(cfg.iterations, "iterations", 1, 1_000_000)
        check_int_range(cfg.batch_size, "batch_size", 1, 65_536)
        check_int_range(cfg.warmup, "warmup", 0, cfg.iterations)
        check_int_range(cfg.seed, "seed", 0)
        if cfg.eval_images is not None:
            check_int_range(cfg.eval_images, "eval_images", 1)
        check_lr(cfg.lr)
        if not 0 <= cfg.weight_decay < 10:
            raise ValueError(f"weight_decay={cfg.weight_decay!r} is out of range; allowed: [0, 10)")
        if not cfg.grad_clip > 0:
            raise ValueError(f"grad_clip={cfg.grad_clip!r} is out of range; allowed: (0, inf)")
        return cfg


class _Batches:
    """Seeded mini-batches of a task's train split: whole tensors in memory (embedded) or a
    DataLoader (paper). ``state``/``restore`` make the stream resumable."""

    def __init__(self, dataset, batch_size: int, seed: int):
        self.dataset, self.batch_size = dataset, batch_size
        self.g = torch.Generator().manual_seed(seed)
        self.in_memory = hasattr(dataset, "tensors")
        if self.in_memory:
            self.x, self.y = dataset.tensors()
        self._reset()

    def _reset(self):
        if self.in_memory:
            self.perm, self.pos = torch.randperm(len(self.x), generator=self.g), 0
        else:
            self.it = iter(torch.utils.data.DataLoader(self.dataset, batch_size=self.batch_size, shuffle=True,
                                                       generator=self.g, num_workers=loader_workers(4),
                                                       drop_last=True))

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.in_memory:
            if self.pos + self.batch_size > len(self.perm):
                self._reset()
            idx = self.perm[self.pos:self.pos + self.batch_size]
            self.pos += self.batch_size
            return self.x[idx], self.y[idx]
        try:
            x, y = next(self.it)
        except StopIteration:
            self._reset()
            x, y = next(self.it)
        return x, torch.as_tensor(y)

    def state(self) -> dict:
        return {"rng": self.g.get_state(), "pos": getattr(self, "pos", 0), "perm": getattr(self, "perm", None)}

    def restore(self, rng: torch.Tensor, perm: torch.Tensor | None, pos: int):
        self.g.set_state(rng)
        if self.in_memory:
            self.perm, self.pos = perm, pos
        else:
            self._reset()


def backward_step(loss: torch.Tensor, opt: torch.optim.Optimizer, params: list, grad_clip: float,
                  flat: FlatGradients | None = None, calibrator=None) -> None:
    """One update from ``loss``: zero the gradients, back-propagate, calibrate the flat gradient in
    place (ch1 Sec. 3.3; only with ``flat`` and a ``calibrator``), clip its norm, take the AdamW step."""
    if flat is None:
        opt.zero_grad(set_to_none=True)
    else:
        flat.zero_()
    loss.backward()
    if calibrator is not None:
        calibrator.apply_(flat.vector)
    torch.nn.utils.clip_grad_norm_(params, grad_clip)
    opt.step()


def train_loop(cfg: FinetuneConfig, encoder: nn.Module, names: list[str], head: nn.Module, train, *,
               device: str = "cpu", progress: bool = True, desc: str | None = None, data_seed: int | None = None,
               calibrator=None, resume: tuple[dict, dict] | None = None,
               save: Callable[[dict, dict], None] | None = None) -> tuple[list[float], float, int]:
    """The fine-tuning loop of the task-arithmetic protocol (module docstring) on ``train``, starting
    from the encoder's current θ; returns ``(loss history, seconds, step resumed from)``.

    ``names`` are the trained parameters (:func:`build_encoder`), in the encoder's order. A
    ``calibrator`` (:mod:`paperlib.surgery`; ch1 Sec. 3.3) is applied in place to the flat gradient
    after each backward pass and *before* gradient clipping (calibration sets the direction, clipping
    only bounds the step). ``data_seed`` seeds the mini-batch stream (default ``cfg.seed``).
    ``save(tensors, state)`` is called every ``checkpoint_every`` steps with the optimizer, RNG and
    step state (the caller adds θ and anything of its own) and ``resume`` is what it saved.
    """
    model = ImageClassifier(encoder, head).to(device)
    params = trainable_parameters(encoder, names)
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    flat = FlatGradients(params) if calibrator is not None else None
    batches = _Batches(train, cfg.batch_size, cfg.seed if data_seed is None else data_seed)
    step0, history = 0, []
    if resume is not None:
        tensors, state = resume
        load_optimizer_tensors(opt, tensors, state["optimizer"])
        batches.restore(tensors["rng"], tensors.get("perm"), state["pos"])
        step0, history = state["step"], list(state["history"])
        if flat is not None:  # load_state_dict keeps the parameters, but be sure the views survived
            flat.check()
    model.train()
    every = PROTOCOLS[cfg.profile].checkpoint_every
    start = time.perf_counter()
    bar = tqdm(range(step0, cfg.iterations), desc=desc or f"{cfg.task} {cfg.paradigm}", disable=not progress,
               initial=step0, total=cfg.iterations, leave=False)
    for step in bar:
        x, y = batches.next()
        for group in opt.param_groups:
            group["lr"] = cosine_lr(step, cfg.lr, cfg.warmup, cfg.iterations)
        loss = F.cross_entropy(model(x.to(device)), y.to(device))
        backward_step(loss, opt, params, cfg.grad_clip, flat, calibrator)
        history.append(float(loss.detach()))
        if save is not None and (step + 1) % every == 0 and step + 1 < cfg.iterations:
            opt_t, opt_s = optimizer_tensors(opt)
            bstate = batches.state()
            extra = {"perm": bstate["perm"]} if bstate["perm"] is not None else {}
            save({**opt_t, "rng": bstate["rng"], **extra},
                 {"step": step + 1, "history": history, "optimizer": opt_s, "pos": bstate["pos"]})
    model.eval()
    return history, time.perf_counter() - start, step0


def _train(cfg: FinetuneConfig, bundle: ClipBundle, progress: bool, device: str) -> dict:
    torch.manual_seed(cfg.seed)
    encoder, names = build_encoder(bundle, cfg.paradigm, cfg.variant)
    theta0 = {k: v.detach().clone() for k, v in encoder_state(encoder).items()}
    train = task_data(cfg.task, "train", cfg.profile, bundle, cfg.data_root)
    head = bundle.head(train.classnames, train.templates)
    encoder.to(device)
    ckpt = Checkpoint("finetune", _identity(cfg, bundle))
    loaded = ckpt.load()
    if loaded is not None:
        load_encoder_state(encoder, {k[6:]: v.to(device) for k, v in loaded[0].items() if k.startswith("theta.")})

    def save(tensors: dict, state: dict) -> None:
        ckpt.save({**{f"theta.{k}": v for k, v in encoder_state(encoder).items()}, **tensors}, state)

    history, seconds, step0 = train_loop(cfg, encoder, names, head, train, device=device, progress=progress,
                                         resume=loaded, save=save)
    result = finish_run(cfg, bundle, encoder, names, theta0, head,
                        dict(loss=history, train_seconds=seconds, steps_resumed_from=step0))
    ckpt.clear()
    return result


def finish_run(cfg: FinetuneConfig, bundle: ClipBundle, encoder: nn.Module, names: list[str],
               theta0: dict[str, torch.Tensor], head: nn.Module, record: dict) -> dict:
    """Store a trained encoder's task vector τ = θ* − θ0 (the run's artifact) and return the run's
    result record: ``record`` (loss history, seconds, ...) plus τ's size and file and the fine-tuned
    model's val and test accuracy."""
    theta = {k: v.cpu() for k, v in encoder_state(encoder).items()}
    tau = TaskVector.from_states(theta0, theta, names)
    tv_path = _vector_path(cfg, bundle)
    save_tensors(tau, tv_path, {"task": cfg.task, "paradigm": cfg.paradigm})
    result = {"task": cfg.task, "paradigm": cfg.paradigm, "variant": cfg.variant, "seed": cfg.seed, **record,
              "trained_parameters": sum(v.numel() for v in tau.to_tensors().values()),
              "task_vector_file": tv_path.name}
    for split in ("val", "test"):
        n = PROTOCOLS[cfg.profile].val_per_class if split == "val" else None
        data = task_data(cfg.task, split, cfg.profile, bundle, cfg.data_root, n_per_class=n)
        result[f"{split}_accuracy"] = accuracy_of(encoder, head, limited(data, cfg.eval_images))
    return result


def _identity(cfg: FinetuneConfig, bundle: ClipBundle) -> dict:
    ident = {**dataclasses.asdict(cfg), "weights": model_id(bundle.name, bundle.pretrained)}
    if ident["eval_images"] is None:  # whole-split runs keep the identity they had before the field existed
        del ident["eval_images"]
    return ident


def _vector_path(cfg: FinetuneConfig, bundle: ClipBundle) -> Path:
    return artifact_path("finetune", _identity(cfg, bundle), "tau")


@dataclass
class FinetuneRun:
    """A finished fine-tuning run: its config, result record and task vector."""

    config: FinetuneConfig
    result: dict
    vector_path: Path

    def task_vector(self) -> TaskVector:
        return TaskVector(load_tensors(self.vector_path))

    @property
    def test_accuracy(self) -> float:
        return self.result["test_accuracy"]

    @property
    def val_accuracy(self) -> float:
        return self.result["val_accuracy"]


def finetune(config: FinetuneConfig, bundle: ClipBundle | None = None, *, progress: bool = True,
             device: str = "cpu") -> FinetuneRun:
    """Fine-tune (or load the cached run of) ``config``; see the module docstring."""
    cfg = config.resolved()
    bundle = bundle or load_clip(cfg.profile, cfg.model, cfg.pretrained)
    check_dataset(cfg.task, cfg.profile)  # fail fast, before any model work
    ident = _identity(cfg, bundle)
    path = _vector_path(cfg, bundle)
    result = cached_run("finetune", ident, lambda: _train(cfg, bundle, progress, device), artifacts=("tau",))
    return FinetuneRun(cfg, result, path)


__all__ = ["PROTOCOLS", "FinetuneConfig", "FinetuneRun", "Protocol", "backward_step", "cosine_lr", "finetune",
           "train_loop"]
