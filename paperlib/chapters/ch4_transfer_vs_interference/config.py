"""Chapter 4's parameters, declared once (:data:`PARAMS`), and its validated config (:class:`Ch4Config`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import ClassVar

from ...data import benchmark
from ...data.registry import list_datasets
from ...mdl import PROTOCOLS, MDLProtocol
from ...models.resnet_cifar import WIDTHS, channels
from ...weighting import WEIGHTINGS
from ..kit import (
    LR_RANGE,
    Config,
    DeclaredConfig,
    Param,
    Params,
    check_executor,
    data_root_param,
    device_param,
    executor_param,
    paper_data_check,
    profile_default,
    profile_param,
    resolve_device,
    seeds_param,
    workers_param,
)

#: Default widths and seeds per profile. ``embedded`` runs one seed: the full grid at 3 seeds would
#: take about 35 min on a 2-core CPU, more than twice its 15-min budget (the chapter says so).
DEFAULT_WIDTHS = {"paper": WIDTHS, "embedded": WIDTHS, "smoke": WIDTHS[:2]}  # smoke: the two narrowest
DEFAULT_SEEDS = {"paper": (0, 1, 2), "embedded": (0,), "smoke": (0,)}
WEIGHTING_LABELS = {"uniform": "Uniform", "uncertainty": "Uncertainty", "cov": "CoV"}
SHORT = {"CIFAR100": "CIFAR-100", "TinyImageNet100": "Tiny-ImageNet", "MiniPlaces": "MiniPlaces"}
METRICS = ("perf_gain", "interference", "transfer")
METRIC_LABELS = {"perf_gain": "PerfGain (%)", "interference": "Interference (%)", "transfer": "Transfer (%)"}


def _widths_have_whole_channels(c: Config) -> None:
    for w in c.widths:
        try:
            channels(w)
        except ValueError as err:
            raise ValueError(f"parameter widths={list(c.widths)}: {err}") from None


PARAMS = Params("chapter 4", (
    profile_param(),
    Param("domains", "list[str]", "the domains (the paper's CIFAR-100, Tiny-ImageNet, MiniPlaces or their stand-ins); "
          "joint training needs two, the similarity analysis three",
          default=lambda p: tuple(benchmark("ch4_trio", p)), choices=list_datasets, min_len=2,
          choices_help="the profile's datasets (chapter 0 lists them)"),
    Param("widths", "list[float]", f"ResNet-32 width multipliers (paper: {', '.join(f'{w:g}' for w in WIDTHS)}); "
          "each must give whole GroupNorm-divisible channels", default=DEFAULT_WIDTHS, low=0.0, high=16.0,
          open_low=True),
    Param("weightings", "list[str]", "loss weightings (ch4 Sec. 3.2)", default=WEIGHTINGS, choices=WEIGHTINGS),
    seeds_param(DEFAULT_SEEDS),
    Param("epochs", "int", "single-domain epochs; joint models get 300/250 of them (paper: 250)",
          default=profile_default(PROTOCOLS, "single_epochs"), low=1, high=10_000),
    Param("lr", "float", "initial SGD learning rate (paper: 0.1)",
          default=profile_default(PROTOCOLS, "lr"), **LR_RANGE),
    Param("batch_size", "int", "images per step (paper: 128)",
          default=profile_default(PROTOCOLS, "batch_size"), low=2, high=65_536),
    Param("probe_per_class", "int", "test images per class per domain in the CKA probe set (ch4 Sec. 3.4: 50); "
          "every class of the test sets needs that many", default=profile_default(PROTOCOLS, "probe_per_class"),
          low=1, high=100_000),
    device_param(),
    workers_param(),
    executor_param(),
    data_root_param(),
), checks=(_widths_have_whole_channels, paper_data_check("domains"), check_executor))


@dataclass(frozen=True)
class Ch4Config(DeclaredConfig):
    """Validated parameters of chapter 4."""

    PARAMS: ClassVar[Params] = PARAMS

    profile: str
    domains: tuple[str, ...]
    paper_names: dict
    widths: tuple[float, ...]
    weightings: tuple[str, ...]
    seeds: tuple[int, ...]
    protocol: MDLProtocol
    device: str
    data_root: str | None
    workers: int = 1
    executor: str | None = None

    @classmethod
    def from_config(cls, c: Config) -> "Ch4Config":
        paper = dict(zip(benchmark("ch4_trio", c.profile), benchmark("ch4_trio", "paper")))
        proto = replace(PROTOCOLS[c.profile], single_epochs=c.epochs, lr=c.lr, batch_size=c.batch_size,
                        probe_per_class=c.probe_per_class)
        return cls(c.profile, c.domains, {d: paper.get(d, d) for d in c.domains}, tuple(sorted(c.widths)),
                   c.weightings, c.seeds, proto, resolve_device(c.device), c.data_root, c.workers, c.executor)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return list(itertools.combinations(self.domains, 2))

    def n_runs(self) -> tuple[int, int]:
        """(independent, joint) models of the grid."""
        k = len(self.seeds) * len(self.widths)
        return k * len(self.domains), k * len(self.pairs) * len(self.weightings)

    def summary(self) -> str:
        p = self.protocol
        n1, n2 = self.n_runs()
        e1, m1 = p.schedule(1)
        e2, m2 = p.schedule(2)
        size = "the datasets' full splits" if p.train_per_class is None else \
            f"{p.train_per_class} train / {p.test_per_class} test images per class"
        return (f"chapter 4 · profile {self.profile} · domains {', '.join(self.domains)} · widths "
                f"{', '.join(f'{w:g}x' for w in self.widths)} · weightings {', '.join(self.weightings)} · seeds "
                f"{list(self.seeds)}\n{n1} independent + {n2} joint ResNet-32 models · SGD lr {p.lr:g}, momentum "
                f"{p.momentum:g}, wd {p.weight_decay:g}, batch {p.batch_size} · single {e1} epochs (×{p.gamma:g} at "
                f"{list(m1)}), joint {e2} epochs (×{p.gamma:g} at {list(m2)}) · {p.image_size}×{p.image_size} "
                f"images, {size}, probe {p.probe_per_class} test images per class per domain · device {self.device}")

    def name(self, domain: str) -> str:
        """The paper's short name of the domain a stand-in plays, e.g. ``Tiny-ImageNet``."""
        return SHORT.get(self.paper_names[domain], self.paper_names[domain])


__all__ = ["DEFAULT_SEEDS", "DEFAULT_WIDTHS", "METRICS", "METRIC_LABELS", "PARAMS", "SHORT", "WEIGHTING_LABELS",
           "Ch4Config"]
