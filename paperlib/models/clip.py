"""CLIP image encoders and frozen zero-shot classification heads (ch5 Sec. 3, ch1 Sec. 4).

Everything is built with open_clip. Three kinds of model are available by name:

* ``paperlib-tiny-ViT-8``: the embedded profile's foundation model, an open_clip ViT (32 px images,
  patch 8, width 128, 4 layers; text tower width 128, 3 layers, context 32) registered with
  open_clip from ``open_clip_configs/``. Its weights ship with the repository in
  ``shipped/tiny_clip/`` (safetensors + JSON config + training metrics); the recipe that made them
  is :mod:`paperlib.foundation` (``make foundation``).
* ``ViT-B-32``, ``ViT-B-16``, ``ViT-L-14``: the papers' encoders, ``pretrained="openai"`` (profile
  ``paper``; open_clip downloads the weights), or a local weights file.

The classification head follows the task-arithmetic protocol (Ilharco et al. 2023; ch5 Appendix A):
each class name is put into every template, the captions are encoded by the text tower,
L2-normalised, averaged over templates and normalised again; the head multiplies L2-normalised
image features by these class embeddings scaled by the logit scale. The head is computed once,
cached on disk, and never trained (it is a buffer, not a parameter).
"""

from __future__ import annotations

import hashlib
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import open_clip
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file

from ..config import cache_dir, check_choice
from ..store import CHECKSUM_KEY, content_key, load_verified, save_tensors

CONFIG_DIR = Path(__file__).with_name("open_clip_configs")
TINY_MODEL = "paperlib-tiny-ViT-8"
SHIPPED_DIR = Path(__file__).with_name("shipped") / "tiny_clip"
SHIPPED_WEIGHTS = SHIPPED_DIR / "model.safetensors"
SHIPPED_CONFIG = SHIPPED_DIR / "config.json"
PAPER_MODELS = ("ViT-B-32", "ViT-B-16", "ViT-L-14")
MODELS = (TINY_MODEL,) + PAPER_MODELS
#: ``pretrained`` value of a paper model built with random weights (a rehearsal: nothing is downloaded).
RANDOM = "random"

#: open_clip's (OpenAI CLIP's) image normalisation constants.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
#: The logit scale is clamped to 100, as in CLIP.
MAX_LOGIT_SCALE = 100.0

if TINY_MODEL not in open_clip.list_models():
    open_clip.add_model_config(CONFIG_DIR)


def tiny_config() -> dict:
    """The open_clip config of the embedded foundation model."""
    return json.loads((CONFIG_DIR / f"{TINY_MODEL}.json").read_text())


def check_model(name: str) -> str:
    """Validate a CLIP model name."""
    return check_choice(name, MODELS, "CLIP model")


class _LoadedRightAfter(logging.Filter):
    """Drops open_clip's "No pretrained weights loaded ... initialized randomly" warning, which it logs
    whenever a model is built without a weights tag, even when weights are loaded right after."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "No pretrained weights loaded" not in record.getMessage()


@contextmanager
def _weights_follow():
    quiet = _LoadedRightAfter()
    root = logging.getLogger()  # open_clip logs through the root logger
    root.addFilter(quiet)
    try:
        yield
    finally:
        root.removeFilter(quiet)


def create_clip(name: str = TINY_MODEL, pretrained: str | Path | None = "shipped") -> nn.Module:
    """Build an open_clip CLIP model (image and text towers), in eval mode on the CPU.

    Args:
        name: one of :data:`MODELS`.
        pretrained: ``"shipped"`` (the repository's weights, tiny model only), ``"openai"`` (paper
            models; downloaded by open_clip, so profile ``paper`` only), a path to a local weights
            file (safetensors or an open_clip checkpoint), or ``None`` (random initialisation).
    """
    check_model(name)
    if pretrained == "shipped":
        if name != TINY_MODEL:
            raise ValueError(f"pretrained='shipped' is only for {TINY_MODEL!r}; {name!r} takes 'openai', a weights "
                             "file or None")
        if not SHIPPED_WEIGHTS.exists():
            raise FileNotFoundError(f"the shipped foundation model is missing: {SHIPPED_WEIGHTS}. It is part of the "
                                    "repository; restore it with git, or rebuild it with `make foundation`.")
        with _weights_follow():
            model = open_clip.create_model(name, pretrained=None)
        state = {k: v.float() for k, v in load_file(SHIPPED_WEIGHTS).items()}
        model.load_state_dict(state, strict=True)
    elif pretrained is None:
        model = open_clip.create_model(name, pretrained=None)
    elif pretrained == "openai":
        if name == TINY_MODEL:
            raise ValueError(f"{TINY_MODEL!r} has no 'openai' weights; use pretrained='shipped'")
        model = open_clip.create_model(name, pretrained="openai")
    else:
        path = Path(pretrained)
        if not path.exists():
            raise FileNotFoundError(f"CLIP weights file {path} does not exist; pass pretrained='openai' to download "
                                    "the paper's weights, or give the path of a local copy")
        with _weights_follow():
            model = open_clip.create_model(name, pretrained=None)
        if path.suffix == ".safetensors":
            state = {k: v.float() for k, v in load_file(path).items()}
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
            state = state.get("state_dict", state)
        model.load_state_dict(state, strict=True)
    with torch.no_grad():
        model.logit_scale.clamp_(max=float(torch.tensor(MAX_LOGIT_SCALE).log()))
    return model.eval()


def model_id(name: str, pretrained: str | Path | None) -> str:
    """A short identity of (model, weights) for cache keys: shipped weights by their recorded
    checksum, a weights file by the SHA-256 of its bytes (two candidate models of one architecture
    have files of the same name and size, and must never share cached runs)."""
    if pretrained == "shipped":
        return f"{name}:shipped:{weights_checksum('shipped')[:16]}"
    if pretrained not in (None, "openai", RANDOM):
        st = Path(pretrained).stat()
        return f"{name}:file:{_file_sha256(Path(pretrained), st.st_mtime_ns, st.st_size)[:16]}"
    return f"{name}:{pretrained}"



def weights_checksum(pretrained: str | Path | None) -> str | None:
    """The tensors checksum of foundation weights (:func:`paperlib.store.tensors_checksum`, which
    ``make foundation`` records in the safetensors metadata and in ``config.json``): one identity for
    the shipped file and a copy of it elsewhere, which :func:`model_id` keys apart. ``None`` for
    weights without one (open_clip's)."""
    if pretrained in (None, "shipped"):
        return json.loads(SHIPPED_CONFIG.read_text())["sha256"]
    if not str(pretrained).endswith(".safetensors") or not Path(pretrained).is_file():
        return None
    with safe_open(str(pretrained), framework="pt") as f:
        return (f.metadata() or {}).get(CHECKSUM_KEY)

@lru_cache(maxsize=32)
def _file_sha256(path: Path, mtime_ns: int, size: int) -> str:
    """SHA-256 of a weights file; cached per (path, modification time, size), since a chapter asks
    for it once per run."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ImageEncoder(nn.Module):
    """The representation model f(x; θ) of ch5 Sec. 2: CLIP's image tower with its input pipeline.

    Takes float images in ``[0, 1]`` (N, 3, H, W), resizes them to the tower's input size when they
    differ (bicubic, as open_clip's preprocessing) and normalises them with CLIP's mean and std.
    Its parameters θ are the image tower's.
    """

    def __init__(self, visual: nn.Module):
        super().__init__()
        self.visual = visual
        size = visual.image_size
        self.image_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[-1] != self.image_size or images.shape[-2] != self.image_size:
            images = F.interpolate(images, size=(self.image_size, self.image_size), mode="bicubic",
                                   align_corners=False)
        return self.visual((images - self.mean) / self.std)


class ClassificationHead(nn.Module):
    """Frozen zero-shot head g(·; ω_t) (ch5 Sec. 2): logits = s · normalize(z) Wᵀ.

    ``weight`` (classes × embed) holds the normalised class embeddings already multiplied by the
    logit scale s. It is a buffer, so optimisers never see it.
    """

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.register_buffer("weight", weight.detach().clone())

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(features, dim=-1) @ self.weight.t()


class ImageClassifier(nn.Module):
    """F(x; ϑ) = g(f(x; θ); ω): an image encoder (possibly linearized) followed by a frozen head."""

    def __init__(self, encoder: nn.Module, head: ClassificationHead):
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(images))


@torch.no_grad()
def zero_shot_weights(model: nn.Module, tokenizer, classnames: Sequence[str], templates: Sequence[str],
                      batch_size: int = 256) -> torch.Tensor:
    """Class embeddings of the zero-shot head (Ilharco et al. protocol), scaled by the logit scale.

    For each class: encode ``template.format(classname)`` for every template, L2-normalise each,
    average over templates, L2-normalise the mean. Returns (classes × embed) · logit scale.
    """
    if not classnames:
        raise ValueError("zero-shot head needs at least one class name")
    if not templates or any("{}" not in t for t in templates):
        raise ValueError(f"templates must be a non-empty list of strings with one '{{}}'; got {list(templates)!r}")
    model = model.eval()
    device = next(model.parameters()).device
    captions = [t.format(c) for c in classnames for t in templates]
    tokens = tokenizer(captions)
    feats = []
    for i in range(0, len(captions), batch_size):
        feats.append(F.normalize(model.encode_text(tokens[i:i + batch_size].to(device)).float(), dim=-1))
    emb = torch.cat(feats).view(len(classnames), len(templates), -1).mean(1)
    emb = F.normalize(emb, dim=-1)
    return (emb * model.logit_scale.exp().clamp(max=MAX_LOGIT_SCALE)).cpu()


def zero_shot_head(model: nn.Module, name: str, pretrained: str | Path | None, classnames: Sequence[str],
                   templates: Sequence[str], *, cache: Path | None = None) -> ClassificationHead:
    """The frozen zero-shot head for one task, computed once and cached as safetensors.

    The cache key is (model identity, class names, templates), see :func:`model_id`.
    """
    key = content_key({"model": model_id(name, pretrained), "classnames": list(classnames),
                       "templates": list(templates)})
    path = (cache or cache_dir() / "heads") / f"{key}.safetensors"
    meta = {"model": model_id(name, pretrained), "n_classes": str(len(classnames))}
    loaded = load_verified(path, meta)
    if loaded is None:
        weight = zero_shot_weights(model, open_clip.get_tokenizer(name), classnames, templates)
        save_tensors({"weight": weight}, path, meta)
        return ClassificationHead(weight)
    return ClassificationHead(loaded[0]["weight"])


@dataclass
class ClipBundle:
    """A loaded CLIP model with what the chapters need from it."""

    name: str
    pretrained: str | Path | None
    model: nn.Module

    @property
    def tokenizer(self):
        return open_clip.get_tokenizer(self.name)

    def image_encoder(self) -> ImageEncoder:
        """A fresh copy of the image tower wrapped as f(x; θ) (the pre-trained θ0)."""
        import copy
        return ImageEncoder(copy.deepcopy(self.model.visual)).eval()

    def head(self, classnames: Sequence[str], templates: Sequence[str]) -> ClassificationHead:
        return zero_shot_head(self.model, self.name, self.pretrained, classnames, templates)


def load_clip(profile: str, name: str | None = None, pretrained: str | Path | None = None) -> ClipBundle:
    """The CLIP model a profile uses: the shipped tiny model for ``smoke``/``embedded``, open_clip
    ``ViT-B-32`` with ``openai`` weights for ``paper`` (other names and weights files allowed).

    ``pretrained="random"`` (:data:`RANDOM`, paper profile only) builds the paper's architecture randomly
    initialised and downloads nothing: a rehearsal of the ``paper`` code path whose numbers mean nothing; its
    :func:`model_id` says ``random``, so its cached runs never mix with pretrained ones."""
    from ..config import check_profile
    check_profile(profile)
    if profile == "paper":
        name = name or "ViT-B-32"
        pretrained = pretrained or "openai"
        if pretrained == RANDOM:  # a rehearsal of the paper's code path: its architecture, nothing downloaded
            return ClipBundle(name, RANDOM, create_clip(name, None))
    else:
        name = name or TINY_MODEL
        if pretrained == RANDOM:
            raise ValueError(f"pretrained={RANDOM!r} rehearses the paper profile (random {name or 'ViT-B-32'}, "
                             f"nothing downloaded); profile {profile!r} uses the shipped model: pass profile='paper' "
                             "or leave pretrained unset")
        if name != TINY_MODEL:
            raise ValueError(f"profile {profile!r} uses the shipped {TINY_MODEL!r} (no downloads); "
                             f"{name!r} needs profile 'paper'")
        pretrained = pretrained or "shipped"
    return ClipBundle(name, pretrained, create_clip(name, pretrained))


__all__ = ["MODELS", "PAPER_MODELS", "RANDOM", "TINY_MODEL", "ClassificationHead", "ClipBundle", "ImageClassifier",
           "ImageEncoder", "create_clip", "load_clip", "model_id", "tiny_config", "zero_shot_head",
           "zero_shot_weights"]
