"""Chapter 5's experiment: the pre-trained model, the evaluation splits, the fine-tuning grid and
everything computed from its task vectors (task addition, ξ grids, interference, cosines). Every
expensive step goes through the run cache, so re-rendering never retrains."""

from __future__ import annotations

from concurrent.futures import Executor
from functools import partial

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from ...arithmetic import EditedEncoder, disentanglement, evaluate, task_addition
from ...batched import STEP_COST
from ...clip_tasks import EvalSet
from ...finetune import FinetuneRun
from ...models.clip import ClipBundle
from ...reference import CH5_TABLE1
from ...store import cached_result, cached_run
from ...task_vectors import cosine_matrix
from ..clip_chapter import ClipChapter
from ..kit import SerialExecutor, worker_state
from .config import Ch5Config


def setting_name(paradigm: str, variant: int | None) -> str:
    return paradigm if paradigm != "linear_only" or variant in (None, 1) else f"linear_only_v{variant}"


def parse_setting(setting: str) -> tuple[str, int | None]:
    if setting.startswith("linear_only_v"):
        return "linear_only", int(setting.rsplit("v", 1)[1])
    return setting, 1 if setting == "linear_only" else None


def reference_model(cfg: Ch5Config, bundle: ClipBundle) -> str:
    """Which of the paper's models our numbers sit beside: the same model on ``paper``, ViT-B-32
    (the paper's main model) on the embedded profiles."""
    return bundle.name if bundle.name in CH5_TABLE1 else "ViT-B-32"


class Chapter5(ClipChapter):
    """The chapter's state: the pre-trained model, the evaluation splits, and the fine-tuned runs."""

    def __init__(self, cfg: Ch5Config, bundle: ClipBundle | None = None, progress: bool = True,
                 executor: Executor | None = None):
        super().__init__(cfg, bundle, progress, executor)
        self.heads = {t: s.head for t, s in self.test_sets.items()}
        self.xi_sets = {}
        for t, (xt, yt, head, _) in self.test_sets.items():
            g = torch.Generator().manual_seed(0)
            idx = torch.randperm(len(xt), generator=g)[:cfg.xi_points]
            self.xi_sets[t] = EvalSet(xt[idx], yt[idx], head, f"xi:{t}")
        self.runs: dict[tuple[str, int, str], FinetuneRun] = {}

    # -- fine-tuning --------------------------------------------------------------------------------
    def train_all(self) -> pd.DataFrame:
        """Fine-tune (or load) every (setting, seed, task); returns one row per run."""
        jobs = []
        for paradigm, variant in self.cfg.settings():
            seeds = self.cfg.seeds if variant in (None, 1) else self.cfg.seeds[:1]
            jobs += [(paradigm, variant, s, t) for s in seeds for t in self.cfg.tasks]
        configs = [self.cfg.run_config(task, paradigm, seed, variant) for paradigm, variant, seed, task in jobs]
        done = self.finetune_all(configs, desc="fine-tuning runs")
        rows = []
        for (paradigm, variant, seed, task), run in zip(jobs, done):
            self.runs[(setting_name(paradigm, variant), seed, task)] = run
            rows.append(dict(setting=setting_name(paradigm, variant), paradigm=paradigm, variant=variant, seed=seed,
                             task=task, val=run.val_accuracy, test=run.test_accuracy,
                             seconds=run.result["train_seconds"], parameters=run.result["trained_parameters"]))
        return pd.DataFrame(rows)

    def zero_shot(self) -> pd.DataFrame:
        """Zero-shot (pre-trained) accuracy per task on val and test: Table 1's first row."""
        return pd.DataFrame([dict(task=t, val=v["val"], test=v["test"]) for t, v in self.zero_shot_accuracy().items()])

    def _edited(self, setting: str, seed: int) -> EditedEncoder:
        paradigm, variant = parse_setting(setting)
        vectors = {t: self.runs[(setting, seed, t)].task_vector() for t in self.cfg.tasks}
        return EditedEncoder(self.bundle, paradigm, vectors, variant, self.cfg.device)

    def _key(self, setting: str, seed: int) -> dict:
        return {"runs": [str(self.runs[(setting, seed, t)].vector_path.name) for t in self.cfg.tasks]}

    # -- Table 1 / Table 2 ---------------------------------------------------------------------------
    def task_addition(self) -> pd.DataFrame:
        """Task addition per (setting, seed): α, absolute and normalized test accuracy. The uncached
        ones are computed first on the chapter's workers (the linearized, costliest, first)."""
        combos = sorted({(s, sd) for s, sd, _ in self.runs})
        pending = [c for c in combos if cached_result("ch5_task_addition", self._addition_key(*c)) is None]
        self.pool.prefetch(partial(_addition_in_worker, self.cfg),
                           sorted(pending, key=lambda c: -STEP_COST[parse_setting(c[0])[0]]), desc="task addition",
                           progress=self.progress)
        return pd.DataFrame([self._addition(setting, seed)
                             for setting, seed in tqdm(combos, desc="task addition", disable=not self.progress)])

    def _addition_key(self, setting: str, seed: int) -> dict:
        return {**self._key(setting, seed), "alpha_grid": list(self.cfg.alpha_grid),
                "val_per_class": self.cfg.val_per_class}

    def _addition(self, setting: str, seed: int) -> dict:
        single_val = {t: self.runs[(setting, seed, t)].val_accuracy for t in self.cfg.tasks}
        single_test = {t: self.runs[(setting, seed, t)].test_accuracy for t in self.cfg.tasks}

        def compute():
            return task_addition(self._edited(setting, seed), self.val_sets, self.test_sets, single_val,
                                 single_test, self.cfg.alpha_grid)
        res = cached_run("ch5_task_addition", self._addition_key(setting, seed), compute)
        return dict(setting=setting, seed=seed, alpha=res["alpha"], absolute=res["absolute"],
                    normalized=res["normalized"], single_task=float(np.mean(list(single_test.values()))),
                    val_curve=res["val_curve"], per_task=res["test"])

    # -- Fig. 4 / 7 and Fig. 5 -----------------------------------------------------------------------
    def disentanglement(self, seed: int | None = None) -> dict:
        """ξ grids per (pair, paradigm), representation (KL) and classification (prediction error)."""
        seed = self.cfg.seeds[0] if seed is None else seed
        out = {}
        for pair in self.cfg.pairs:
            for paradigm in self.cfg.paradigms:
                setting = setting_name(paradigm, 1 if paradigm == "linear_only" else None)

                def compute(setting=setting, pair=pair):
                    paradigm_, variant = parse_setting(setting)
                    vectors = {t: self.runs[(setting, seed, t)].task_vector() for t in pair}
                    edited = EditedEncoder(self.bundle, paradigm_, vectors, variant, self.cfg.device)
                    res = disentanglement(edited, pair, self.xi_sets, self.cfg.xi_grid)
                    return {k: v.tolist() for k, v in res.items()}
                key = {"runs": [self.runs[(setting, seed, t)].vector_path.name for t in pair],
                       "grid": list(self.cfg.xi_grid), "points": self.cfg.xi_points}
                res = cached_run("ch5_disentanglement", key, compute)
                out[(pair, paradigm)] = {k: np.array(v) for k, v in res.items()}
        return out

    def interference(self, seed: int | None = None) -> dict[str, pd.DataFrame]:
        """Accuracy change (points) on task j (columns) when task i's vector alone is added at α = 1
        (rows), against the pre-trained model, per paradigm (first seed), on the ξ points (test images).

        The diagonal is the single-task gain; off the diagonal is what one task's vector does to the
        other tasks. Not a figure of the paper: it shows why task addition succeeds or fails on a
        profile (a sum of vectors that each lower the other tasks cannot help them)."""
        seed = self.cfg.seeds[0] if seed is None else seed
        out = {}
        for paradigm in self.cfg.paradigms:
            setting = setting_name(paradigm, 1 if paradigm == "linear_only" else None)

            def compute(setting=setting):
                edited = self._edited(setting, seed)
                base = evaluate(edited, {}, self.xi_sets)
                return {i: {j: acc - base[j] for j, acc in evaluate(edited, {i: 1.0}, self.xi_sets).items()}
                        for i in self.cfg.tasks}
            key = {**self._key(setting, seed), "points": self.cfg.xi_points}
            res = cached_run("ch5_interference", key, compute)
            out[paradigm] = pd.DataFrame(res).T.loc[list(self.cfg.tasks), list(self.cfg.tasks)]
        return out

    def cosine_similarities(self, seed: int | None = None) -> dict[str, pd.DataFrame]:
        """Cosine similarity between the task vectors of one paradigm (Fig. 5)."""
        seed = self.cfg.seeds[0] if seed is None else seed
        out = {}
        for paradigm in self.cfg.paradigms:
            setting = setting_name(paradigm, 1 if paradigm == "linear_only" else None)
            vectors = [self.runs[(setting, seed, t)].task_vector() for t in self.cfg.tasks]
            out[paradigm] = pd.DataFrame(cosine_matrix(vectors), index=self.cfg.tasks, columns=self.cfg.tasks)
        return out


def _addition_in_worker(cfg: Ch5Config, combo: tuple[str, int]) -> None:
    """One task addition computed into the run cache by a worker process, on the chapter's runs
    (cached by then) loaded once per process."""
    def build() -> Chapter5:
        chapter = Chapter5(cfg, progress=False, executor=SerialExecutor())
        chapter.train_all()
        return chapter
    worker_state(cfg, build)._addition(*combo)


__all__ = ["Chapter5", "parse_setting", "reference_model", "setting_name"]
