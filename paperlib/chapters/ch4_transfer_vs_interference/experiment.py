"""Chapter 4's experiment: the grid of independent and joint ResNet-32s (ch4 Secs. 3.3–3.5, S1), run
through the run cache, and what is measured on it: per-model accuracy, sample-wise PerfGain,
Interference and Transfer (ch4 Eqs. (2)–(3)), CKA between independent models (ch4 Sec. 3.4) and the
loss weights during training."""

from __future__ import annotations

import itertools
from concurrent.futures import Executor
from functools import partial

import pandas as pd

from ...mdl import (
    DomainData,
    RunSpec,
    compute,
    load_domain,
    probe_features,
    probe_images,
    run_artifacts,
    unbits,
)
from ...metrics import linear_cka, transfer_scores
from ..kit import SerialExecutor, WorkerPool, run_cached_grid, worker_state
from .config import Ch4Config


class Chapter4:
    """Runs chapter 4's grid through the run cache and collects its results as DataFrames."""

    def __init__(self, cfg: Ch4Config, progress: bool = True, executor: Executor | None = None):
        self.cfg = cfg
        self.progress = progress
        self.pool = WorkerPool(cfg.workers, executor, cfg.executor)
        self.data: dict[str, DomainData] = {d: load_domain(d, cfg.profile, cfg.protocol, cfg.data_root)
                                            for d in cfg.domains}
        counts = {d: x.n_classes for d, x in self.data.items()}
        if len(set(counts.values())) != 1:
            raise ValueError(f"Sec. 3.3 fixes equal classes per domain; these domains have {counts}")
        self.probe = probe_images([self.data[d] for d in cfg.domains])
        self._results: dict[RunSpec, dict] | None = None

    def spec(self, domains: tuple[str, ...], width: float, weighting: str, seed: int) -> RunSpec:
        return RunSpec(tuple(domains), width, weighting, seed, self.cfg.protocol, self.cfg.profile)

    def specs(self) -> list[RunSpec]:
        """Every model of the grid: per seed and width, the independent models, then the joint ones."""
        c = self.cfg
        out = []
        for seed, width in itertools.product(c.seeds, c.widths):
            out += [self.spec((d,), width, "uniform", seed) for d in c.domains]
            out += [self.spec(p, width, w, seed) for p in c.pairs for w in c.weightings]
        return out

    def results(self) -> dict[RunSpec, dict]:
        """Train (or load) every model of the grid, with a progress bar over the runs."""
        if self._results is None:
            self._results = self.train(self.specs())
        return self._results

    def train(self, specs: list[RunSpec]) -> dict[RunSpec, dict]:
        """Train (or load) the models of ``specs``. The uncached ones are trained on the chapter's workers
        (local processes or Dask workers, the costliest first) or here, and stored by this process."""
        order = sorted(specs, key=lambda s: -len(s.domains) * s.width ** 2)
        job = partial(_compute_in_worker, self.cfg) if self.pool.parallel else \
            partial(compute, data=self.data, device=self.cfg.device, probe=self.probe)
        done = run_cached_grid(job, order, identity=lambda s: (s.kind, s.config()), artifacts=run_artifacts,
                               executor=self.pool.executor(), desc="chapter 4 grid", progress=self.progress)
        results = dict(zip(order, done))
        return {s: results[s] for s in specs}

    def independent(self) -> pd.DataFrame:
        """One row per independent model: seed, width, params, domain, acc."""
        rows = [dict(seed=s.seed, width=s.width, params=r["parameters"], domain=s.domains[0],
                     acc=r["domains"][s.domains[0]]["acc"]) for s, r in self.results().items() if len(s.domains) == 1]
        return pd.DataFrame(rows)

    def scores(self) -> pd.DataFrame:
        """PerfGain, Interference and Transfer (ch4 Eqs. (2)–(3)) of every joint model on each of its domains,
        against the independent model of the same domain, width and seed."""
        res = self.results()
        singles = {(s.domains[0], s.width, s.seed): (r["domains"][s.domains[0]]["acc"],
                                                     unbits(r["domains"][s.domains[0]]["correct"]))
                   for s, r in res.items() if len(s.domains) == 1}
        rows = []
        for s, r in res.items():
            if len(s.domains) == 1:
                continue
            for d in s.domains:
                single_acc, single_correct = singles[d, s.width, s.seed]
                sc = transfer_scores(single_correct, unbits(r["domains"][d]["correct"]))
                rows.append(dict(seed=s.seed, width=s.width, params=r["parameters"], weighting=s.weighting,
                                 pair=" & ".join(s.domains), domain=d,
                                 partner=next(o for o in s.domains if o != d), acc=r["domains"][d]["acc"],
                                 single_acc=single_acc, perf_gain=sc.perf_gain, interference=sc.interference,
                                 transfer=sc.transfer))
        return pd.DataFrame(rows)

    def cka(self) -> pd.DataFrame:
        """Linear CKA (plain and debiased) between the independent models of each pair of domains, on the
        probe set (Sec. 3.4), per seed and width."""
        self.results()
        rows = []
        for seed, width in itertools.product(self.cfg.seeds, self.cfg.widths):
            feats = {d: probe_features(self.spec((d,), width, "uniform", seed)) for d in self.cfg.domains}
            for a, b in self.cfg.pairs:
                rows.append(dict(seed=seed, width=width, pair=f"{a} & {b}", a=a, b=b,
                                 cka=linear_cka(feats[a], feats[b]),
                                 cka_debiased=linear_cka(feats[a], feats[b], debiased=True)))
        return pd.DataFrame(rows)

    def weight_history(self) -> pd.DataFrame:
        """The loss weights λ_t per epoch of every joint model (mean over the epoch's steps)."""
        rows = []
        for s, r in self.results().items():
            if len(s.domains) == 1:
                continue
            for epoch, ws in enumerate(r["history"]["weights"], 1):
                for d, w in zip(s.domains, ws):
                    rows.append(dict(seed=s.seed, width=s.width, weighting=s.weighting, pair=" & ".join(s.domains),
                                     domain=d, epoch=epoch, weight=w))
        return pd.DataFrame(rows)


def _compute_in_worker(cfg: Ch4Config, spec: RunSpec) -> tuple[dict, dict]:
    """One model of the grid trained on a worker (a local process or a Dask worker; its chapter's data and
    probe images loaded once per process); the result and tensors go back to the notebook's process."""
    chapter = worker_state(repr(cfg), lambda: Chapter4(cfg, progress=False, executor=SerialExecutor()))
    return compute(spec, chapter.data, device=cfg.device, probe=chapter.probe)


__all__ = ["Chapter4"]
