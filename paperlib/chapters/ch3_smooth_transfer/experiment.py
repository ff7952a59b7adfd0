"""Chapter 3's experiment: the baselines of ch3 Table 1, the TPE search of λ_ω(t) per (pair, N) (ch3
Sec. 2, A.1/A.2), Ours at every seed, and the BN ablation (A.1/A.2), all through the run cache.

Every run is one :class:`~paperlib.smooth.STLRun` computed by :func:`paperlib.smooth.compute` wherever the
chapter's executor puts it (here, local worker processes, or Dask workers on other machines) and stored by
the notebook's process (:func:`~paperlib.chapters.kit.run_cached_grid`). The searches of all (pair, N)
advance in lockstep: each round's trials of every search form one grid, so k × (pairs × N) runs are
in flight at once.
"""

from __future__ import annotations

from concurrent.futures import Executor
from functools import partial

import numpy as np
import pandas as pd

from ...config import cache_dir
from ...search import RoundSearch, best_replacements, completed, search_together, sqlite_url
from ...smooth import PairData, Schedule, STLRun, compute, load_pair, nested_subsets, run_steps
from ...store import CODE_VERSION, artifact_path, content_key, load_tensors, plain
from ..kit import WorkerPool, run_cached_grid, worker_state
from .config import Ch3Config

#: The methods of Table 1 by our names (ch3 Table 1's columns) and the extra rows.
METHODS = ("target", "finetune", "multitask", "ours")


def chapter_data(cfg: Ch3Config) -> dict[str, PairData]:
    """Every pair's data, with its nested target subsets (the same in every process)."""
    out = {}
    for pair in cfg.pairs:
        val = cfg.target_val[pair] if cfg.target_val else None  # paper: A.1/A.2's, or the parameter's
        d = load_pair(pair, cfg.profile, cfg.protocols[pair], cfg.data_root, target_val=val)
        d.subsets = nested_subsets(len(d.target_y), cfg.sizes[pair], seed=0)
        out[pair] = d
    return out


def _identity(item: tuple[STLRun, dict | None]) -> tuple[str, dict]:
    return item[0].kind, item[0].config()


def _artifacts(item: tuple[STLRun, dict | None]) -> tuple[str, ...]:
    return ("model",) if item[0].method == "source" else ()


def _compute_here(data: dict[str, PairData], device: str, item: tuple[STLRun, dict | None]):
    run, start = item
    return compute(run, data[run.pair], device=device, start=start)


def _compute_in_worker(cfg: Ch3Config, item: tuple[STLRun, dict | None]):
    """One run on a worker (a local process or a Dask worker); the chapter's data is built once per
    process; the result goes back to the notebook's process, which stores it."""
    data = worker_state(("ch3", repr(cfg)), lambda: chapter_data(cfg))
    return _compute_here(data, cfg.device, item)


class Chapter3:
    """Runs chapter 3's experiment through the run cache and collects its results as DataFrames."""

    def __init__(self, cfg: Ch3Config, progress: bool = True, executor: Executor | None = None):
        self.cfg = cfg
        self.progress = progress
        self.pool = WorkerPool(cfg.workers, executor, cfg.executor)
        self.data = chapter_data(cfg)
        self._done: dict[str, pd.DataFrame] = {}

    # -- runs ------------------------------------------------------------------------------------------
    def run(self, pair: str, method: str, n: int | None, seed: int, schedule: Schedule | None = None,
            bn: str | None = None) -> STLRun:
        return STLRun(pair, method, n, seed, self.cfg.protocols[pair], self.cfg.profile,
                      schedule or Schedule("target"), bn)

    def multitask_schedule(self) -> Schedule:
        """The Multi-task baseline: ch3 Eq. (3) with the constant λ₀ (0.5 unless the parameter says otherwise)."""
        return Schedule("constant", weight=self.cfg.multitask_weight)

    def compute(self, runs: list[STLRun], desc: str, progress: bool | None = None) -> list[dict]:
        """The results of ``runs`` (cached, or computed on the chapter's executor and stored here). A
        fine-tuning run is given its seed's pre-trained weights, which must be computed already."""
        starts: dict[STLRun, dict] = {}  # each pre-training run's weights loaded once for all its N

        def start(run: STLRun) -> dict | None:
            if run.method != "finetune":
                return None
            if run.pretraining() not in starts:
                starts[run.pretraining()] = self._pretrained(run)
            return starts[run.pretraining()]

        items = [(r, start(r)) for r in runs]
        job = partial(_compute_in_worker, self.cfg) if self.pool.parallel else \
            partial(_compute_here, self.data, self.cfg.device)
        return run_cached_grid(job, items, identity=_identity, artifacts=_artifacts, executor=self.pool.executor(),
                               desc=desc, progress=self.progress if progress is None else progress)

    def _pretrained(self, run: STLRun) -> dict:
        source = run.pretraining()
        self.compute([source], "source pre-training", progress=False)
        return load_tensors(artifact_path(source.kind, source.config(), "model"))

    # -- the baselines -----------------------------------------------------------------------------------
    def baseline_runs(self) -> dict[str, list[STLRun]]:
        c = self.cfg
        out: dict[str, list[STLRun]] = {"source": [], "target": [], "finetune": [], "multitask": []}
        for pair in c.pairs:
            for seed in c.seeds:
                out["source"].append(self.run(pair, "source", None, seed, Schedule("source")))
                for n in c.sizes[pair]:
                    out["target"].append(self.run(pair, "target", n, seed))
                    out["finetune"].append(self.run(pair, "finetune", n, seed))
                    out["multitask"].append(self.run(pair, "joint", n, seed, self.multitask_schedule()))
        return out

    def baselines(self) -> pd.DataFrame:
        """Target, Fine-tune and Multi-task per (pair, N, seed): one row each (ch3 Table 1's baselines)."""
        if "baselines" not in self._done:
            runs = self.baseline_runs()
            first = runs["source"] + runs["target"] + runs["multitask"]  # fine-tuning needs the pre-training
            done = dict(zip(first, self.compute(first, "chapter 3 baselines")))
            done |= dict(zip(runs["finetune"], self.compute(runs["finetune"], "chapter 3 fine-tune")))
            rows = [_row(r, done[r], method) for method in ("target", "finetune", "multitask") for r in runs[method]]
            if self.cfg.searched_multitask:
                rows += self.searched_multitask()
            self._done["baselines"] = pd.DataFrame(rows)
        return self._done["baselines"]

    def searched_multitask(self) -> list[dict]:
        """The fairness row (ours, not the paper's): Multi-task with the constant λ₀ chosen on target
        validation from as many evenly spaced values in (0, 1) as the search has trials, first seed."""
        rows = []
        for pair in self.cfg.pairs:
            k, r = self.cfg.search[pair]
            grid = np.linspace(0, 1, k * r + 2)[1:-1]
            runs = [self.run(pair, "joint", n, self.cfg.seeds[0], Schedule("constant", weight=float(w)))
                    for n in self.cfg.sizes[pair] for w in grid]
            results = self.compute(runs, "chapter 3 searched multi-task")
            for n in self.cfg.sizes[pair]:
                mine = [(res["best_val"], run, res) for run, res in zip(runs, results) if run.n == n]
                _, run, res = max(mine, key=lambda m: m[0])
                rows.append(_row(run, res, "multitask_searched"))
        return rows

    # -- the search ------------------------------------------------------------------------------------
    def storage(self) -> str:
        return self.cfg.storage or sqlite_url(cache_dir() / "ch3" / "studies.sqlite3")

    def searches(self) -> list[tuple[str, int, RoundSearch]]:
        """One TPE search per (pair, N), named by everything that defines its trials."""
        c = self.cfg
        out = []
        for pair in c.pairs:
            k, _ = c.search[pair]
            for n in c.sizes[pair]:
                key = content_key({"profile": c.profile, "pair": pair, "n": n, "protocol": plain(c.protocols[pair]),
                                   "space": plain(c.space), "per_round": k, "seed": c.search_seed,
                                   "run_seed": c.seeds[0], "code_version": CODE_VERSION})
                name = f"ch3-{c.profile}-{pair}-N{n}-{key[:12]}"
                out.append((pair, n, RoundSearch(name, self.storage(), c.space, k, c.search_seed)))
        return out

    def trial_run(self, pair: str, n: int, omega: dict, seed: int | None = None, bn: str | None = None) -> STLRun:
        """The run of one trial ω = {t0: t₀/T, tau: τ/T, alpha: α} (first seed unless given)."""
        schedule = Schedule("smooth", t0=float(omega["t0"]), tau=float(omega["tau"]), alpha=float(omega["alpha"]))
        return self.run(pair, "joint", n, self.cfg.seeds[0] if seed is None else seed, schedule, bn)

    def search(self) -> pd.DataFrame:
        """Run (or resume) every search to its rounds; one row per completed trial: pair, N, trial, round,
        ω, the run's best validation and test accuracy (%), early-stopping step and T."""
        if "search" not in self._done:
            searches = self.searches()
            rounds = max(self.cfg.search[p][1] for p in self.cfg.pairs)

            def evaluate(batch):
                runs = [self.trial_run(searches[i][0], searches[i][1], omega) for i, omega in batch]
                return [res["best_val"] for res in self.compute(runs, "chapter 3 search round")]

            from tqdm.auto import tqdm
            bar = tqdm(total=rounds, desc="TPE rounds", disable=not self.progress)
            studies = search_together([s for _, _, s in searches], evaluate, rounds=rounds,
                                      progress=lambda r, total: bar.update(r - bar.n))
            bar.close()
            rows = []
            for (pair, n, _), study in zip(searches, studies):
                trials = completed(study)
                results = self.compute([self.trial_run(pair, n, t.params) for t in trials], "loading trials") \
                    if trials else []
                for t, res in zip(trials, results):
                    rows.append(dict(pair=pair, n=n, trial=t.number, round=t.user_attrs.get("round"),
                                     t0=t.params["t0"], tau=t.params["tau"], alpha=t.params["alpha"],
                                     val=res["best_val"], test=res["test"], best_step=res["best_step"],
                                     steps=res["steps"], best_weight=res["best_weight"]))
            df = pd.DataFrame(rows)
            if len(df):
                df["trial_index"] = df.groupby(["pair", "n"]).cumcount()
            self._done["search"] = df
        return self._done["search"]

    def best_trials(self, top: int = 1) -> pd.DataFrame:
        """The ``top`` trials per (pair, N) by validation accuracy (ties: the earlier trial)."""
        df = self.search()
        return df.sort_values(["pair", "n", "val", "trial"], ascending=[True, False, False, True]) \
            .groupby(["pair", "n"], sort=False).head(top)

    def convergence(self) -> pd.DataFrame:
        """Per (pair, N): trials, best validation, how often the best so far was replaced (ch3 footnote 2)."""
        df = self.search()
        rows = []
        for (pair, n), g in df.groupby(["pair", "n"], sort=False):
            vals = g.sort_values("trial").val.tolist()
            rows.append(dict(pair=pair, n=n, trials=len(vals), best_val=max(vals),
                             replacements=best_replacements(vals)))
        return pd.DataFrame(rows)

    # -- Ours and the ablation ---------------------------------------------------------------------------
    def ours(self) -> pd.DataFrame:
        """Ours per (pair, N, seed): the best trial's ω (the search's first-seed run), trained again at the
        other seeds (A.1/A.2 test the best trial's early-stopped Θ; the other seeds are ours, for the
        claims' intervals)."""
        if "ours" not in self._done:
            best = self.best_trials(1)
            runs = [self.trial_run(r.pair, r.n, dict(t0=r.t0, tau=r.tau, alpha=r.alpha), seed)
                    for r in best.itertuples() for seed in self.cfg.seeds]
            results = self.compute(runs, "chapter 3 ours")
            self._done["ours"] = pd.DataFrame([_row(r, res, "ours") for r, res in zip(runs, results)])
        return self._done["ours"]

    def ablation(self) -> pd.DataFrame:
        """Multi-task and Ours retrained with the other BN treatment (A.1 shared, A.2 dataset-specific
        statistics), first seed; one row per (pair, N, method, bn) with both treatments."""
        if "ablation" not in self._done:
            rows = []
            if self.cfg.bn_ablation:
                seed = self.cfg.seeds[0]
                best = self.best_trials(1)
                runs = []
                for pair in self.cfg.pairs:
                    other = "shared" if self.cfg.protocols[pair].bn == "specific" else "specific"
                    for n in self.cfg.sizes[pair]:
                        row = best[(best.pair == pair) & (best.n == n)].iloc[0]
                        runs.append(("multitask", self.run(pair, "joint", n, seed, self.multitask_schedule(), other)))
                        runs.append(("ours", self.trial_run(pair, n, row, seed, other)))
                results = self.compute([r for _, r in runs], "chapter 3 BN ablation")
                table = pd.concat([self.baselines(), self.ours()])
                for (method, run), res in zip(runs, results):
                    mine = table[(table.pair == run.pair) & (table.n == run.n) & (table.method == method) &
                                 (table.seed == seed)].iloc[0]
                    rows.append(dict(pair=run.pair, n=run.n, method=method, bn=self.cfg.protocols[run.pair].bn,
                                     test=mine.test, val=mine.val))
                    rows.append(dict(pair=run.pair, n=run.n, method=method, bn=run.bn_mode, test=res["test"],
                                     val=res["best_val"]))
            self._done["ablation"] = pd.DataFrame(rows)
        return self._done["ablation"]

    def step_limit(self) -> pd.DataFrame:
        """ch3 Eq. (5)'s limit trained inside Smooth Transfer Learning (t₀ = 0, τ/T at the bottom of the range,
        α = 0: source until T/2, then target), first seed, beside Fine-tune, the baseline the limit stands
        for. They differ by design (A.1/A.2): Fine-tune restarts its learning-rate schedule (warm-up and
        peak) for the target stage, and trains without a source sub-batch after the switch; the limit keeps
        one cosine over T, so its target half starts at half the peak rate and decays from there."""
        if "step_limit" not in self._done:
            seed = self.cfg.seeds[0]
            omega = dict(t0=0.0, tau=self.cfg.space.tau[0], alpha=0.0)
            runs = [self.trial_run(p, n, omega, seed) for p in self.cfg.pairs for n in self.cfg.sizes[p]]
            results = self.compute(runs, "chapter 3 Eq. (5) limit")
            base = self.baselines()
            rows = []
            for run, res in zip(runs, results):
                ft = base[(base.pair == run.pair) & (base.n == run.n) & (base.method == "finetune") &
                          (base.seed == seed)].iloc[0]
                rows.append(dict(pair=run.pair, n=run.n, finetune=ft.test, limit=res["test"],
                                 limit_val=res["best_val"], finetune_val=ft.val))
            self._done["step_limit"] = pd.DataFrame(rows)
        return self._done["step_limit"]

    def results(self) -> pd.DataFrame:
        """Every Table-1 row: baselines, Ours (and the searched Multi-task when asked), per seed; ``attrs``
        holds the validation set's size (``n_val``, first pair)."""
        out = pd.concat([self.baselines(), self.ours()], ignore_index=True)
        out.attrs["n_val"] = len(self.data[self.cfg.pairs[0]].val_y)
        return out

    def steps(self) -> pd.DataFrame:
        """T (iterations) of each kind of run per (pair, N), from the protocol (A.1/A.2 budgets)."""
        rows = []
        for pair in self.cfg.pairs:
            d = self.data[pair]
            pre = run_steps(self.run(pair, "source", None, 0, Schedule("source")), d)
            for n in self.cfg.sizes[pair]:
                rows.append(dict(pair=pair, n=n, target=run_steps(self.run(pair, "target", n, 0), d),
                                 source=pre, joint=run_steps(self.run(pair, "joint", n, 0, Schedule("constant")), d)))
        return pd.DataFrame(rows)



def _row(run: STLRun, res: dict, method: str) -> dict:
    omega = run.schedule
    return dict(pair=run.pair, n=run.n, seed=run.seed, method=method, test=res["test"], val=res["best_val"],
                best_step=res["best_step"], steps=res["steps"], best_weight=res.get("best_weight"),
                t0=omega.t0 if omega.kind == "smooth" else None, tau=omega.tau if omega.kind == "smooth" else None,
                alpha=omega.alpha if omega.kind == "smooth" else None,
                weight=omega.weight if omega.kind == "constant" else None)


__all__ = ["Chapter3", "METHODS", "chapter_data"]
