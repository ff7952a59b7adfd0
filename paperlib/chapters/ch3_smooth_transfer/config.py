"""Chapter 3's parameters, declared once (:data:`PARAMS`), its protocols per pair and profile
(:data:`PROTOCOLS`) and its validated config (:class:`Ch3Config`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from ...models.resnet_cifar import WIDTHS
from ...reference import CH3_TEXT
from ...search import SearchSpace
from ...smooth import PAIRS, STLProtocol, n_grid, pair_datasets
from ..kit import (
    Config,
    DeclaredConfig,
    Param,
    Params,
    check_executor,
    data_root_param,
    device_param,
    executor_param,
    paper_data_check,
    profile_param,
    resolve_device,
    seeds_param,
    workers_param,
)

#: The paper's protocols (ch3 A.1–A.3) and their embedded and smoke miniatures.
#:
#: ``embedded`` (2-core CPU, the chapter in about 12 minutes cold): 16×16 images; 30 target training
#: images per class (the pool N = 300), 30 validation and 50 test images per class, and a source as large
#: as the pool (30 digits per class; 12 letters per class for objects), so the largest N ≈ |D^S| as in the
#: paper's top row; the architectures of A.1/A.2 at reduced width (WRN-10-1 instead of WRN-10-2, ResNet-20
#: at width ½: about 0.08 s a joint step on one thread instead of 0.2–0.8 s) and without WRN's dropout
#: (measured: with dropout 0.4 the 10-layer, width-1 WRN stays near chance in this budget); 12
#: single-dataset epochs (joint runs 24 epochs of the source, by the rule that gives the paper's 380 and
#: 336); batch and sub-batches 32 at a peak learning rate of 0.2 (better than its half and quarter for
#: target-only and source training in a pilot; final rate 1/100 of the peak as in A.1/A.2); validation at
#: 20 points per run.
_EMBEDDED = dict(batch=32, sub_batch=32, lr_peak=0.2, lr_final=2e-3, eval_points=20, image_size=16,
                 single_epochs=12, target_per_class=30, val_per_class=30, test_per_class=50)
_SMOKE = dict(batch=16, sub_batch=16, lr_peak=0.2, lr_final=2e-3, eval_points=2, image_size=16, single_epochs=1,
              target_per_class=4, val_per_class=2, test_per_class=2)
PROTOCOLS: dict[str, dict[str, STLProtocol]] = {
    "paper": {
        "objects": STLProtocol(arch="resnet20", width=1.0, dropout=0.0, bn="shared", single_epochs=200, batch=128,
                               sub_batch=128, small_batch=(140, 16), lr_peak=0.1, lr_final=1e-3, weight_decay=1e-4,
                               eval_points=100, augment=True, image_size=32),
        "digits": STLProtocol(arch="wrn", width=2, dropout=0.4, bn="specific", single_epochs=160, batch=128,
                              sub_batch=128, lr_peak=1e-2, lr_final=1e-4, weight_decay=5e-4, eval_points=100,
                              image_size=32),
    },
    "embedded": {
        "objects": STLProtocol(arch="resnet20", width=0.5, bn="shared", weight_decay=1e-4, source_per_class=12,
                               **_EMBEDDED),
        "digits": STLProtocol(arch="wrn", width=1, dropout=0.0, bn="specific", weight_decay=5e-4,
                              source_per_class=30, **_EMBEDDED),
    },
    "smoke": {
        "objects": STLProtocol(arch="resnet20", width=min(WIDTHS), bn="shared", source_per_class=2, **_SMOKE),
        "digits": STLProtocol(arch="wrn", width=1, dropout=0.0, bn="specific", weight_decay=5e-4, source_per_class=4,
                              **_SMOKE),
    },
}

#: How many target sizes N (k = 0..count−1 of the pool · 10^(−k/2)), seeds of the baselines, and the search
#: (trials per round, rounds) per profile; ``paper`` takes the paper's (per pair, :data:`CH3_TEXT`).
N_COUNT = {"paper": 6, "embedded": 3, "smoke": 2}
DEFAULT_SEEDS = {"paper": (0,), "embedded": (0, 1, 2), "smoke": (0,)}
SEARCH = {"embedded": (3, 3), "smoke": (2, 2)}
#: Rounding of the N grid (the spec's derivation: CIFAR-10's to tens, SVHN's to units).
GRANULARITY = {"objects": 10, "digits": 1}
PAIR_LABELS = {"objects": "CIFAR-100 → CIFAR-10", "digits": "MNIST → SVHN"}
METHOD_LABELS = {"target": "Target", "finetune": "Fine-tune", "multitask": "Multi-task", "ours": "Ours"}


def _range(name: str, default, help_text: str, low=None, high=None) -> Param:
    return Param(name, "list[float]", help_text, default=default, low=low, high=high, min_len=2)


def _ranges_are_pairs(c: Config) -> None:
    for name in ("t0_range", "tau_range", "alpha_range"):
        if len(c[name]) != 2:
            raise ValueError(f"parameter {name}={list(c[name])!r}: give two numbers, [low, high]")
    try:
        SearchSpace(tuple(c.t0_range), tuple(c.tau_range), tuple(c.alpha_range))
    except ValueError as err:
        raise ValueError(f"parameters t0_range/tau_range/alpha_range: {err}") from None


def target_pool(pair: str, profile: str, protocol: STLProtocol) -> int:
    """The size of the target training pool N is drawn from (A.1: 45,000; A.2: 65,931; embedded: the
    profile's images per class × 10 classes)."""
    if profile == "paper":
        return CH3_TEXT["target_pool"][pair]
    return protocol.target_per_class * 10


def _target_val_on_paper(c: Config) -> None:
    if c.target_val is not None and c.profile != "paper":
        raise ValueError(f"parameter target_val={c.target_val!r} sets the paper profile's validation split; profile "
                         f"{c.profile!r} generates its own (leave target_val unset, or pass profile='paper')")


def _sizes_fit(c: Config) -> None:
    if c.sizes is None:
        return
    for pair in c.pairs:
        proto = PROTOCOLS[c.profile][pair]
        pool = target_pool(pair, c.profile, proto)
        too_big = [n for n in c.sizes if n > pool]
        if too_big:
            raise ValueError(f"parameter sizes={list(c.sizes)}: N = {too_big} larger than the {pool} target "
                             f"training images of pair {pair!r} on profile {c.profile!r}; allowed: 1 to {pool}")


PARAMS = Params("chapter 3", (
    profile_param(),
    Param("pairs", "list[str]", "source → target pairs: 'objects' (CIFAR-100 → CIFAR-10, A.1) and 'digits' (MNIST → "
          "SVHN, A.2), or their stand-ins", default={"paper": ("objects", "digits"), "embedded": ("digits",),
                                                     "smoke": ("digits",)}, choices=tuple(PAIRS)),
    Param("n_count", "int", "how many target sizes N: the pool × 10^(−k/2), k = 0..n_count−1 (paper: 6)",
          default=N_COUNT, low=1, high=12),
    Param("sizes", "list[int]", "explicit target sizes N instead of the grid (None: the grid)", nullable=True,
          low=1),
    Param("target_val", "int", "paper profile: validation images held out of the target's training set (None: the "
          "paper's, A.1 5,000 of CIFAR-10, A.2 7,326 of SVHN); the pool N is drawn from is the rest",
          nullable=True, low=1, high=1_000_000),
    seeds_param(DEFAULT_SEEDS),
    Param("per_round", "int", "TPE trials per round k, run in parallel (None: the paper's 11 for objects, 9 for "
          "digits on paper; 3 embedded; 2 smoke)", nullable=True, low=1, high=1000),
    Param("rounds", "int", "TPE rounds (None: the paper's 9 for objects, 11 for digits on paper; 3 embedded; 2 "
          "smoke)", nullable=True, low=1, high=1000),
    _range("t0_range", (-0.5, 0.5), "search range of t₀/T, linear (ours: the paper gives none)", -10.0, 10.0),
    _range("tau_range", (1e-4, 10.0), "search range of τ/T, log (ours)", 0.0, 1e6),
    _range("alpha_range", (-5.0, 5.0), "search range of α, linear (ours)", -100.0, 100.0),
    Param("search_seed", "int", "seed of the TPE sampler", default=0, low=0),
    Param("epochs", "int", "single-dataset epochs (paper: 200 objects, 160 digits); joint runs last that many "
          "epochs of the source plus as many of the whole target set, in source epochs (A.1: 380, A.2: 336)",
          nullable=True, low=1, high=100_000),
    Param("multitask_weight", "float", "λ₀ of the Multi-task baseline (the paper does not state it; 0.5 = equal "
          "weights)", default=0.5, low=0.0, high=1.0),
    Param("searched_multitask", "bool", "also a Multi-task row whose constant λ₀ is chosen on validation from as "
          "many values as the search has trials (a fairness check of ours)", default=False),
    Param("bn_ablation", "bool", "retrain Multi-task and Ours with the other BN treatment (shared vs dataset-specific "
          "statistics, A.1/A.2), first seed", default={"paper": False, "embedded": True, "smoke": True}),
    Param("storage", "str", "the search's optuna storage URL (None: a SQLite file in the run cache; any "
          "SQLAlchemy URL, e.g. postgresql://…)", nullable=True),
    device_param(),
    workers_param(),
    executor_param(),
    data_root_param(),
), checks=(_ranges_are_pairs, _sizes_fit, _target_val_on_paper, check_executor,
           paper_data_check(lambda c: [d for p in c.pairs for d in pair_datasets(p, "paper")])))


@dataclass(frozen=True)
class Ch3Config(DeclaredConfig):
    """Validated parameters of chapter 3."""

    PARAMS: ClassVar[Params] = PARAMS

    profile: str
    pairs: tuple[str, ...]
    sizes: dict            # pair -> tuple of N, largest first
    seeds: tuple[int, ...]
    search: dict           # pair -> (trials per round, rounds)
    space: SearchSpace
    search_seed: int
    protocols: dict        # pair -> STLProtocol
    multitask_weight: float
    searched_multitask: bool
    bn_ablation: bool
    storage: str | None
    device: str
    workers: int
    executor: str | None
    data_root: str | None
    target_val: dict | None = None  # pair -> validation images held out of the target (paper profile)

    @classmethod
    def from_config(cls, c: Config) -> "Ch3Config":
        protocols, sizes, search = {}, {}, {}
        for pair in c.pairs:
            proto = PROTOCOLS[c.profile][pair]
            if c.epochs is not None:
                proto = replace(proto, single_epochs=c.epochs)
            protocols[pair] = proto
            pool = target_pool(pair, c.profile, proto)
            grid = tuple(sorted(set(c.sizes), reverse=True)) if c.sizes else \
                n_grid(pool, c.n_count, GRANULARITY[pair] if c.profile == "paper" else 1)
            sizes[pair] = tuple(dict.fromkeys(grid))
            k, r = CH3_TEXT["tpe_rounds"][pair] if c.profile == "paper" else SEARCH[c.profile]
            search[pair] = (c.per_round or k, c.rounds or r)
        space = SearchSpace(tuple(c.t0_range), tuple(c.tau_range), tuple(c.alpha_range))
        val = {pair: c.target_val or CH3_TEXT["target_val"][pair] for pair in c.pairs} if c.profile == "paper" \
            else None  # A.1/A.2
        return cls(c.profile, c.pairs, sizes, c.seeds, search, space, c.search_seed, protocols, c.multitask_weight,
                   c.searched_multitask, c.bn_ablation, c.storage, resolve_device(c.device), c.workers, c.executor,
                   c.data_root, val)

    def summary(self) -> str:
        lines = [f"chapter 3 · profile {self.profile} · pairs {', '.join(self.pairs)} · baseline seeds "
                 f"{list(self.seeds)} · device {self.device}"]
        for pair in self.pairs:
            p = self.protocols[pair]
            k, r = self.search[pair]
            arch = f"ResNet-20 ×{p.width:g}" if p.arch == "resnet20" else f"WRN-10-{int(p.width)}"
            lines.append(f"{pair} ({PAIR_LABELS[pair]}): N = {', '.join(map(str, self.sizes[pair]))} · {arch}, "
                         f"BN {p.bn} statistics, dropout {p.dropout:g} · {p.single_epochs} single-dataset epochs, "
                         f"batch {p.batch}, sub-batches {p.sub_batch}+{p.sub_batch} · lr {p.lr_peak:g} → "
                         f"{p.lr_final:g} cosine, warm-up {p.warmup:.1%}, wd {p.weight_decay:g} · "
                         f"{p.image_size}×{p.image_size} images · TPE {k} trials × {r} rounds")
        return "\n".join(lines)


__all__ = ["DEFAULT_SEEDS", "GRANULARITY", "METHOD_LABELS", "N_COUNT", "PAIR_LABELS", "PARAMS", "PROTOCOLS", "SEARCH",
           "Ch3Config", "target_pool"]
