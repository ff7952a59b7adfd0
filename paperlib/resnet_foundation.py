"""The recipe of the embedded profile's convolutional foundation (``make foundation-resnet``): chapter 2's
"ImageNet-pretrained" ResNet.

FTN adapts a *pretrained, frozen* network (ch2 Sec. 3.1: "we leverage the pretrained weights obtained from
ImageNet"). The embedded profile cannot download ImageNet weights, so the repository ships a small BatchNorm ResNet
pre-trained here by supervised classification on a **source corpus disjoint from every chapter-2 target domain**:
the embedded domains that stand in for none of chapter 2's targets (:data:`SOURCE_DOMAINS`: aerial scenes, font
styles, land cover, letters, traffic signs; 68 classes in all), as ImageNet is disjoint from DomainNet and the
ImageNet-to-Sketch domains.

Size (issue 15 asks to choose it by the share of the trunk that ranks {1, 2, 4, 8, 16} represent): the paper's
rank-1 update is 0.21 % of ResNet-50's trunk and its highest rank (R = 50) 10.5 %; for ResNet-34, 0.08 % to 3.1 %.
A CIFAR ResNet-20 (He et al.'s, option-A shortcuts, BatchNorm + ReLU) at width ¾ (12/24/48 channels) has 150,660
conv weights; its per-task CP factors (stem excluded) are 1,134 per rank, so ranks 1 to 16 span 0.75 % to 12.0 %,
the paper's range. At width 1 the same ranks span 0.54 % to 8.7 % but every step costs 40 % more on the 2-core CPU
that the embedded chapter must fit, so width ¾ is the one shipped. Images are 16×16 (the embedded chapters'
size for runs on this budget).

Optimiser: SGD with momentum 0.9 and Nesterov, lr 0.1 at batch 128 after a linear warm-up, cosine decay to 0,
weight decay 5e-4, random ±2 px shifts; fixed step counts (never wall-clock), so the same seed gives the same
weights on the CPU. The run is resumable (safetensors + JSON checkpoints in the run cache) and shows a progress bar.
It writes ``model.safetensors`` (float32, ~0.6 MB), ``config.json`` (architecture, recipe, corpus, checksum) and
``metrics.json`` (loss curve, source validation accuracy, time).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from .config import check_int_range, check_lr
from .data import get_dataset
from .mdl import to_input
from .models.resnet_cifar import ResNetTrunk
from .store import (
    CHECKSUM_KEY,
    Checkpoint,
    atomic_write_json,
    load_optimizer_tensors,
    load_verified,
    optimizer_tensors,
    save_tensors,
)

SHIPPED_DIR = Path(__file__).resolve().parent / "models" / "shipped" / "tiny_resnet"
#: The source corpus: embedded domains that are none of chapter 2's targets (the DomainNet and ImageNet-to-Sketch
#: stand-ins are digits, shapes, textures, photographs, vehicles and faces).
SOURCE_DOMAINS = ("aerial_scenes", "font_styles", "land_cover", "letters", "traffic_signs")


@dataclass(frozen=True)
class ResNetFoundationConfig:
    """Architecture and hyper-parameters of the recipe (see the module docstring)."""

    depth: int = 20
    width: float = 0.75
    image_size: int = 16
    steps: int = 5000
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup: int = 200
    shift: int = 2
    n_per_class: int = 800
    val_per_class: int = 50
    seed: int = 0
    data_seed: int = 2000

    def __post_init__(self):
        check_int_range(self.steps, "steps", 1, 1_000_000)
        check_int_range(self.batch_size, "batch_size", 2, 65_536)
        check_int_range(self.warmup, "warmup", 0, self.steps)
        check_int_range(self.image_size, "image_size", 8, 64)
        check_int_range(self.shift, "shift", 0, 8)
        check_int_range(self.n_per_class, "n_per_class", 1, 100_000)
        check_int_range(self.val_per_class, "val_per_class", 1, 100_000)
        check_int_range(self.seed, "seed", 0)
        check_int_range(self.data_seed, "data_seed", 0)
        check_lr(self.lr)
        ResNetTrunk(self.depth, self.width, norm="batch", act="relu")  # an impossible architecture fails here
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum={self.momentum!r} is out of range; allowed: [0, 1)")
        if not 0 <= self.weight_decay < 1:
            raise ValueError(f"weight_decay={self.weight_decay!r} is out of range; allowed: [0, 1)")

    def architecture(self) -> dict:
        return {"depth": self.depth, "width": self.width, "norm": "batch", "act": "relu"}


def build_trunk(architecture: dict) -> ResNetTrunk:
    return ResNetTrunk(architecture["depth"], architecture["width"], norm=architecture["norm"],
                       act=architecture["act"])


def source_corpus(cfg: ResNetFoundationConfig, split: str, progress: bool = False) -> tuple[Tensor, Tensor, list[str]]:
    """uint8 images, labels (0..67: the source domains' classes one after another) and class names of one split."""
    xs, ys, names, offset = [], [], [], 0
    per_class = cfg.n_per_class if split == "train" else cfg.val_per_class
    for name in tqdm(SOURCE_DOMAINS, desc=f"source corpus ({split})", disable=not progress, leave=False):
        ds = get_dataset(name, split, "embedded", seed=cfg.data_seed, n_per_class=per_class,
                         image_size=cfg.image_size)
        xs.append(ds.images)
        ys.append(ds.labels + offset)
        names += [f"{name}:{c}" for c in ds.classnames]
        offset += len(ds.classnames)
    return torch.cat(xs), torch.cat(ys), names


def shift_offsets(n: int, g: torch.Generator, pad: int) -> tuple[Tensor, Tensor]:
    """Per image, the (row, column) offsets in 0..2·``pad`` of :func:`random_shift` (drawn in that order)."""
    return (torch.randint(0, 2 * pad + 1, (n,), generator=g), torch.randint(0, 2 * pad + 1, (n,), generator=g))


def random_shift(x: Tensor, g: torch.Generator, pad: int) -> Tensor:
    """Each image moved by up to ±``pad`` pixels in x and y (edge pixels replicated)."""
    if pad == 0:
        return x
    return apply_shift(x, *shift_offsets(len(x), g, pad), pad)


def apply_shift(x: Tensor, dy: Tensor, dx: Tensor, pad: int) -> Tensor:
    """Images moved by ``dy − pad`` rows and ``dx − pad`` columns (edge pixels replicated)."""
    n, c, h, w = x.shape
    dev = x.device
    xp = F.pad(x, (pad,) * 4, mode="replicate")
    rows = (dy.to(dev)[:, None] + torch.arange(h, device=dev))[:, None, :, None]
    cols = (dx.to(dev)[:, None] + torch.arange(w, device=dev))[:, None, None, :]
    return xp[torch.arange(n, device=dev)[:, None, None, None], torch.arange(c, device=dev)[None, :, None, None], rows,
              cols]


def _lr_at(step: int, cfg: ResNetFoundationConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * t))


@torch.no_grad()
def accuracy(trunk: nn.Module, head: nn.Module, x: Tensor, y: Tensor, batch_size: int = 1000) -> float:
    trunk.eval()
    head.eval()
    pred = torch.cat([head(trunk(to_input(x[i:i + batch_size]))).argmax(1) for i in range(0, len(x), batch_size)])
    return 100.0 * float((pred == y).float().mean())


def pretrain(cfg: ResNetFoundationConfig = ResNetFoundationConfig(), out_dir: Path = SHIPPED_DIR,
             progress: bool = True, *, checkpoint_every: int = 250) -> dict:
    """Run the recipe and write ``model.safetensors``, ``config.json`` and ``metrics.json`` to ``out_dir``.

    A checkpoint (run cache, kind ``resnet_foundation``) is saved every ``checkpoint_every`` steps and resumed from.
    """
    torch.manual_seed(cfg.seed)
    start = time.perf_counter()
    x, y, classnames = source_corpus(cfg, "train", progress)
    vx, vy, _ = source_corpus(cfg, "val", progress)
    corpus_seconds = time.perf_counter() - start

    trunk = build_trunk(cfg.architecture())
    head = nn.Linear(trunk.out_features, len(classnames))
    params = list(trunk.parameters()) + list(head.parameters())
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": cfg.weight_decay},
                           {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, momentum=cfg.momentum,
                          nesterov=cfg.momentum > 0)
    ckpt = Checkpoint("resnet_foundation", {**dataclasses.asdict(cfg), "corpus": list(SOURCE_DOMAINS)})
    history: list[dict] = []
    running: list[float] = []
    step0 = 0
    g = torch.Generator().manual_seed(cfg.seed)
    loaded = ckpt.load()
    if loaded is not None:
        tensors, state = loaded
        trunk.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("trunk.")})
        head.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("head.")})
        load_optimizer_tensors(opt, tensors, state["optimizer"])
        g.set_state(tensors["rng"])
        step0, history, running = state["step"], state["history"], list(state["running"])

    train_seconds = sum(h["seconds"] for h in history)
    t_last = time.perf_counter()
    trunk.train()
    head.train()
    bar = tqdm(range(step0, cfg.steps), desc="pretrain ResNet", disable=not progress, initial=step0, total=cfg.steps)
    for step in bar:
        idx = torch.randint(len(x), (cfg.batch_size,), generator=g)
        xb = random_shift(to_input(x[idx]), g, cfg.shift)
        for group in opt.param_groups:
            group["lr"] = _lr_at(step, cfg)
        loss = F.cross_entropy(head(trunk(xb)), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running.append(float(loss.detach()))
        if (step + 1) % 50 == 0 or step + 1 == cfg.steps:
            now = time.perf_counter()
            history.append({"step": step + 1, "loss": float(np.mean(running)), "lr": _lr_at(step, cfg),
                            "seconds": now - t_last})
            train_seconds += now - t_last
            t_last, running = now, []
            bar.set_postfix(loss=f"{history[-1]['loss']:.3f}")
        if (step + 1) % checkpoint_every == 0 and step + 1 < cfg.steps:
            opt_t, opt_s = optimizer_tensors(opt)
            ckpt.save({**{f"trunk.{k}": v for k, v in trunk.state_dict().items()},
                       **{f"head.{k}": v for k, v in head.state_dict().items()}, **opt_t, "rng": g.get_state()},
                      {"step": step + 1, "history": history, "optimizer": opt_s, "running": running})
            t_last = time.perf_counter()

    out_dir = Path(out_dir)
    state = {f"trunk.{k}": v.detach().contiguous() for k, v in trunk.state_dict().items()}
    state.update({f"head.{k}": v.detach().contiguous() for k, v in head.state_dict().items()})
    checksum = save_tensors(state, out_dir / "model.safetensors")
    atomic_write_json({"architecture": cfg.architecture(), "image_size": cfg.image_size, "input": "uint8/127.5 - 1",
                       "recipe": dataclasses.asdict(cfg), "source_domains": list(SOURCE_DOMAINS),
                       "classnames": classnames, "dtype": "float32", "sha256": checksum}, out_dir / "config.json")
    metrics = {"train_seconds": train_seconds, "corpus_seconds": corpus_seconds, "history": history,
               "corpus_images": int(len(x)), "corpus_classes": len(classnames),
               "source_val_accuracy": accuracy(trunk, head, vx, vy), "source_train_accuracy":
               accuracy(trunk, head, x[:len(vx)], y[:len(vx)]), "torch": torch.__version__,
               "machine": platform.machine(), "threads": torch.get_num_threads()}
    atomic_write_json(metrics, out_dir / "metrics.json")
    ckpt.clear()
    return metrics


def load(path: Path | None = None) -> tuple[ResNetTrunk, dict]:
    """The shipped (or ``path``'s) pretrained trunk, checksum verified, in eval mode, and its ``config.json``.

    ``FileNotFoundError`` or ``ValueError`` (damaged or edited file) name the file and say how to remake it."""
    folder = Path(path) if path is not None else SHIPPED_DIR
    config_file = folder / "config.json"
    if not config_file.exists():
        raise FileNotFoundError(f"no pretrained ResNet at {folder} (config.json missing); `make foundation-resnet` "
                                "makes it")
    config = json.loads(config_file.read_text())
    loaded = load_verified(folder / "model.safetensors", action="cannot use it")
    if loaded is None or loaded[1].get(CHECKSUM_KEY) != config["sha256"]:
        raise ValueError(f"{folder / 'model.safetensors'} is missing or does not match the checksum in "
                         f"config.json; `make foundation-resnet` remakes it")
    tensors = loaded[0]
    trunk = build_trunk(config["architecture"])
    trunk.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("trunk.")})
    return trunk.eval(), config


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Pre-train chapter 2's embedded ResNet (make foundation-resnet).")
    for f in dataclasses.fields(ResNetFoundationConfig):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default)
    parser.add_argument("--out", type=Path, default=SHIPPED_DIR)
    args = vars(parser.parse_args(argv))
    out = args.pop("out")
    metrics = pretrain(ResNetFoundationConfig(**args), out)
    print(json.dumps({k: metrics[k] for k in ("source_val_accuracy", "source_train_accuracy", "train_seconds",
                                              "corpus_seconds")}, indent=1))


if __name__ == "__main__":
    main()
