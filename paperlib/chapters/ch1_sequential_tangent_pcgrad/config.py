"""Chapter 1's parameters, declared once (:data:`PARAMS`), and its validated config (:class:`Ch1Config`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...arithmetic import ALPHA_GRIDS
from ...data import benchmark
from ...data.standins import BENCHMARKS
from ...finetune import PROTOCOLS
from ...sequential import METHOD_FORMS, parse_method
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

#: Per profile: the main multi-round n (S-TL-p0.5-n; the paper reports 11), the n of the sweeps of
#: Figs. 4–5 (the paper's S-TL-p0.5-20), Fig. 3's n grid, Fig. 4's learning rates, Fig. 5's
#: multipliers of each task's iterations, and how many of the 24 orders Table 4 runs (None: all).
#: ``embedded`` is sized to the chapter's 12-minute budget on 2 cores: every model is tested on 20
#: images per class (a linearized model's evaluation costs about a fifth of its sequence's training),
#: Table 4 runs 4 orders and each sweep 3 points (30 images per class and 6 orders took 13.2 min).
#: Fig. 4's learning rates are half, once and twice the profile's protocol lr
#: (:data:`paperlib.finetune.PROTOCOLS`), so its middle point is the main runs (cached).
#: ``smoke`` checks that the code runs, in seconds: its lr and iteration sweeps are the one point
#: the main table already trained (cached), its n sweep the two that Table 3 trains.
SWEEPS = {
    "smoke": dict(test_per_class=2, rounds=2, sweep_rounds=2, rounds_grid=(1, 2), lr_grid=(1e-3,),
                  epoch_scales=(1.0,), orders=2),
    "embedded": dict(test_per_class=20, rounds=3, sweep_rounds=3, rounds_grid=(1, 3, 6), lr_grid=(1.5e-4, 3e-4, 6e-4),
                     epoch_scales=(0.5, 1.0, 1.5), orders=4),
    "paper": dict(test_per_class=None, rounds=11, sweep_rounds=20, rounds_grid=(1, 2, 5, 11, 20),
                  lr_grid=(1e-6, 2.5e-6, 5e-6, 1e-5, 2e-5),
                  epoch_scales=(0.5, 1.0, 1.5, 2.0), orders=None),
}


ROLE_ORDER = ("target", "reference")


def default_methods(rounds: int) -> tuple[str, ...]:
    """Table 3 / Table 5's columns, with the profile's n for the multi-round method."""
    return ("CLIP", "B-Stand", "B-TL", "S-Stand", "S-TL", "S-TL-p0.5", "S-TL-p1", f"S-TL-p0.5-{rounds}", "S-TL-a0.5")


#: What the smoke profile keeps of ch1 Sec. 4's four targets and four references: two targets and
#: one reference (two-task sequences already exercise every method's code: calibration against an
#: earlier task, pre-calibration, rounds, in seconds). Its targets are the stand-ins of Cars and RESISC45, the
#: pair chapter 5's smoke run fine-tunes, so their single-task runs come from the run cache.
SMOKE_TARGETS = ("Cars", "RESISC45")
SMOKE_REFERENCES = 1


def roles(profile: str) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, str]]:
    """(targets, references, task → the paper's dataset name) of ch1 Sec. 4 for a profile."""
    rows = BENCHMARKS["task_arithmetic_8"]
    names = benchmark("task_arithmetic_8", profile)
    paper = {n: r.paper for n, r in zip(names, rows)}
    targets = tuple(n for n, r in zip(names, rows) if r.role == "target")
    references = tuple(n for n, r in zip(names, rows) if r.role == "reference")
    if profile == "smoke":
        targets = tuple(t for t in targets if paper[t] in SMOKE_TARGETS)
        references = references[:SMOKE_REFERENCES]
    return targets, references, paper


def _chosen_tasks(c: Config, profile: str) -> list[str]:
    """The targets and references the ``targets`` / ``references`` parameters keep, in the benchmark's order."""
    targets, references, _ = roles(profile)
    keep = (*(c.targets or targets), *(c.references or references))
    return [t for t in benchmark("task_arithmetic_8", profile) if t in keep]


def _iterations(c: Config) -> int:
    """The ``iterations`` parameter, or on paper without it the protocol's (the steps of a task Sec. 5.1 gives no
    epochs for; the others' come from their epochs, :func:`paperlib.sequential.iterations_per_task`)."""
    return c.iterations if c.iterations is not None else PROTOCOLS[c.profile].iterations


def _methods_and_rounds_fit(c: Config) -> None:
    """Each method name parses (ch1 Secs. 3.3, 5.2, 5.4), and no method or sweep has more rounds than
    the iterations of a task."""
    for m in c.methods or ():
        try:
            parse_method(m)
        except ValueError as err:
            raise ValueError(f"parameter methods={list(c.methods)}: {err}") from None
    for name, values in (("rounds", (c.rounds,)), ("rounds_grid", c.rounds_grid),
                         ("methods", [parse_method(m).rounds for m in c.methods or ()])):
        its = _iterations(c)
        bad = [n for n in values if n > its]
        if bad:
            raise ValueError(f"parameter {name}: rounds {bad} exceed the {its} iterations per task; allowed: "
                             f"n ≤ iterations={its}")


PARAMS = Params("chapter 1", (
    profile_param(),
    Param("methods", "list[str]", "Table 3's columns (None: CLIP, B-Stand, B-TL, S-Stand, S-TL, S-TL-p0.5, S-TL-p1, "
          "S-TL-p0.5-n with n = rounds, S-TL-a0.5)", nullable=True,
          choices_help=", ".join(METHOD_FORMS) + " (c in [0, 1], n ≥ 1)"),
    Param("targets", "list[str]", "only these of ch1 Sec. 4's target tasks, in the benchmark's order (None: the "
          "profile's; e.g. a rehearsal of the paper profile on the cheapest)", nullable=True,
          choices=lambda p: roles(p)[0], choices_help="the profile's targets"),
    Param("references", "list[str]", "only these of ch1 Sec. 4's reference tasks (None: the profile's)",
          nullable=True, choices=lambda p: roles(p)[1], choices_help="the profile's references"),
    seeds_param({"smoke": (0,), "embedded": (0, 1, 2), "paper": (0, 1, 2)}),
    Param("rounds", "int", "n of S-TL-p0.5-n, the calibration rounds (paper: 11)",
          default=profile_default(SWEEPS, "rounds"), low=1,
          high=1_000),
    Param("orders", "int", "training orders Table 4 runs, the curriculum's included (None on paper: all 24)",
          default=profile_default(SWEEPS, "orders"), low=1, high=24, nullable=True),
    Param("rounds_grid", "list[int]", "Fig. 3's values of n",
          default=profile_default(SWEEPS, "rounds_grid"), low=1, high=1_000),
    Param("lr_grid", "list[float]", "Fig. 4's learning rates", default=profile_default(SWEEPS, "lr_grid"), **LR_RANGE),
    Param("epoch_scales", "list[float]", "Fig. 5's multipliers of every task's iterations",
          default=profile_default(SWEEPS, "epoch_scales"), low=0.0, high=10.0, open_low=True),
    Param("lr", "float", "peak AdamW learning rate of every run (paper: 1e-5)",
          default=profile_default(PROTOCOLS, "lr"), **LR_RANGE),
    Param("iterations", "int", "steps per target task (None on paper: from ch1 Sec. 5.1's epochs; given on paper, "
          "every target trains that many, e.g. in a rehearsal)",
          default=lambda p: None if p == "paper" else PROTOCOLS[p].iterations, nullable=True, low=1, high=1_000_000),
    Param("batch_size", "int", "images per step (paper: 128)",
          default=profile_default(PROTOCOLS, "batch_size"), low=1, high=65_536),
    Param("alpha_grid", "list[float]", "B-Stand / B-TL's merge coefficients α searched on val (ch1 Sec. 5.2, with "
          f"ch5 Appendix A's grid: {len(ALPHA_GRIDS['paper'])} values from 0 to 1)", default=ALPHA_GRIDS, low=0.0,
          high=10.0),
    device_param(),
    workers_param(),
    data_root_param(),
    *clip_params(),
    eval_images_param(),
), checks=(_methods_and_rounds_fit, check_random_weights, paper_only("eval_images"),
           paper_data_check(lambda c: _chosen_tasks(c, "paper"))))


@dataclass(frozen=True)
class Ch1Config(DeclaredConfig):
    """Validated parameters of chapter 1."""

    PARAMS: ClassVar[Params] = PARAMS

    profile: str
    targets: tuple[str, ...]
    references: tuple[str, ...]
    paper_names: dict
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    rounds: int
    sweep_rounds: int
    rounds_grid: tuple[int, ...]
    lr_grid: tuple[float, ...]
    epoch_scales: tuple[float, ...]
    n_orders: int | None
    lr: float
    batch_size: int
    warmup: int
    iterations: int
    alpha_grid: tuple[float, ...]
    val_per_class: int | None
    test_per_class: int | None
    device: str
    data_root: str | None
    model: str | None = None
    pretrained: str | None = None
    workers: int = 1
    fixed_iterations: bool = False  # paper: ``iterations`` was given, so every target trains that many
    eval_images: int | None = None  # paper: a cap on every evaluation split (a rehearsal)

    @classmethod
    def from_config(cls, c: Config) -> "Ch1Config":
        sw, proto = SWEEPS[c.profile], PROTOCOLS[c.profile]
        its = _iterations(c)
        targets, references, paper = roles(c.profile)
        targets = tuple(t for t in targets if c.targets is None or t in c.targets)
        references = tuple(r for r in references if c.references is None or r in c.references)
        return cls(c.profile, targets, references, paper, c.methods or default_methods(c.rounds), c.seeds, c.rounds,
                   min(sw["sweep_rounds"], its), c.rounds_grid, c.lr_grid, c.epoch_scales, c.orders, c.lr,
                   c.batch_size, min(proto.warmup, its), its, c.alpha_grid,
                   proto.val_per_class,
                   sw["test_per_class"], resolve_device(c.device), c.data_root, c.model, c.pretrained,
                   c.workers, c.profile == "paper" and c.iterations is not None, c.eval_images)

    @property
    def tasks(self) -> tuple[str, ...]:
        """The targets and references in the benchmark's order (as chapter 5, so zero-shot results are
        shared): the 8 tasks, except on ``smoke``."""
        return tuple(t for t in benchmark("task_arithmetic_8", self.profile) if t in (*self.targets, *self.references))

    def summary(self) -> str:
        return (f"profile {self.profile}: targets {list(self.targets)}, references {list(self.references)}; "
                f"methods {list(self.methods)}; seeds {list(self.seeds)}; lr {self.lr:g}, batch {self.batch_size}; "
                f"sweeps: n {list(self.rounds_grid)}, lr {list(self.lr_grid)}, "
                f"iteration multipliers {[round(s, 2) for s in self.epoch_scales]} (at n = {self.sweep_rounds}), "
                f"orders {'all 24' if self.n_orders is None else self.n_orders}"
                + (f"; evaluated on at most {self.eval_images} images per split" if self.eval_images else ""))


__all__ = ["PARAMS", "ROLE_ORDER", "SMOKE_REFERENCES", "SMOKE_TARGETS", "SWEEPS", "Ch1Config", "default_methods",
           "roles"]
