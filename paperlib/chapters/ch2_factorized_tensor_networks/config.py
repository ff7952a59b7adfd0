"""Chapter 2's parameters, declared once (:data:`PARAMS`), and its validated config (:class:`Ch2Config`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from ...config import loader_workers
from ...data.standins import benchmark
from ...ftn import PAPER_ALPHA
from ...ftn_train import CONV_PROTOCOLS, VIT_METHODS, VIT_PROTOCOLS, ConvProtocol, ViTProtocol
from ...reference import CH2_TEXT
from ..kit import (
    Config,
    DeclaredConfig,
    Param,
    Params,
    check_executor,
    check_random_weights,
    data_root_param,
    device_param,
    eval_images_param,
    executor_param,
    paper_data_check,
    paper_only,
    profile_param,
    resolve_device,
    seeds_param,
    workers_param,
)

#: The two convolutional benchmarks (Tables 1 and 2) by our names, their stand-in tables and the paper's backbones.
BENCHMARKS = {"i2s": "ch2_imagenet_to_sketch", "domainnet": "ch2_domainnet"}
BENCHMARK_LABELS = {"i2s": "ImageNet-to-Sketch (Table 1)", "domainnet": "DomainNet (Table 2)"}
PAPER_BACKBONES = {"i2s": "resnet50", "domainnet": "resnet34"}
PAPER_RANKS = {"i2s": CH2_TEXT["ranks"]["I2S"], "domainnet": CH2_TEXT["ranks"]["DomainNet"]}
BASELINES = ("fe", "fc_bn", "ft")
BASELINE_LABELS = {"fe": "Feature-Extractor", "fc_bn": "FC and BN only", "ft": "Fine-Tuning"}
VIT_LABELS = {"linear_probe": "Feature extractor", "ft": "Fine-tuning", "lora_qv": "LoRA", "ftn_qv": "FTN (Q&V)",
              "ftn_o": "FTN (O)"}
#: Ranks when ``ranks`` is None: the paper's per benchmark on ``paper``; on ``embedded`` ranks 1, 4 and 16 of the
#: shipped ResNet (0.75 %, 3 % and 12 % of its trunk: the span of the paper's ranks on ResNet-50); ``smoke`` one rank.
DEFAULT_RANKS = {"paper": PAPER_RANKS, "embedded": {"i2s": (1, 4, 16), "domainnet": (1, 4, 16)},
                 "smoke": {"i2s": (2,), "domainnet": (2,)}}
DEFAULT_SEEDS = {"paper": (0,), "embedded": (0, 1), "smoke": (0,)}
#: ``smoke`` adapts the first domain of each benchmark and of the ViT datasets (every method still runs).
SMOKE_DOMAINS = 1
VIT_DATASETS = {p: tuple(benchmark("ch2_vit", p))[:SMOKE_DOMAINS if p == "smoke" else None]
                for p in ("paper", "embedded", "smoke")}


def domains_of(b: str, profile: str) -> tuple[str, ...]:
    """The domains a benchmark adapts on ``profile`` (its stand-ins; the first one on ``smoke``)."""
    return tuple(benchmark(BENCHMARKS[b], profile))[:SMOKE_DOMAINS if profile == "smoke" else None]


def _backbone_check(c: Config) -> None:
    if c.backbone is None:
        return
    if c.profile != "paper":
        raise ValueError(f"parameter backbone={c.backbone!r}: profile {c.profile!r} adapts the shipped ResNet "
                         "(paperlib.resnet_foundation); a torchvision backbone needs profile 'paper'")
    import torchvision
    from torch import nn
    if c.backbone not in torchvision.models.list_models():
        raise ValueError(f"parameter backbone={c.backbone!r} is not a torchvision model; allowed: a torchvision "
                         "classification model name such as 'resnet50' or 'resnet34'")
    model = torchvision.models.get_model(c.backbone, weights=None)
    convs = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    if len(convs) < 2:
        raise ValueError(f"parameter backbone={c.backbone!r}: it has {len(convs)} convolution(s) "
                         f"({', '.join(convs) or 'none'}), so FTN's conv adapters (every conv but the stem, ch2 "
                         "Sec. 3.1) have nothing to adapt; use a convolutional backbone (the paper's: resnet50, "
                         "resnet34) and the ViT part for attention")


def _chosen(names, c: Config) -> tuple[str, ...]:
    """``names`` restricted to the ``domains`` parameter (all of them when it is None)."""
    return tuple(n for n in names if c.domains is None or n in c.domains)


def _datasets(c: Config) -> list[str]:
    names = [d for b in c.benchmarks for d in _chosen(benchmark(BENCHMARKS[b], "paper"), c)]
    return names + (list(_chosen(VIT_DATASETS["paper"], c)) if c.vit else [])


def _domains_known(c: Config) -> None:
    if c.domains is None:
        return
    have = [d for b in c.benchmarks for d in domains_of(b, c.profile)] + (list(VIT_DATASETS[c.profile]) if c.vit
                                                                           else [])
    unknown = [d for d in c.domains if d not in have]
    if unknown or not c.domains:
        raise ValueError(f"parameter domains={list(c.domains)!r}: {unknown or 'empty'} not among the chosen "
                         f"benchmarks' domains and ViT datasets on profile {c.profile!r}; allowed: {', '.join(have)}")


_paper_only = paper_only("eval_images", "loader_workers",
                         why="the chapter holds its generated images in memory, with no streamed data")


PARAMS = Params("chapter 2", (
    profile_param(),
    Param("benchmarks", "list[str]", "convolutional benchmarks: 'i2s' (ImageNet-to-Sketch, Table 1, ResNet-50) and "
          "'domainnet' (Table 2, ResNet-34), or their stand-ins", default=tuple(BENCHMARKS), choices=tuple(BENCHMARKS),
          min_len=0),
    Param("ranks", "list[int]", "FTN ranks R of every conv adapter, both benchmarks (None: the paper's per benchmark "
          "on paper; embedded 1, 4, 16); the tables show the lowest and highest, "
          "Fig. 2 all of them", nullable=True, low=1, high=10_000),
    Param("baselines", "list[str]", "baselines: 'fe' (Feature-Extractor), 'fc_bn' (FC and BN only, Fig. 2's R = 0), "
          "'ft' (Fine-Tuning)", default=BASELINES, choices=BASELINES, min_len=0),
    seeds_param(DEFAULT_SEEDS),
    Param("init", "str", "initialisation of the conv factors: 'xavier' (ch2 Sec. 3.1) or 'zero' (the C_out factor "
          "zero: an exact pretrained start)", default="xavier", choices=("xavier", "zero")),
    Param("adapt_stem", "bool", "also adapt the stem conv (the paper's per-task counts exclude it)", default=False),
    Param("backbone", "str", "paper profile only: a torchvision backbone for both benchmarks instead of the paper's "
          "(None: ResNet-50 for i2s, ResNet-34 for domainnet)", nullable=True),
    Param("steps", "int", "optimiser steps of every convolutional run (None: the profile's; paper: 30 epochs)",
          nullable=True, low=1, high=10_000_000),
    Param("vit_steps", "int", "optimiser steps of every ViT run (None: the profile's; paper: 100 epochs)",
          nullable=True, low=1, high=10_000_000),
    Param("batch_size", "int", "images per optimiser step of every run, conv and ViT, without accumulation (None: "
          "the protocol's; paper: conv 32 × 8 accumulated as TAPS, ViT 64)", nullable=True, low=1, high=65_536),
    Param("domains", "list[str]", "only these of the benchmarks' domains and of the ViT datasets (None: all of "
          "them); e.g. a rehearsal of the paper profile on one domain each", nullable=True),
    eval_images_param(),
    Param("loader_workers", "int", "paper profile: DataLoader worker processes streaming the images (None: "
          "$PAPERLIB_LOADER_WORKERS, else 8)",
          nullable=True, low=0, high=256),
    Param("vit", "bool", "the attention part (Table 3): a CLIP ViT adapted by LoRA and FTN on five datasets",
          default=True),
    Param("vit_methods", "list[str]", "Table 3's methods: linear_probe, ft, lora_qv, ftn_qv, ftn_o",
          default=VIT_METHODS, choices=VIT_METHODS),
    Param("vit_rank", "int", "rank R of the attention adapters (ch2 Sec. 4.1.2: 4)", default=CH2_TEXT["vit_rank"],
          low=1, high=4096),
    Param("alpha_qv", "float", "α of FTN (Q&V) and LoRA (ch2 Sec. 3.2: 10)", default=PAPER_ALPHA["ftn_qv"], low=0.0,
          open_low=True, high=1e6),
    Param("alpha_o", "float", "α of FTN (O) (ch2 Sec. 3.2: 100)", default=PAPER_ALPHA["ftn_o"], low=0.0, open_low=True,
          high=1e6),
    device_param(),
    workers_param(),
    executor_param(),
    data_root_param(),
    Param("pretrained", "str", "paper profile only: 'random' builds ResNet-50/34 and ViT-B/32 randomly initialised "
          "instead of downloading ImageNet and OpenAI weights (a rehearsal of the code path; every table says so) "
          "(None: the pretrained weights)", nullable=True, choices=("random",)),
), checks=(_backbone_check, _domains_known, _paper_only, check_executor, check_random_weights,
           paper_data_check(_datasets)))


@dataclass(frozen=True)
class Ch2Config(DeclaredConfig):
    """Validated parameters of chapter 2."""

    PARAMS: ClassVar[Params] = PARAMS

    profile: str
    benchmarks: tuple[str, ...]
    domains: dict             # benchmark -> its domains for this profile
    ranks: dict               # benchmark -> ranks, ascending
    baselines: tuple[str, ...]
    seeds: tuple[int, ...]
    init: str
    adapt_stem: bool
    backbones: dict           # benchmark -> "shipped" or a torchvision name
    conv_protocol: ConvProtocol
    vit: bool
    vit_datasets: tuple[str, ...]
    vit_methods: tuple[str, ...]
    vit_rank: int
    alphas: dict              # variant -> α
    vit_protocol: ViTProtocol
    device: str
    workers: int
    executor: str | None
    data_root: str | None
    pretrained: str | None = None
    eval_images: int | None = None
    loader_workers: int = 8

    @classmethod
    def from_config(cls, c: Config) -> "Ch2Config":
        conv, vit = CONV_PROTOCOLS[c.profile], VIT_PROTOCOLS[c.profile]
        if c.steps is not None:
            conv = dataclasses.replace(conv, steps=c.steps, warmup=min(conv.warmup, c.steps), epochs=None)
        if c.vit_steps is not None:
            vit = dataclasses.replace(vit, steps=c.vit_steps, warmup=min(vit.warmup, c.vit_steps), epochs=None)
        if c.batch_size is not None:
            conv = dataclasses.replace(conv, batch_size=c.batch_size, accumulate=1)
            vit = dataclasses.replace(vit, batch_size=c.batch_size)
        ranks = {b: tuple(sorted(c.ranks)) if c.ranks is not None else DEFAULT_RANKS[c.profile][b]
                 for b in c.benchmarks}
        backbones = {b: ("shipped" if c.profile != "paper" else c.backbone or PAPER_BACKBONES[b]) for b in c.benchmarks}
        alphas = {"ftn_qv": c.alpha_qv, "lora_qv": c.alpha_qv, "ftn_o": c.alpha_o}
        return cls(c.profile, c.benchmarks, {b: _chosen(domains_of(b, c.profile), c) for b in c.benchmarks},
                   ranks, c.baselines, c.seeds, c.init, c.adapt_stem, backbones, conv, c.vit,
                   _chosen(VIT_DATASETS[c.profile], c), c.vit_methods, c.vit_rank, alphas, vit,
                   resolve_device(c.device), c.workers, c.executor, c.data_root, c.pretrained, c.eval_images,
                   loader_workers(8) if c.loader_workers is None else c.loader_workers)

    def summary(self) -> str:
        p = self.conv_protocol
        lines = [f"chapter 2 · profile {self.profile} · seeds {list(self.seeds)} · device {self.device} · "
                 f"{self.workers} worker(s)" + (f" · pretrained {self.pretrained}" if self.pretrained else "")
                 + (f" · evaluated on at most {self.eval_images} images per split" if self.eval_images else "")]
        for b in self.benchmarks:
            lines.append(f"{BENCHMARK_LABELS[b]}: {', '.join(self.domains[b])} · backbone {self.backbones[b]} · "
                         f"ranks {list(self.ranks[b])} · baselines {', '.join(self.baselines)}")
        lines.append(f"conv runs: {p.steps} steps of batch {p.batch_size}×{p.accumulate}, {p.image_size}px, "
                     f"SGD momentum {p.momentum:g}, cosine, lr {dict(p.lr)} · factor init {self.init}")
        if self.vit:
            v = self.vit_protocol
            lines.append(f"ViT runs: {', '.join(self.vit_datasets)} · {', '.join(self.vit_methods)} · R = "
                         f"{self.vit_rank}, α {self.alphas['ftn_qv']:g} (Q&V, LoRA) / {self.alphas['ftn_o']:g} (O) "
                         f"· {v.steps} steps of batch {v.batch_size}, AdamW, lr {dict(v.lr)}")
        return "\n".join(lines)
