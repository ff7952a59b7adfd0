"""Profiles, paths and parameter validation shared by every chapter.

Every chapter notebook takes a ``profile`` papermill parameter:

* ``smoke``: seconds per chapter on a CPU; what CI and nbval run.
* ``embedded`` (default): the embedded benchmark (:mod:`paperlib.data.embedded`) on a 2-core CPU,
  no downloads.
* ``paper``: the papers' datasets and pretrained weights, on a GPU, with internet.

Validation helpers here raise ``ValueError`` naming the bad value and what is allowed, before any
work starts (DEVELOPERS.md, "Bad input").
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

PROFILES: tuple[str, ...] = ("smoke", "embedded", "paper")
DEFAULT_PROFILE = "embedded"
SPLITS: tuple[str, ...] = ("train", "val", "test")

#: The repository root when paperlib runs from a checkout (``pip install -e .``), else ``None``.
_REPO_ROOT = Path(__file__).resolve().parents[1]
REPO_ROOT: Path | None = _REPO_ROOT if (_REPO_ROOT / "pyproject.toml").exists() else None


def check_choice(value, allowed: Iterable, what: str):
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError`` listing the choices."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; choose one of: {', '.join(map(repr, allowed))}")
    return value


def check_profile(profile: str) -> str:
    """Validate a profile name (``smoke``, ``embedded`` or ``paper``)."""
    return check_choice(profile, PROFILES, "profile")


def check_split(split: str) -> str:
    """Validate a split name (``train``, ``val`` or ``test``)."""
    return check_choice(split, SPLITS, "split")


def check_int_range(value, name: str, lo: int | None = None, hi: int | None = None) -> int:
    """Return ``value`` if it is an integer in ``[lo, hi]``, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
        raise ValueError(f"{name}={value!r} is out of range; allowed: {rng}")
    return value


#: Every learning rate of the book (SGD or AdamW, any chapter) lies in the open interval (0, 1): one
#: range, checked by :func:`check_lr` in every protocol and declared once for the chapters' parameters.
LR_LOW, LR_HIGH = 0.0, 1.0


def check_lr(value, name: str = "lr") -> float:
    """Return ``value`` as a float if it is a learning rate in (0, 1), else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not LR_LOW < value < LR_HIGH:
        raise ValueError(f"{name}={value!r} is out of range; allowed: ({LR_LOW:g}, {LR_HIGH:g})")
    return float(value)


def check_seeds(seeds, profile: str) -> tuple[int, ...]:
    """A chapter's seeds: ``None`` means 0, 1, 2 (``smoke``: 0 only); each a non-negative integer."""
    seeds = tuple(seeds) if seeds is not None else ((0,) if profile == "smoke" else (0, 1, 2))
    if not seeds:
        raise ValueError("seeds is empty; give at least one seed")
    for s in seeds:
        check_int_range(s, "seed", 0)
    return seeds


def check_device(device: str) -> str:
    """``cpu``, ``cuda`` or ``cuda:<i>``; a CUDA device must be present."""
    check_choice(device, ("cpu", "cuda") + tuple(f"cuda:{i}" for i in range(16)), "device")
    if device.startswith("cuda"):
        import torch
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} but no CUDA device is available; use 'cpu'")
    return device


@dataclass(frozen=True)
class SplitSizes:
    """Images per class generated for each split of an embedded domain."""

    train: int
    val: int
    test: int

    def __getitem__(self, split: str) -> int:
        return getattr(self, check_split(split))


#: Images per class per split for the generated domains. ``embedded`` is the book's default;
#: chapters that need other sizes pass ``n_per_class`` to :func:`paperlib.data.get_dataset`.
EMBEDDED_SIZES: dict[str, SplitSizes] = {
    "smoke": SplitSizes(train=24, val=4, test=6),
    "embedded": SplitSizes(train=300, val=60, test=100),
}


def loader_workers(default: int) -> int:
    """DataLoader worker processes that read the paper datasets: ``$PAPERLIB_LOADER_WORKERS`` if set (0 reads in
    the calling process: what the paper profile's rehearsal does, whose handful of images is not worth starting
    processes for), else ``default``."""
    env = os.environ.get("PAPERLIB_LOADER_WORKERS")
    if env is None:
        return default
    if not env.isdigit():
        raise ValueError(f"$PAPERLIB_LOADER_WORKERS={env!r}: allowed is a whole number ≥ 0")
    return int(env)


def cache_dir() -> Path:
    """Root of paperlib's disk cache (generated data, run results). Safe to delete.

    ``$PAPERLIB_CACHE`` if set, else ``<repo>/.cache`` in a checkout, else ``~/.cache/paperlib``.
    """
    env = os.environ.get("PAPERLIB_CACHE")
    if env:
        return Path(env).expanduser()
    if REPO_ROOT is not None:
        return REPO_ROOT / ".cache"
    return Path.home() / ".cache" / "paperlib"


def data_root() -> Path:
    """Default folder of the papers' datasets (``paper`` profile).

    ``$PAPERLIB_DATA`` if set, else ``<repo>/data`` in a checkout, else ``~/data/paperlib``.
    """
    env = os.environ.get("PAPERLIB_DATA")
    if env:
        return Path(env).expanduser()
    if REPO_ROOT is not None:
        return REPO_ROOT / "data"
    return Path.home() / "data" / "paperlib"


def git_commit() -> str | None:
    """The repository's short commit (``+`` when tracked files have changes), or None outside git:
    what a recorded measurement (``book/regime/``) says it was made with."""
    try:
        if REPO_ROOT is None:
            return None
        run = lambda *a: subprocess.run(["git", *a], capture_output=True, text=True, check=True,  # noqa: E731
                                        cwd=REPO_ROOT).stdout
        return run("rev-parse", "--short", "HEAD").strip() + ("+" if run("status", "--porcelain", "-uno").strip()
                                                              else "")
    except (OSError, subprocess.CalledProcessError):
        return None

