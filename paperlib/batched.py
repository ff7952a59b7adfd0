"""Many fine-tuning runs trained as one batched computation.

A tiny model on a CPU is overhead-bound: one step of the shipped tiny CLIP at batch 64 runs far
below what two cores can compute, because most of its time goes to launching small kernels. Runs
that share a paradigm and a protocol (steps, learning-rate schedule, batch size, weight decay,
clipping) and differ only in task and seed (a chapter's grid) therefore train together here:

* their trainable parameters are stacked along a new leading dimension (one slice per run), the
  frozen ones are shared, and the encoder runs once per step on a ``(K, B, 3, H, W)`` batch through
  :func:`torch.func.functional_call` under :func:`torch.func.vmap`;
* each run draws its own mini-batches from its own seeded stream (the stream of
  :func:`paperlib.finetune.train_loop`), and its loss uses its own task's frozen head;
* the loss is the *sum* of the runs' losses, so each slice's gradient is its own run's gradient;
  gradients are clipped per run (each slice by its own norm, as ``clip_grad_norm_`` does for one
  run), and AdamW, whose update is elementwise, then moves every slice exactly as it would move that
  run alone.

So a batched run is the same computation as the serial one (equal up to float rounding: a test
compares them) and is cached under the same identity. A profile's protocol says how many runs may train
together (:attr:`paperlib.finetune.Protocol.together`): on ``paper`` every run trains alone, since
ViT-B/32 at batch 128 needs no help filling the hardware. The NTK-linearized paradigm trains serially:
its forward-mode pass does not run under ``vmap`` here.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Sequence

import torch
import torch.nn.functional as F
from torch.func import functional_call, vmap
from torch.nn.attention import SDPBackend, sdpa_kernel
from tqdm.auto import tqdm

from .clip_tasks import build_encoder, encoder_state, load_encoder_state, task_data
from .data.registry import check_dataset
from .finetune import PROTOCOLS, FinetuneConfig, FinetuneRun, _Batches, _identity, cosine_lr, finetune, finish_run
from .models.clip import ClipBundle, load_clip
from .store import Checkpoint, cached_result, cached_run, load_optimizer_tensors, optimizer_tensors

#: Paradigms whose runs can train together (see the module docstring).
BATCHABLE = ("non_linear", "linear_only")


def group_key(cfg: FinetuneConfig) -> tuple:
    """What runs must share to train together: everything but task and seed (a resolved config)."""
    return tuple((f.name, getattr(cfg, f.name)) for f in dataclasses.fields(cfg) if f.name not in ("task", "seed"))


class Together:
    """K copies of one paradigm's trainable encoder, stacked, and one AdamW over them (see the module
    docstring): :meth:`step` takes one training step of every copy on its own batch and head."""

    def __init__(self, bundle: ClipBundle, paradigm: str, variant: int | None, heads: Sequence[torch.nn.Module], *,
                 lr: float, weight_decay: float, grad_clip: float, device: str = "cpu"):
        if paradigm not in BATCHABLE:
            raise ValueError(f"paradigm {paradigm!r} does not train batched; allowed: {list(BATCHABLE)}")
        self.encoder, self.names = build_encoder(bundle, paradigm, variant)
        self.encoder.to(device).train()
        self.heads, self.grad_clip, self.device = [h.to(device) for h in heads], grad_clip, device
        params = dict(self.encoder.named_parameters())
        self.frozen = {n: p.detach() for n, p in params.items() if n not in set(self.names)}
        self.frozen.update(dict(self.encoder.named_buffers()))
        k = len(self.heads)
        self.stacked = {n: params[n].detach().unsqueeze(0).repeat(k, *[1] * params[n].ndim).clone().requires_grad_()
                        for n in self.names}
        self.opt = torch.optim.AdamW(list(self.stacked.values()), lr=lr, weight_decay=weight_decay)
        self._forward = vmap(lambda theta, x: functional_call(self.encoder, {**self.frozen, **theta}, (x,)))

    def step(self, images: torch.Tensor, labels: Sequence[torch.Tensor], lr: float) -> list[float]:
        """One step of every copy: ``images`` (K, B, 3, H, W), ``labels`` one (B,) tensor per copy;
        returns each copy's loss."""
        for group in self.opt.param_groups:
            group["lr"] = lr
        with sdpa_kernel(SDPBackend.MATH):  # CPU flash attention has no vmap rule (it would loop over runs)
            feats = self._forward(self.stacked, images.to(self.device))
        losses = torch.stack([F.cross_entropy(h(f), y.to(self.device)) for h, f, y in zip(self.heads, feats, labels)])
        self.opt.zero_grad(set_to_none=True)
        losses.sum().backward()
        _clip_per_run(list(self.stacked.values()), self.grad_clip)
        self.opt.step()
        return losses.detach().tolist()

    def thetas(self) -> list[dict[str, torch.Tensor]]:
        """Each copy's encoder state θ (CPU tensors, every encoder parameter)."""
        base = {n: v.detach().cpu().clone() for n, v in encoder_state(self.encoder).items()}
        return [{**base, **{n: v[i].detach().cpu().clone() for n, v in self.stacked.items()}}
                for i in range(len(self.heads))]


def train_together(cfgs: Sequence[FinetuneConfig], bundle: ClipBundle, *, device: str = "cpu",
                   progress: bool = True, checkpoint: Checkpoint | None = None
                   ) -> tuple[list[dict[str, torch.Tensor]], list[list[float]], float, int]:
    """Fine-tune the resolved ``cfgs`` (one :func:`group_key`, a paradigm in :data:`BATCHABLE`) as one
    batched computation from θ0; returns each run's final encoder state θ (CPU tensors, all encoder
    parameters), each run's loss history, the seconds of the loop and the step it resumed from.

    ``checkpoint`` (kept every ``checkpoint_every`` steps of the profile's protocol, cleared by the
    caller) makes the group resumable across interruptions.
    """
    if not cfgs:
        raise ValueError("train_together needs at least one run")
    keys = {group_key(c) for c in cfgs}
    if len(keys) != 1:
        raise ValueError(f"runs that train together must share everything but task and seed; got {len(keys)} "
                         "different protocols")
    cfg = cfgs[0]
    torch.manual_seed(cfg.seed)
    heads, streams = [], []
    for c in cfgs:
        train = task_data(c.task, "train", c.profile, bundle, c.data_root)
        heads.append(bundle.head(train.classnames, train.templates))
        streams.append(_Batches(train, c.batch_size, c.seed))
    model = Together(bundle, cfg.paradigm, cfg.variant, heads, lr=cfg.lr, weight_decay=cfg.weight_decay,
                     grad_clip=cfg.grad_clip, device=device)

    step0, histories = 0, [[] for _ in cfgs]
    loaded = checkpoint.load() if checkpoint is not None else None
    if loaded is not None:
        tensors, state = loaded
        with torch.no_grad():
            for n, v in model.stacked.items():
                v.copy_(tensors[f"theta.{n}"])
        load_optimizer_tensors(model.opt, tensors, state["optimizer"])
        for i, s in enumerate(streams):
            s.restore(tensors[f"rng.{i}"], tensors.get(f"perm.{i}"), state["pos"][i])
        step0, histories = state["step"], [list(h) for h in state["histories"]]

    every = PROTOCOLS[cfg.profile].checkpoint_every
    start = time.perf_counter()
    bar = tqdm(range(step0, cfg.iterations), desc=f"{len(cfgs)} runs together ({cfg.paradigm})",
               disable=not progress, initial=step0, total=cfg.iterations, leave=False)
    for step in bar:
        xs, ys = zip(*(s.next() for s in streams))
        losses = model.step(torch.stack(xs), ys, cosine_lr(step, cfg.lr, cfg.warmup, cfg.iterations))
        for h, loss in zip(histories, losses):
            h.append(loss)
        if checkpoint is not None and (step + 1) % every == 0 and step + 1 < cfg.iterations:
            opt_t, opt_s = optimizer_tensors(model.opt)
            extra, pos = {}, []
            for i, s in enumerate(streams):
                st = s.state()
                extra[f"rng.{i}"] = st["rng"]
                if st["perm"] is not None:
                    extra[f"perm.{i}"] = st["perm"]
                pos.append(st["pos"])
            checkpoint.save({**{f"theta.{n}": v.detach() for n, v in model.stacked.items()}, **opt_t, **extra},
                            {"step": step + 1, "histories": histories, "optimizer": opt_s, "pos": pos})
    return model.thetas(), histories, time.perf_counter() - start, step0


def _clip_per_run(stacked: list[torch.Tensor], max_norm: float) -> None:
    """``clip_grad_norm_`` applied to each run's slice of the stacked gradients separately."""
    grads = [p.grad for p in stacked if p.grad is not None]
    if not grads:
        return
    norms = torch.stack([g.flatten(1).pow(2).sum(1) for g in grads]).sum(0).sqrt()
    coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef.view(-1, *[1] * (g.ndim - 1)))


#: Rough cost of one run's step per paradigm, relative to non-linear (2 cores, shipped tiny CLIP): the
#: order in which :func:`training_units` hands out work, costliest first, so parallel workers end together.
STEP_COST = {"linearized": 1.6, "non_linear": 1.0, "linear_only": 0.6}


def training_units(configs: Sequence[FinetuneConfig], bundle: ClipBundle, *, together: int | None = None,
                   parts: int = 1) -> list[tuple[FinetuneConfig, ...]]:
    """The uncached runs of resolved ``configs`` as units of work, costliest first: runs of a paradigm
    in :data:`BATCHABLE` that share a protocol (:func:`group_key`) in balanced chunks of at most
    ``together`` (None: the profile's :attr:`~paperlib.finetune.Protocol.together`; and at least ``parts``
    chunks, when there are that many runs, so ``parts`` workers can share a group); every other run alone,
    and every run where ``together`` is 1."""
    groups: dict[tuple, list[FinetuneConfig]] = {}
    for c in dict.fromkeys(configs):  # each distinct run once
        if cached_result("finetune", _identity(c, bundle)) is not None:  # finished; loading verifies its τ
            continue
        alone = c.paradigm not in BATCHABLE or _together(c, together) == 1
        key = ("alone", c) if alone else group_key(c)
        groups.setdefault(key, []).append(c)
    units = []
    for key, runs in groups.items():
        n = len(runs)
        k = n if key[0] == "alone" else min(n, max(-(-n // _together(runs[0], together)), parts))
        units += [tuple(runs[i::k]) for i in range(k)]
    return sorted(units, key=lambda u: -len(u) * u[0].iterations * STEP_COST[u[0].paradigm])


def _together(cfg: FinetuneConfig, together: int | None) -> int:
    n = PROTOCOLS[cfg.profile].together if together is None else together
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"together={n!r} is not allowed; allowed: an integer >= 1 (runs trained as one computation)")
    return n


def finetune_many(configs: Sequence[FinetuneConfig], bundle: ClipBundle | None = None, *, together: int | None = None,
                  progress: bool = True, device: str = "cpu") -> list[FinetuneRun]:
    """:func:`paperlib.finetune.finetune` of every config, with the uncached runs of a paradigm in
    :data:`BATCHABLE` that share a protocol trained together, up to ``together`` at a time (None: the
    profile's; a group
    resumes from its checkpoint after an interruption); cached runs load, the others train one by
    one. Returns the runs in the order of ``configs``."""
    if not configs:
        return []
    cfgs = [c.resolved() for c in configs]
    bundle = bundle or load_clip(cfgs[0].profile, cfgs[0].model, cfgs[0].pretrained)
    for c in cfgs:
        check_dataset(c.task, c.profile)  # fail fast, before any model work
    chunks = [u for u in training_units(cfgs, bundle, together=together)
              if u[0].paradigm in BATCHABLE and _together(u[0], together) > 1]
    for chunk in tqdm(chunks, desc="batched fine-tuning", disable=not progress or len(chunks) < 2):
        _train_chunk(list(chunk), bundle, progress, device)
    return [finetune(c, bundle, progress=progress, device=device) for c in cfgs]


def train_unit(unit: Sequence[FinetuneConfig], bundle: ClipBundle | None = None, device: str = "cpu") -> None:
    """Train one unit of :func:`training_units` into the run cache (a worker's job: module-level and
    picklable; without ``bundle`` the worker loads the configs' model itself)."""
    finetune_many(list(unit), bundle, progress=False, device=device)


def _train_chunk(chunk: list[FinetuneConfig], bundle: ClipBundle, progress: bool, device: str) -> None:
    ckpt = Checkpoint("finetune_together", {"runs": [_identity(c, bundle) for c in chunk]})
    thetas, histories, seconds, step0 = train_together(chunk, bundle, device=device, progress=progress,
                                                       checkpoint=ckpt)
    for c, theta, history in zip(chunk, thetas, histories):
        encoder, names = build_encoder(bundle, c.paradigm, c.variant)
        theta0 = {k: v.detach().clone() for k, v in encoder_state(encoder).items()}
        load_encoder_state(encoder, theta)
        train = task_data(c.task, "train", c.profile, bundle, c.data_root)
        head = bundle.head(train.classnames, train.templates)
        record = dict(loss=history, train_seconds=seconds / len(chunk), steps_resumed_from=step0,
                      trained_together=len(chunk))
        cached_run("finetune", _identity(c, bundle),
                   lambda c=c, e=encoder, n=names, t0=theta0, h=head, r=record: finish_run(c, bundle, e, n, t0, h, r),
                   artifacts=("tau",))
    ckpt.clear()


__all__ = ["BATCHABLE", "STEP_COST", "Together", "finetune_many", "group_key", "train_together", "train_unit",
           "training_units"]
