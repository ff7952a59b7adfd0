"""Chapter 2's experiment: every domain of the convolutional benchmarks adapted by each baseline and FTN at each
rank (ch2 Tables 1-2, Fig. 2), the attention adapters on a CLIP ViT (Table 3), and one FTN network holding every
domain at once (no forgetting, claim C13), all through the run cache.

Every run is one :class:`~paperlib.ftn_train.ConvRun` or :class:`~paperlib.ftn_train.ViTRun`, computed wherever the
chapter's executor puts it (this process, local worker processes, Dask workers) and stored by the notebook's
process (:func:`~paperlib.chapters.kit.run_cached_grid`).
"""

from __future__ import annotations

import copy
import dataclasses
from concurrent.futures import Executor
from functools import partial

import pandas as pd
import torch
from torch import nn

from ... import ftn
from ... import resnet_foundation as rf
from ...data.dataset import limited
from ...ftn_train import (
    ConvRun,
    DomainSplits,
    StreamedSplits,
    ViTRun,
    compute_conv,
    compute_vit,
    evaluate,
    load_paper_splits,
    load_splits,
    load_vit_paper_splits,
    to_input,
)
from ...models.clip import load_clip, model_id
from ...store import artifact_path, load_tensors
from ..kit import WorkerPool, run_cached_grid, worker_state
from .config import BENCHMARKS, Ch2Config

#: The image size of the ViT runs: the shipped tiny CLIP's input (32 px); ``paper`` streams 224 px.
VIT_SIZE = 32


def conv_data(cfg: Ch2Config) -> dict[str, DomainSplits | StreamedSplits]:
    """Every convolutional domain's three splits: in memory at the protocol's size (embedded, the same in every
    process), or streamed from ``data_root`` with TAPS's transforms (paper)."""
    p = cfg.conv_protocol
    names = dict.fromkeys(d for b in cfg.benchmarks for d in cfg.domains[b])
    if cfg.profile == "paper":
        return {d: _limited(load_paper_splits(d, cfg.data_root, p.image_size, cfg.loader_workers), cfg.eval_images)
                for d in names}
    return {d: load_splits(d, cfg.profile, p.image_size, p.train_per_class, p.val_per_class, p.test_per_class)
            for d in names}


def _limited(data: StreamedSplits, n: int | None) -> StreamedSplits:
    """``data`` with its validation and test splits cut to their first ``n`` images in one fixed (seed-0) permutation
    (the ``eval_images`` parameter; None: unchanged)."""
    return data if n is None else dataclasses.replace(data, val=limited(data.val, n), test=limited(data.test, n))


def vit_data(cfg: Ch2Config, bundle_of) -> dict[str, DomainSplits | StreamedSplits]:
    p = cfg.vit_protocol
    if not cfg.vit:
        return {}
    if cfg.profile == "paper":
        return {d: _limited(load_vit_paper_splits(d, cfg.data_root, bundle_of(), cfg.loader_workers), cfg.eval_images)
                for d in cfg.vit_datasets}
    return {d: load_splits(d, cfg.profile, VIT_SIZE, p.train_per_class, p.val_per_class, p.test_per_class)
            for d in cfg.vit_datasets}


def torchvision_backbone(name: str, weights: str | None = "IMAGENET1K_V1") -> tuple[nn.Module, str]:
    """A torchvision classifier as a trunk (its ``fc`` replaced by the identity, ``out_features`` its width) and the
    identity of its weights (ch2 Sec. 4.1.1: ImageNet-pretrained; torchvision caches the download). ``weights=None``
    is the architecture randomly initialised (a rehearsal; identity ``torchvision:<name>:random``)."""
    import torchvision
    model = torchvision.models.get_model(name, weights=weights)
    width = model.fc.in_features
    model.fc = nn.Identity()
    model.out_features = width
    return model.eval(), f"torchvision:{name}:{weights or 'random'}"


def backbones(cfg: Ch2Config) -> dict[str, tuple[nn.Module, str]]:
    """benchmark → (frozen pretrained trunk, identity of its weights): the shipped ResNet (embedded, its checksum) or
    the benchmark's torchvision backbone (paper)."""
    if cfg.profile != "paper":
        trunk, config = rf.load()
        shipped = (trunk, f"tiny_resnet:{config['sha256'][:16]}")
        return {b: shipped for b in cfg.benchmarks}
    built: dict[str, tuple[nn.Module, str]] = {}
    for name in dict.fromkeys(cfg.backbones.values()):
        built[name] = torchvision_backbone(name, None) if cfg.pretrained == "random" else torchvision_backbone(name)
    return {b: built[cfg.backbones[b]] for b in cfg.benchmarks}


def _state(cfg: Ch2Config, bundle_of) -> dict:
    trunks = backbones(cfg)
    return {"conv": conv_data(cfg), "vit": vit_data(cfg, bundle_of), "backbones": trunks,
            "trunks": {w: t for t, w in trunks.values()}}


def _compute(state: dict, heads: dict, bundle_of, device: str, item):
    if isinstance(item, ConvRun):
        return compute_conv(item, state["conv"][item.domain], state["trunks"][item.weights], device=device)
    return compute_vit(item, state["vit"][item.dataset], bundle_of(), heads[item.dataset], device=device)


def _compute_in_worker(cfg: Ch2Config, heads: dict, item):
    """One run on a worker; the chapter's data, trunks and CLIP model are built once per process."""
    def bundle_of():
        return worker_state(("ch2-clip", cfg.profile, cfg.pretrained),
                            lambda: load_clip(cfg.profile, pretrained=cfg.pretrained))
    state = worker_state(("ch2", repr(cfg)), lambda: _state(cfg, bundle_of))
    return _compute(state, heads, bundle_of, cfg.device, item)


def _identity(item) -> tuple[str, dict]:
    return item.kind, item.config()


def _artifacts(item) -> tuple[str, ...]:
    return ("task",) if isinstance(item, ConvRun) else ("trained",)


def _cost(item) -> float:
    """Rough relative cost, to start the longest runs first (the grid's end is then not one long run)."""
    if isinstance(item, ConvRun):  # in twentieths of an FTN run
        return {"fe": 2, "fc_bn": 14, "ftn": 20, "ft": 20}[item.method]
    return {"linear_probe": 1, "ft": 24, "lora_qv": 20, "ftn_qv": 20, "ftn_o": 20}[item.method]


class Chapter2:
    """Runs chapter 2's experiment through the run cache and collects its results as DataFrames."""

    def __init__(self, cfg: Ch2Config, progress: bool = True, executor: Executor | None = None):
        self.cfg = cfg
        self.progress = progress
        self.pool = WorkerPool(cfg.workers, executor, cfg.executor)
        self._bundle = None
        self._heads: dict[str, torch.Tensor] | None = None
        self.state = _state(cfg, self.bundle)
        self._done: dict[str, pd.DataFrame] = {}

    # -- runs ------------------------------------------------------------------------------------------
    def bundle(self):
        if self._bundle is None:
            self._bundle = load_clip(self.cfg.profile, pretrained=self.cfg.pretrained)
        return self._bundle

    def vit_heads(self) -> dict[str, torch.Tensor]:
        """The zero-shot head of every ViT dataset (the trainable heads start from them), built once from the
        class names and templates of the data the chapter loaded."""
        if self._heads is None:
            self._heads = {}
            for d, data in self.state["vit"].items():
                names, templates = (data.train.classnames, data.train.templates) if isinstance(data, StreamedSplits) \
                    else (data.classnames, data.templates)
                self._heads[d] = self.bundle().head(names, templates).weight
        return self._heads

    def compute(self, items: list, desc: str) -> list[dict]:
        heads = self.vit_heads() if any(isinstance(i, ViTRun) for i in items) else {}
        job = partial(_compute_in_worker, self.cfg, heads) if self.pool.parallel else \
            partial(_compute, self.state, heads, self.bundle, self.cfg.device)
        order = sorted(range(len(items)), key=lambda i: -_cost(items[i]))
        results = run_cached_grid(job, [items[i] for i in order], identity=_identity, artifacts=_artifacts,
                                  executor=self.pool.executor(), desc=desc, progress=self.progress)
        out: list = [None] * len(items)
        for i, res in zip(order, results):
            out[i] = res
        return out

    def trunk(self, benchmark: str) -> nn.Module:
        return self.state["backbones"][benchmark][0]

    def conv_run(self, benchmark: str, domain: str, method: str, rank: int, seed: int) -> ConvRun:
        c = self.cfg
        return ConvRun(domain, method, rank, seed, c.init, c.profile, c.conv_protocol,
                       self.state["backbones"][benchmark][1], c.adapt_stem)

    def conv_runs(self) -> list[ConvRun]:
        c = self.cfg
        runs = []
        for b in c.benchmarks:
            for d in c.domains[b]:
                for seed in c.seeds:
                    runs += [self.conv_run(b, d, m, 0, seed) for m in c.baselines]
                    runs += [self.conv_run(b, d, "ftn", r, seed) for r in c.ranks[b]]
        return list(dict.fromkeys(runs))

    def vit_runs(self) -> list[ViTRun]:
        c = self.cfg
        if not c.vit:
            return []
        weights = model_id(self.bundle().name, self.bundle().pretrained)
        return [ViTRun(d, m, c.vit_rank, c.alphas.get(m), seed, c.profile, c.vit_protocol, weights)
                for d in c.vit_datasets for m in c.vit_methods for seed in c.seeds]

    def run_all(self) -> None:
        """Every run of the chapter in one grid (conv and ViT together, longest first)."""
        self.compute(self.conv_runs() + self.vit_runs(), "chapter 2 runs")

    # -- results ---------------------------------------------------------------------------------------
    def conv(self) -> pd.DataFrame:
        """One row per convolutional run: benchmark, domain, method, rank, seed, accuracies (%), parameters."""
        if "conv" not in self._done:
            runs = self.conv_runs()
            results = self.compute(runs, "chapter 2 conv runs")
            rows = []
            for run, res in zip(runs, results):
                for b in self.cfg.benchmarks:
                    if run.domain in self.cfg.domains[b]:
                        rows.append(dict(benchmark=b, domain=run.domain, method=run.method, rank=run.rank,
                                         seed=run.seed, acc=res["acc"], val_acc=res["val_acc"],
                                         initial_acc=res["initial_acc"], parameters=res["parameters"],
                                         head=res["head"],
                                         seconds=res["seconds"], loss=res["loss"],
                                         delta_norms=res.get("delta_norms")))
            self._done["conv"] = pd.DataFrame(rows)
        return self._done["conv"]

    def vit(self) -> pd.DataFrame:
        """One row per ViT run: dataset, method, seed, accuracies (%), zero-shot accuracy, adapter parameters."""
        if "vit" not in self._done:
            runs = self.vit_runs()
            results = self.compute(runs, "chapter 2 ViT runs") if runs else []
            self._done["vit"] = pd.DataFrame([dict(dataset=r.dataset, method=r.method, seed=r.seed, acc=res["acc"],
                                                   val_acc=res["val_acc"], zero_shot=res["zero_shot_acc"],
                                                   adapter=res["adapter"], head=res["head"], seconds=res["seconds"])
                                              for r, res in zip(runs, results)])
        return self._done["vit"]

    def one_network(self, benchmark: str | None = None, rank: int | None = None) -> pd.DataFrame:
        """Every domain of a benchmark loaded as a task of **one** FTN network on the shared frozen trunk (first
        seed, the highest rank unless given), each evaluated there: the accuracy equals its own run's, bit for bit
        in the predictions, because no task shares a trainable tensor (claim C13)."""
        c = self.cfg
        b = benchmark or c.benchmarks[-1]
        rank = rank or max(c.ranks[b])
        trunk = self.trunk(b)
        net = ftn.FTN(copy.deepcopy(trunk), trunk.out_features, adapt_stem=c.adapt_stem).to(c.device).eval()
        rows = []
        runs = [self.conv_run(b, d, "ftn", rank, c.seeds[0]) for d in c.domains[b]]
        results = self.compute(runs, "loading runs")
        for run in runs:
            data = self.state["conv"][run.domain]
            t = net.add_task(data.n_classes, rank, init=c.init)
            net.load_task_state(t, load_tensors(artifact_path(run.kind, run.config(), "task")), source_task=0)
        for t, (run, res) in enumerate(zip(runs, results)):
            data = self.state["conv"][run.domain]
            together = evaluate(lambda x, t=t: net(x, t), data.test, c.device,
                                prepare=None if isinstance(data, StreamedSplits) else to_input)
            rows.append(dict(domain=run.domain, task=t, alone=res["acc"], together=together))
        return pd.DataFrame(rows)

    def shutdown(self) -> None:
        self.pool.shutdown()


__all__ = ["BENCHMARKS", "Chapter2", "backbones", "conv_data", "torchvision_backbone", "vit_data"]
