"""Content-addressed, checksummed on-disk cache of generated tensors.

A cache entry is one safetensors file whose name holds a hash of everything that determines its
content (generator name and version, split, sizes, seed). Its metadata holds a SHA-256 checksum of
the tensor bytes; a file that fails to load or whose checksum does not match is reported and
regenerated. Files are written to a temporary name and renamed, so a crash never leaves a
half-written entry. Deleting the cache folder is always safe: entries are regenerated identically.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from pathlib import Path
from typing import Callable, Mapping

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..atomic import atomic_path

CHECKSUM_KEY = "sha256"
BUILD_SECONDS_KEY = "build_seconds"


def content_key(spec: Mapping) -> str:
    """A short hash of a JSON-serialisable spec (sorted keys), used in cache file names."""
    blob = json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def tensors_checksum(tensors: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``tensors`` (in name order)."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def atomic_save(tensors: Mapping[str, torch.Tensor], path: Path, metadata: Mapping[str, str] | None = None) -> None:
    """Write ``tensors`` as safetensors to ``path`` via a temporary file and an atomic rename."""
    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in tensors.items()}, tmp, metadata=dict(metadata or {}))


def load_verified(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]] | None:
    """Load a cache entry as ``(tensors, metadata)``; ``None`` if it is missing, unreadable or fails
    its checksum."""
    if not path.exists():
        return None
    try:
        tensors = load_file(path)
        with safe_open(path, framework="pt") as f:
            metadata = dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        warnings.warn(f"cache file {path} is unreadable ({err}); regenerating it", stacklevel=3)
        return None
    if metadata.get(CHECKSUM_KEY) != tensors_checksum(tensors):
        warnings.warn(f"cache file {path} failed its checksum; regenerating it", stacklevel=3)
        return None
    return tensors, metadata


def cached_tensors(path: Path, build: Callable[[], Mapping[str, torch.Tensor]],
                   metadata: Mapping[str, str] | None = None) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Return the verified ``(tensors, metadata)`` at ``path``, building and saving them first if needed.

    The stored metadata is ``metadata`` plus the checksum and ``build_seconds``, the wall-clock time
    ``build`` took when the entry was made (so a warm cache still knows what generation costs).
    """
    loaded = load_verified(path)
    if loaded is not None:
        return loaded
    start = time.perf_counter()
    tensors = {k: v.contiguous() for k, v in build().items()}
    meta = dict(metadata or {})
    meta[BUILD_SECONDS_KEY] = f"{time.perf_counter() - start:.6f}"
    meta[CHECKSUM_KEY] = tensors_checksum(tensors)
    atomic_save(tensors, path, meta)
    return tensors, meta
