"""``list_datasets`` and ``get_dataset``: the single entry point to every dataset in the book.

* Profiles ``smoke`` and ``embedded`` serve the generated domains of :mod:`paperlib.data.embedded`
  (sizes per profile in :data:`paperlib.config.EMBEDDED_SIZES`), cached on disk under
  ``<cache>/data``: content-addressed, checksummed, safe to delete, regenerated identically.
* Profile ``paper`` serves the papers' datasets from ``root`` (see :mod:`paperlib.data.real`).
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Callable

import torch

from ..config import (
    EMBEDDED_SIZES,
    SPLITS,
    cache_dir,
    check_choice,
    check_int_range,
    check_profile,
    check_split,
    data_root,
)
from ..store import BUILD_SECONDS_KEY, cached_tensors, content_key
from .dataset import LabeledDataset, TensorImageDataset, adapt_images
from .embedded import DOMAINS, IMAGE_SIZE
from .real import PAPER_DATASETS, load_paper_dataset
from .standins import BENCHMARKS

#: Seeds of the three splits are derived from this many values apart, so they never collide.
_SPLIT_INDEX = {s: i for i, s in enumerate(SPLITS)}


def list_datasets(profile: str | None = None) -> list[str]:
    """Names valid for ``profile``: embedded domains for ``smoke``/``embedded``, paper datasets for
    ``paper``; all of them (embedded first) when ``profile`` is ``None``."""
    if profile is None:
        return sorted(DOMAINS) + sorted(PAPER_DATASETS)
    return sorted(PAPER_DATASETS) if check_profile(profile) == "paper" else sorted(DOMAINS)


def _split_generator(name: str, split: str, seed: int) -> torch.Generator:
    """A torch generator seeded from (seed, domain, split): each split is an independent draw."""
    g = torch.Generator()
    g.manual_seed(int(seed) * 1_000_003 + zlib.crc32(name.encode()) * 7 + _SPLIT_INDEX[split])
    return g


def generate_domain(name: str, split: str, n_per_class: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Generate one split of an embedded domain without touching the cache (uint8 images, labels)."""
    domain = DOMAINS[check_choice(name, DOMAINS, "embedded domain")]
    images, labels = domain.generate(n_per_class, check_split(split), _split_generator(name, split, seed))
    expected = (n_per_class * domain.n_classes, 3, IMAGE_SIZE, IMAGE_SIZE)
    if images.dtype != torch.uint8 or tuple(images.shape) != expected:
        raise RuntimeError(f"generator of {name!r} returned {images.dtype} {tuple(images.shape)}, "
                           f"expected uint8 {expected}")
    return images, labels.long()


def check_dataset(name: str, profile: str) -> None:
    """Raise ``ValueError`` unless ``name`` is a dataset of ``profile`` (says what is allowed, and where
    a paper dataset's embedded stand-ins are)."""
    if profile == "paper":
        if name in DOMAINS:
            raise ValueError(f"{name!r} is an embedded domain; profile 'paper' loads the papers' datasets: "
                             f"{', '.join(sorted(PAPER_DATASETS))}")
        check_choice(name, PAPER_DATASETS, "dataset for profile 'paper'")
        return
    if name in PAPER_DATASETS:
        rows = sorted({(b, r.embedded) for b, rs in BENCHMARKS.items() for r in rs if r.paper == name})
        hint = "; ".join(f"{e!r} in {b}" for b, e in rows) or "none"
        raise ValueError(f"{name!r} is a paper dataset, which profile {profile!r} does not load (no downloads); "
                         f"its embedded stand-ins: {hint}. Use profile='paper' for the real data.")
    check_choice(name, DOMAINS, f"dataset for profile {profile!r}")


def check_paper_data(names, root: str | Path | None = None) -> None:
    """Check, before any model is loaded or downloaded, that the train and test splits of each paper
    dataset are in ``root`` (``FileNotFoundError`` naming the folder layout expected otherwise)."""
    for name in names:
        check_dataset(name, "paper")
        for split in ("train", "test"):
            get_dataset(name, split, "paper", root)


def get_dataset(name: str, split: str = "train", profile: str = "embedded", root: str | Path | None = None, *,
                seed: int = 0, n_per_class: int | None = None, image_size: int | None = None,
                channels: int = 3, transform: Callable | None = None, download: bool = False,
                val_size: int | None = None):
    """Return split ``split`` of dataset ``name`` for ``profile``.

    Args:
        name: an embedded domain (profiles ``smoke``/``embedded``) or a paper dataset (``paper``);
            :func:`list_datasets` lists them.
        split: ``train``, ``val`` or ``test``.
        profile: ``smoke``, ``embedded`` or ``paper``.
        root: the cache folder (embedded; default ``<cache>/data``) or the datasets folder
            (paper; default :func:`paperlib.config.data_root`).
        seed: generation seed of the embedded domains; the seed of the train/val split for paper
            datasets without an official validation split.
        n_per_class: embedded only: images per class, overriding the profile's default.
        image_size: resize to this square size (8 to 1024); ``None`` keeps the native size (32 for
            embedded domains; 32 for TinyImageNet100 and MiniPlaces, as ch4 Sec. 3.3 prescribes).
        channels: 3 (RGB) or 1 (grey).
        transform: applied to each item (a float tensor for embedded data, a PIL image for paper data).
        download: paper only: download where an official source exists.
        val_size: paper only: size of the validation split held out of the official train set,
            instead of the default ``min(10 %, 5000)`` (e.g. 7326 for SVHN in ch3's Appendix).

    Returns:
        A torch ``Dataset`` of ``(image, label)`` with ``classnames`` and ``templates`` attached:
        :class:`~paperlib.data.dataset.TensorImageDataset` (embedded) or
        :class:`~paperlib.data.dataset.LabeledDataset` (paper).
    """
    check_profile(profile)
    check_dataset(name, profile)
    check_split(split)
    check_int_range(seed, "seed", 0)
    if image_size is not None:
        check_int_range(image_size, "image_size", 8, 1024)
    check_choice(channels, (1, 3), "number of channels")

    if profile == "paper":
        if n_per_class is not None:
            raise ValueError("n_per_class is for the embedded domains; paper datasets keep their official sizes")
        return load_paper_dataset(name, split, Path(root) if root is not None else data_root(), seed=seed,
                                  image_size=image_size, channels=channels, transform=transform, download=download,
                                  val_size=val_size)
    if download:
        raise ValueError(f"download=True is only for profile 'paper'; profile {profile!r} generates its data")
    if val_size is not None:
        raise ValueError(f"val_size is for profile 'paper'; profile {profile!r} sets sizes with n_per_class")

    domain = DOMAINS[name]
    n = EMBEDDED_SIZES[profile][split] if n_per_class is None else \
        check_int_range(n_per_class, "n_per_class", 1, 100_000)
    spec = dict(domain=name, version=domain.version, split=split, n_per_class=n, seed=seed, size=IMAGE_SIZE)
    folder = Path(root) if root is not None else cache_dir() / "data"
    path = folder / f"{name}-{split}-{content_key(spec)}.safetensors"

    def build():
        images, labels = generate_domain(name, split, n, seed)
        return {"images": images, "labels": labels}

    tensors, meta = cached_tensors(path, build, metadata={k: str(v) for k, v in spec.items()})
    images = adapt_images(tensors["images"], image_size, channels)
    return TensorImageDataset(images, tensors["labels"], name=name, split=split, profile=profile,
                              classnames=domain.classnames, templates=domain.templates, transform=transform,
                              info=dict(spec, description=domain.description, cache_file=str(path),
                                        generation_seconds=float(meta[BUILD_SECONDS_KEY])))


__all__ = ["check_dataset", "check_paper_data", "get_dataset", "list_datasets", "generate_domain", "LabeledDataset",
           "TensorImageDataset"]
