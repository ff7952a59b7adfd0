"""Chapter 5's parameters, declared once (:data:`PARAMS`), and its validated config (:class:`Ch5Config`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from ...arithmetic import ALPHA_GRIDS
from ...data import benchmark
from ...data.registry import list_datasets
from ...finetune import PROTOCOLS, FinetuneConfig
from ...linearize import LINEAR_VARIANTS, PARADIGMS
from ..kit import (
    LR_RANGE,
    Config,
    DeclaredConfig,
    Param,
    Params,
    check_random_weights,
    clip_params,
    data_root_param,
    device_param,
    eval_images_param,
    paper_data_check,
    paper_only,
    profile_default,
    profile_param,
    resolve_device,
    seeds_param,
    workers_param,
)

#: The paper's pairs of Fig. 4 (DTD–SUN397) and Fig. 7 (Cars–RESISC45), by their embedded stand-ins.
PAPER_PAIRS = (("DTD", "SUN397"), ("Cars", "RESISC45"))
PARADIGM_ORDER = ("non_linear", "linearized", "linear_only")
PARADIGM_LABELS = {"non_linear": "Non-linear", "linearized": "Linearized (NTK)", "linear_only": "Linear layers only"}
#: The regime gate (issue 13): the premises of ch5 (and ch1) that a profile must meet before its
#: numbers can test the papers' claims, not the claims themselves. Weight disentanglement (ch5 Sec. 4)
#: presumes that one task's vector leaves the other tasks roughly alone, and task addition (ch5
#: Table 1, where every paradigm's addition is far above ViT-B/32's zero-shot row) that a sum of
#: vectors helps every task. Per paradigm, at α = 1 for one task vector: its own task gains at least
#: ``own_gain`` points on average and the other tasks change by no less than ``other_change`` points
#: on average; the 8-task addition's absolute test accuracy is at least ``addition_over_zero_shot``
#: points above the pre-trained model's.
REGIME_GATE = {"own_gain": 20.0, "other_change": {"non_linear": -5.0, "linear_only": -3.0},
               "addition_over_zero_shot": 10.0}
#: Issue 13's check on the benchmark: fine-tuning should add at least this many points of test accuracy
#: on every task, in every paradigm (a task that fine-tuning cannot learn has no task vector worth adding).
LEARNABLE_GAIN = 15.0
#: Where ``scripts/regime_gate.py --out`` records attempts at the regime (foundation models and
#: protocols tried, with their gate numbers), which chapter 5 tabulates: ``book/regime`` of the repository.
REGIME_ATTEMPTS = Path(__file__).resolve().parents[3] / "book" / "regime"
#: Per profile: test points per task for ξ and ξ grid size (the α search uses the fine-tuning
#: protocol's val set, so normalized accuracy divides by accuracy on the same images).
EVAL_SIZES = {"smoke": dict(xi_points=16, xi_grid=3), "embedded": dict(xi_points=96, xi_grid=9),
              "paper": dict(xi_points=2048, xi_grid=15)}


def _pair_names(profile: str) -> list[tuple[str, str]]:
    paper = benchmark("task_arithmetic_8", "paper")
    local = benchmark("task_arithmetic_8", profile)
    m = dict(zip(paper, local))
    return [(m[a], m[b]) for a, b in PAPER_PAIRS]


def _default_tasks(profile: str) -> tuple[str, ...]:
    """The profile's 8 tasks; ``smoke`` keeps only Fig. 7's pair (the stand-ins of Cars–RESISC45):
    two tasks run every part of the chapter (addition, interference, ξ of one pair, cosines) in
    seconds, and both are targets of chapter 1, whose smoke run then loads their runs."""
    tasks = tuple(benchmark("task_arithmetic_8", profile))
    if profile != "smoke":
        return tasks
    return tuple(t for t in tasks if t in _pair_names(profile)[1])


PARAMS = Params("chapter 5", (
    profile_param(),
    Param("tasks", "list[str]", "the tasks (ch5 Table 1's 8, or their embedded stand-ins; smoke: the 2 of "
          "Fig. 7's pair); task addition needs two", default=_default_tasks, choices=list_datasets, min_len=2,
          choices_help="the profile's datasets (chapter 0 lists them)"),
    Param("paradigms", "list[str]", "fine-tuning paradigms (ch5 Fig. 2)", default=PARADIGM_ORDER, choices=PARADIGMS),
    Param("variants", "list[int]", "linear-only variants of ch5 Table 2 (" + "; ".join(
        f"{k}: {v}" for k, v in LINEAR_VARIANTS.items()) + ")", default={"smoke": (1, 2), "embedded": (1, 2, 3, 4),
                                                                      "paper": (1, 2, 3, 4)}, choices=(1, 2, 3, 4)),
    seeds_param({"smoke": (0,), "embedded": (0, 1, 2), "paper": (0, 1, 2)}),
    Param("iterations", "int", "fine-tuning steps per task (paper: 2000)",
          default=profile_default(PROTOCOLS, "iterations"), low=1,
          high=1_000_000),
    Param("lr", "float", "peak AdamW learning rate (paper: 1e-5)",
          default=profile_default(PROTOCOLS, "lr"), **LR_RANGE),
    Param("batch_size", "int", "images per step (paper: 128)",
          default=profile_default(PROTOCOLS, "batch_size"), low=1, high=65_536),
    Param("alpha_grid", "list[float]", "task-addition coefficients α searched on val (ch5 Appendix A: "
          f"{len(ALPHA_GRIDS['paper'])} values from 0 to 1)", default=ALPHA_GRIDS, low=0.0,
          high=10.0),
    Param("xi_grid_size", "int", "disentanglement grid points per axis over [-2, 2] (ch5 Figs. 4 and 7)",
          default=lambda p: EVAL_SIZES[p]["xi_grid"], low=2, high=101),
    Param("xi_points", "int", "test images per task on which ξ is measured",
          default=lambda p: EVAL_SIZES[p]["xi_points"], low=1, high=1_000_000),
    device_param(),
    workers_param(),
    data_root_param(),
    *clip_params(),
    eval_images_param(),
), checks=(check_random_weights, paper_only("eval_images"), paper_data_check("tasks")))


@dataclass(frozen=True)
class Ch5Config(DeclaredConfig):
    """Validated parameters of chapter 5 (from :data:`PARAMS`) and what follows from them."""

    PARAMS: ClassVar[Params] = PARAMS

    profile: str
    tasks: tuple[str, ...]
    paradigms: tuple[str, ...]
    variants: tuple[int, ...]
    seeds: tuple[int, ...]
    iterations: int
    lr: float
    batch_size: int
    alpha_grid: tuple[float, ...]
    xi_grid: tuple[float, ...]
    xi_points: int
    val_per_class: int | None
    pairs: tuple[tuple[str, str], ...]
    device: str
    data_root: str | None
    model: str | None = None
    pretrained: str | None = None
    workers: int = 1
    eval_images: int | None = None

    @classmethod
    def from_config(cls, c: Config) -> "Ch5Config":
        pairs = tuple(p for p in _pair_names(c.profile) if p[0] in c.tasks and p[1] in c.tasks)
        return cls(c.profile, c.tasks, c.paradigms, c.variants, c.seeds, c.iterations, c.lr, c.batch_size,
                   c.alpha_grid, tuple(float(a) for a in np.linspace(-2, 2, c.xi_grid_size)), c.xi_points,
                   PROTOCOLS[c.profile].val_per_class, pairs, resolve_device(c.device), c.data_root, c.model,
                   c.pretrained, c.workers, c.eval_images)

    def summary(self) -> str:
        return (f"profile {self.profile}: {len(self.tasks)} tasks, paradigms {', '.join(self.paradigms)}, "
                f"Table 2 variants {list(self.variants)}, seeds {list(self.seeds)}, α grid of {len(self.alpha_grid)}, "
                f"ξ grid {len(self.xi_grid)}×{len(self.xi_grid)} on {self.xi_points} points per task, "
                f"device {self.device}"
                + (f"; evaluated on at most {self.eval_images} images per split" if self.eval_images else ""))

    @property
    def test_per_class(self) -> None:
        """Every test image of the profile (chapter 1 tests on fewer)."""
        return None

    def paper_pair(self, figure: int) -> tuple[str, str] | None:
        """The pair of ch5 Fig. 4 (``figure=4``, DTD–SUN397) or Fig. 7 (``7``, Cars–RESISC45) by this
        profile's task names, or None where the chosen tasks lack one of the two."""
        pair = _pair_names(self.profile)[{4: 0, 7: 1}[figure]]
        return pair if pair in self.pairs else None

    def run_config(self, task: str, paradigm: str, seed: int, variant: int | None = None) -> FinetuneConfig:
        return FinetuneConfig(task=task, paradigm=paradigm, variant=variant, profile=self.profile, model=self.model,
                              pretrained=self.pretrained, iterations=self.iterations, lr=self.lr,
                              batch_size=self.batch_size, seed=seed, data_root=self.data_root,
                              eval_images=self.eval_images)

    def settings(self) -> list[tuple[str, int | None]]:
        """(paradigm, variant) pairs to train: the chosen paradigms, plus Table 2's extra variants."""
        out = [(p, 1 if p == "linear_only" else None) for p in self.paradigms]
        if "linear_only" in self.paradigms:
            out += [("linear_only", v) for v in self.variants if v != 1]
        return out
