"""Chapter 1's experiment: the pre-trained model, the evaluation splits, the single-task runs (shared
with chapter 5), B-Stand / B-TL merges, the sequential methods, training orders (ch1 Table 4) and the
sweeps of ch1 Figs. 3–5. The methods live in :mod:`paperlib.sequential`; every run goes through the
run cache."""

from __future__ import annotations

import random
from concurrent.futures import Executor
from functools import partial

import numpy as np
import pandas as pd

from ...clip_tasks import task_data
from ...config import check_choice
from ...finetune import PROTOCOLS, FinetuneConfig
from ...models.clip import ClipBundle
from ...sequential import (
    Sequencer,
    SequenceSpec,
    all_orders,
    check_order,
    curriculum_order,
    iterations_per_task,
    merge,
    parse_method,
    summarize,
    weights_id,
)
from ...store import cached_run
from ..clip_chapter import ClipChapter
from ..kit import SerialExecutor, worker_state
from .config import Ch1Config


class Chapter1(ClipChapter):
    """The chapter's state: the pre-trained model, the evaluation splits, the runs."""

    def __init__(self, cfg: Ch1Config, bundle: ClipBundle | None = None, progress: bool = True,
                 executor: Executor | None = None):
        super().__init__(cfg, bundle, progress, executor)
        self.sequencer = Sequencer(self.bundle, self.test_sets, cfg.device, progress)
        self.single: dict[tuple[str, int, str], object] = {}
        self._iterations: dict[str, int] | None = None

    # -- protocol -----------------------------------------------------------------------------------
    def iterations(self) -> dict[str, int]:
        """Iterations per target (Sec. 5.1's epochs on ``paper``; the protocol's otherwise)."""
        if self._iterations is None:
            out = {}
            for t in self.cfg.targets:
                if self.cfg.fixed_iterations:
                    out[t] = self.cfg.iterations
                    continue
                n = len(task_data(t, "train", "paper", self.bundle, self.cfg.data_root)) \
                    if self.cfg.profile == "paper" else None
                out[t] = iterations_per_task(t, self.cfg.profile, self.cfg.iterations, n, self.cfg.batch_size)
            self._iterations = out
        return self._iterations

    def finetune_config(self, task: str, paradigm: str, seed: int) -> FinetuneConfig:
        c = self.cfg
        return FinetuneConfig(task=task, paradigm=paradigm, profile=c.profile, model=c.model, pretrained=c.pretrained,
                              iterations=self.iterations()[task], lr=c.lr, batch_size=c.batch_size,
                              warmup=min(c.warmup, self.iterations()[task]), seed=seed, data_root=c.data_root,
                              eval_images=c.eval_images)

    # -- single-task runs, zero-shot, curriculum ----------------------------------------------------
    def zero_shot(self) -> dict[str, float]:
        """CLIP's zero-shot test accuracy per task (shared with chapter 5's cache)."""
        return {t: v["test"] for t, v in self.zero_shot_accuracy().items()}

    def train_single(self) -> pd.DataFrame:
        """Each target fine-tuned alone from θ0, standard and linearized, per seed (B-Stand's and
        B-TL's ingredients; on the embedded profile these are chapter 5's runs)."""
        jobs = [(p, s, t) for p in ("non_linear", "linearized") for s in self.cfg.seeds for t in self.cfg.targets]
        done = self.finetune_all([self.finetune_config(t, p, s) for p, s, t in jobs], desc="single-task runs")
        rows = []
        for (p, s, t), run in zip(jobs, done):
            self.single[(p, s, t)] = run
            rows.append(dict(paradigm=p, seed=s, task=t, val=run.val_accuracy, test=run.test_accuracy,
                             seconds=run.result["train_seconds"]))
        return pd.DataFrame(rows)

    def curriculum(self, seed: int) -> tuple[str, ...]:
        """Sec. 3.4's order for one seed, from that seed's standard single-task val accuracies."""
        return curriculum_order({t: self.single[("non_linear", seed, t)].val_accuracy for t in self.cfg.targets})

    # -- specs --------------------------------------------------------------------------------------
    def spec(self, method: str, seed: int, order: tuple[str, ...] | None = None, lr: float | None = None,
             scale: float = 1.0) -> SequenceSpec:
        """The :class:`SequenceSpec` of a sequential method (curriculum order unless ``order``;
        ``scale`` multiplies every task's iterations and warm-up, Fig. 5)."""
        c, m = self.cfg, parse_method(method)
        if m.family != "sequential":
            raise ValueError(f"{method!r} is not a sequential method")
        order = check_order(order, c.targets) if order is not None else self.curriculum(seed)
        its = {t: max(1, round(n * scale)) for t, n in self.iterations().items()}
        for t, n in its.items():
            if m.rounds > n:
                raise ValueError(f"{method}: n={m.rounds} rounds do not fit {t}'s {n} iterations")
        warm = {t: min(its[t], round(min(c.warmup, self.iterations()[t]) * scale)) for t in c.targets}
        btl = tuple((t, self.single[("linearized", seed, t)].vector_path.name) for t in c.targets) \
            if m.precalibration is not None else ()
        return SequenceSpec(method=method, order=tuple(order), seed=seed, profile=c.profile,
                            weights=weights_id(self.bundle), lr=c.lr if lr is None else float(lr),
                            batch_size=c.batch_size, weight_decay=PROTOCOLS[c.profile].weight_decay,
                            grad_clip=PROTOCOLS[c.profile].grad_clip, iterations=tuple(its.items()),
                            warmup=tuple(warm.items()), btl_vectors=btl, eval_tasks=c.tasks, model=c.model,
                            pretrained=c.pretrained, data_root=c.data_root, test_per_class=c.test_per_class,
                            eval_images=c.eval_images)

    # -- Table 3 / 5 --------------------------------------------------------------------------------
    def baselines(self) -> list[dict]:
        """B-Stand and B-TL per seed: α and test accuracy per task (cached, kind ``ch1_merge``)."""
        out = []
        val = {t: self.val_sets[t] for t in self.cfg.targets}
        for method in [m for m in self.cfg.methods if parse_method(m).family == "merge"]:
            paradigm = parse_method(method).paradigm
            for seed in self.cfg.seeds:
                runs = {t: self.single[(paradigm, seed, t)] for t in self.cfg.targets}

                def compute(runs=runs, paradigm=paradigm):
                    return merge(self.bundle, paradigm, {t: r.task_vector() for t, r in runs.items()}, val,
                                 self.test_sets, self.cfg.alpha_grid, self.cfg.device)
                key = {"runs": [r.vector_path.name for r in runs.values()], "grid": list(self.cfg.alpha_grid),
                       "val_per_class": self.cfg.val_per_class, "test_per_class": self.cfg.test_per_class,
                       "eval": list(self.cfg.tasks)}
                if self.cfg.eval_images is not None:  # whole-split merges keep their keys
                    key["eval_images"] = self.cfg.eval_images
                res = cached_run("ch1_merge", key, compute)
                out.append(dict(method=method, seed=seed, alpha=res["alpha"], test=res["test"]))
        return out

    def sequence_specs(self) -> list[SequenceSpec]:
        """Table 3's sequential methods per seed."""
        return [self.spec(m, s) for m in self.cfg.methods if parse_method(m).family == "sequential"
                for s in self.cfg.seeds]

    def sequences(self) -> list[dict]:
        """The sequential methods per seed (kind ``ch1_sequence``)."""
        return self._run_sequences(self.sequence_specs(), desc="sequential runs")

    def results(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(long table method/seed/task/role/accuracy, per-run extras: α or segments). With workers,
        first trains everything the chapter shows in one pass (:meth:`train_sequences`)."""
        self.train_sequences()
        zs = self.zero_shot()
        rows, extras = [], []
        role = {**{t: "target" for t in self.cfg.targets}, **{t: "reference" for t in self.cfg.references}}
        if "CLIP" in self.cfg.methods:
            rows += [dict(method="CLIP", seed=s, task=t, role=role[t], accuracy=zs[t])
                     for s in self.cfg.seeds for t in self.cfg.tasks]
        for r in self.baselines():
            rows += [dict(method=r["method"], seed=r["seed"], task=t, role=role[t], accuracy=a)
                     for t, a in r["test"].items()]
            extras.append(dict(method=r["method"], seed=r["seed"], alpha=r["alpha"]))
        for r in self.sequences():
            rows += [dict(method=r["method"], seed=r["seed"], task=t, role=role[t], accuracy=a)
                     for t, a in r["test"].items()]
            extras.append(dict(method=r["method"], seed=r["seed"], order=" → ".join(r["order"]),
                               train_seconds=r["train_seconds"], segments=r["segments"]))
        acc = pd.DataFrame(rows)
        acc["method"] = pd.Categorical(acc.method, [m for m in self.cfg.methods if m in set(acc.method)])
        return acc, pd.DataFrame(extras)

    def train_sequences(self) -> None:
        """With workers: train every sequence the chapter shows (Table 3's methods, Table 4's orders,
        the sweeps of Figs. 3–5) and the forgetting trajectory in one pass over the workers, the
        costliest jobs first, so that no worker waits for the other between the parts; the later calls
        load them. Parts whose specs do not build (a sweep that does not fit the protocol) are left to
        raise in their own cell. Without workers, nothing: each part trains when it is asked for."""
        if not self.pool.parallel:
            return
        specs = self.sequence_specs()
        for part in (lambda: self._order_specs()[2], *(lambda k=k: self._sweep_specs(k)[1]
                                                        for k in ("rounds", "lr", "epochs"))):
            try:
                specs += part()
            except ValueError:
                pass
        pending = [s for s in specs if not self.sequencer.is_cached(s)]
        jobs = [("sequences", f) for f in self.sequencer.families(pending)]
        if "S-TL" in self.cfg.methods:
            trajectory = self.spec("S-TL", self.cfg.seeds[0])
            if not self.sequencer.has_trajectory(trajectory):
                jobs.insert(0, ("trajectory", (trajectory,)))
        self.pool.prefetch(partial(_sequences_in_worker, self.cfg), jobs, desc="sequences on workers",
                           progress=self.progress, min_jobs=2)

    def _run_sequences(self, specs: list[SequenceSpec], desc: str) -> list[dict]:
        """The sequencer's results of ``specs``; with workers, the uncached ones are first trained on
        them, one job per group of specs sharing a first segment (:meth:`Sequencer.families`)."""
        pending = [s for s in specs if not self.sequencer.is_cached(s)]
        self.pool.prefetch(partial(_sequences_in_worker, self.cfg),
                           [("sequences", f) for f in self.sequencer.families(pending)], desc=desc,
                           progress=self.progress, min_jobs=2)
        return self.sequencer.run_all(specs, desc=desc)

    # -- Table 4 and Figs. 3–5 ----------------------------------------------------------------------
    def orders(self, method: str = "S-TL-p0.5") -> pd.DataFrame:
        """Table 4: ``method`` over training orders (all 24, or a seeded sample that always includes
        the curriculum order), first seed; one row per order with tgt/ref/all."""
        orders, cur, specs = self._order_specs(method)
        results = self._run_sequences(specs, desc="training orders")
        return pd.DataFrame([dict(order=" → ".join(o), curriculum=o == cur,
                                  **summarize(r["test"], self.cfg.targets, self.cfg.references))
                             for o, r in zip(orders, results)])

    def _order_specs(self, method: str = "S-TL-p0.5") -> tuple[list[tuple[str, ...]], tuple[str, ...],
                                                                list[SequenceSpec]]:
        seed = self.cfg.seeds[0]
        cur = self.curriculum(seed)
        orders = all_orders(self.cfg.targets)
        if self.cfg.n_orders is not None and self.cfg.n_orders < len(orders):
            rest = [o for o in orders if o != cur]
            orders = [cur] + random.Random(seed).sample(rest, self.cfg.n_orders - 1)
        return orders, cur, [self.spec(method, seed, order=o) for o in orders]

    def forgetting(self, method: str = "S-TL") -> pd.DataFrame:
        """Test accuracy of every task after each task of ``method``'s sequence (first seed, curriculum
        order): rows are the training stages, columns the tasks. Not a figure of the paper: it shows
        how much each task's training costs the tasks trained before it and the references."""
        rows = self.sequencer.trajectory(self.spec(method, self.cfg.seeds[0]))
        index = [r["after"] if r["round"] in (None, 0) else f"{r['after']} (round {r['round'] + 1})" for r in rows]
        return pd.DataFrame([r["test"] for r in rows], index=index)[list(self.cfg.tasks)]

    def sweep(self, kind: str) -> pd.DataFrame:
        """Fig. 3 (``"rounds"``: S-TL-p0.5-n over n), Fig. 4 (``"lr"``) and Fig. 5 (``"epochs"``:
        every task's iterations × a multiplier), both at S-TL-p0.5-{sweep_rounds}; first seed."""
        c = self.cfg
        values, specs = self._sweep_specs(kind)
        results = self._run_sequences(specs, desc=f"sweep over {kind}")
        rows = []
        for v, spec, r in zip(values, specs, results):
            row = dict(value=v, **summarize(r["test"], c.targets, c.references))
            if kind == "epochs":
                row["iterations per task"] = int(np.mean([n for _, n in spec.iterations]))
            rows.append(row)
        return pd.DataFrame(rows)

    def _sweep_specs(self, kind: str) -> tuple[list, list[SequenceSpec]]:
        c = self.cfg
        seed = c.seeds[0]
        check_choice(kind, ("rounds", "lr", "epochs"), "sweep")
        base = f"S-TL-p0.5-{c.sweep_rounds}" if c.sweep_rounds > 1 else "S-TL-p0.5"
        if kind == "rounds":
            values = list(c.rounds_grid)
            return values, [self.spec(f"S-TL-p0.5-{n}" if n > 1 else "S-TL-p0.5", seed) for n in values]
        if kind == "lr":
            values = list(c.lr_grid)
            return values, [self.spec(base, seed, lr=v) for v in values]
        values = list(c.epoch_scales)
        return values, [self.spec(base, seed, scale=v) for v in values]


def _sequences_in_worker(cfg: Ch1Config, job: tuple[str, tuple[SequenceSpec, ...]]) -> None:
    """A worker process's job, computed into the run cache: ``("sequences", family)`` trains a group
    of sequences (:meth:`Sequencer.families`), ``("trajectory", (spec,))`` a forgetting trajectory."""
    def build() -> Sequencer:
        chapter = ClipChapter(cfg, progress=False, executor=SerialExecutor())
        return Sequencer(chapter.bundle, chapter.test_sets, cfg.device, progress=False)
    sequencer = worker_state(repr(cfg), build)
    kind, specs = job
    if kind == "trajectory":
        sequencer.trajectory(specs[0])
    else:
        sequencer.run_all(list(specs))


__all__ = ["Chapter1"]
