"""The run cache: a result is identified by its full config and the code version.

A run's identity is a hash of ``(kind, config, code version)``. :func:`cached_run` returns the
stored result of a finished run, or computes it, stores it atomically (temporary file + rename) and
returns it, so re-rendering a chapter never retrains. Results are JSON; model weights, where a
chapter keeps them, are safetensors beside a JSON config (never pickles).

Cache layout: ``<cache>/runs/<kind>/<key>.json`` with ``{"kind", "config", "code_version",
"created", "seconds", "result"}``. Deleting it is safe: runs are recomputed.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from . import __version__
from .atomic import atomic_path
from .config import cache_dir
from .data.cache import atomic_save, content_key, load_verified, tensors_checksum

#: Bump with any change that alters results for the same config (it is part of every run's key).
CODE_VERSION = __version__


def _plain(obj: Any) -> Any:
    """Config values as JSON-serialisable plain data (dataclasses become dicts, tuples lists)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _plain(dataclasses.asdict(obj))
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    raise TypeError(f"run configs hold plain values only; got {type(obj).__name__}: {obj!r}")


def run_key(kind: str, config: Mapping | Any, code_version: str = CODE_VERSION) -> str:
    """The run's identity: a hash of its kind, full config and the code version."""
    return content_key({"kind": kind, "config": _plain(config), "code_version": code_version})


def run_path(kind: str, config: Mapping | Any, root: Path | None = None) -> Path:
    """Where the result of this run lives (whether or not it exists yet)."""
    return (root or cache_dir() / "runs") / kind / f"{run_key(kind, config)}.json"


def atomic_write_json(obj: Any, path: Path) -> None:
    """Write ``obj`` as JSON to ``path`` through a temporary file and an atomic rename."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1, sort_keys=True))


def cached_result(kind: str, config: Mapping | Any, root: Path | None = None) -> tuple[Any] | None:
    """``(result,)`` of a finished run, or ``None`` when it is not stored (or cannot be parsed)."""
    path = run_path(kind, config, root)
    if not path.exists():
        return None
    try:
        return (json.loads(path.read_text())["result"],)
    except (json.JSONDecodeError, KeyError):
        return None


def cached_run(kind: str, config: Mapping | Any, compute: Callable[[], Any], *, root: Path | None = None,
               force: bool = False) -> Any:
    """Return the result of run ``(kind, config)``, computing and storing it if it is not cached.

    ``compute`` takes no arguments and returns JSON-serialisable data. ``force`` recomputes.
    A stored file that cannot be parsed is recomputed (and overwritten).
    """
    path = run_path(kind, config, root)
    if not force:
        stored = cached_result(kind, config, root)
        if stored is not None:
            return stored[0]
    start = time.perf_counter()
    result = compute()
    record = {"kind": kind, "config": _plain(config), "code_version": CODE_VERSION,
              "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "seconds": time.perf_counter() - start,
              "result": result}
    atomic_write_json(record, path)
    return json.loads(json.dumps(result))  # the same plain types a cache hit returns


# --- Resumable training state ---------------------------------------------------------------------

def checkpoint_paths(kind: str, config: Mapping | Any, root: Path | None = None) -> tuple[Path, Path]:
    """``(tensors, state)`` paths of the run's checkpoint: ``<key>.ckpt.safetensors`` + ``<key>.ckpt.json``."""
    base = run_path(kind, config, root).with_suffix("")
    return base.with_name(base.name + ".ckpt.safetensors"), base.with_name(base.name + ".ckpt.json")


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """An optimizer's state as flat tensors (``optim.<param index>.<name>``) plus its JSON-able rest."""
    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for idx, st in sd["state"].items():
        for name, value in st.items():
            if torch.is_tensor(value):
                tensors[f"optim.{idx}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{idx}.{name}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def load_optimizer_tensors(optimizer: torch.optim.Optimizer, tensors: Mapping[str, torch.Tensor], state: dict) -> None:
    """Inverse of :func:`optimizer_tensors`."""
    per_param: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, idx, name = key.split(".", 2)
            per_param.setdefault(int(idx), {})[name] = value
    for key, value in state["scalars"].items():
        idx, name = key.split(".", 1)
        per_param.setdefault(int(idx), {})[name] = value
    optimizer.load_state_dict({"state": per_param, "param_groups": state["param_groups"]})


class Checkpoint:
    """The resumable state of one run (DEVELOPERS.md: safetensors + JSON, written atomically).

    ``save(tensors, state)`` writes the tensors (model/optimizer/RNG) as safetensors, then the JSON
    state (step, scheduler, anything plain) naming the tensors file's checksum, both through a
    temporary file and a rename. ``load()`` returns ``(tensors, state)`` only when both exist and
    the checksum matches, so an interrupted write is never resumed from. ``clear()`` removes both
    once the run has finished and stored its result.
    """

    def __init__(self, kind: str, config: Mapping | Any, root: Path | None = None):
        self.tensors_path, self.state_path = checkpoint_paths(kind, config, root)

    def save(self, tensors: Mapping[str, torch.Tensor], state: Mapping) -> None:
        tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
        checksum = tensors_checksum(tensors)
        atomic_save(tensors, self.tensors_path, {"sha256": checksum})
        atomic_write_json({"sha256": checksum, "code_version": CODE_VERSION, "state": _plain(dict(state))},
                          self.state_path)

    def load(self) -> tuple[dict[str, torch.Tensor], dict] | None:
        if not (self.tensors_path.exists() and self.state_path.exists()):
            return None
        try:
            record = json.loads(self.state_path.read_text())
        except json.JSONDecodeError:
            return None
        loaded = load_verified(self.tensors_path)
        if loaded is None or loaded[1].get("sha256") != record.get("sha256"):
            return None
        return loaded[0], record["state"]

    def clear(self) -> None:
        for p in (self.tensors_path, self.state_path):
            p.unlink(missing_ok=True)


def save_tensors(tensors: Mapping[str, torch.Tensor], path: Path, metadata: Mapping[str, str] | None = None) -> str:
    """Store result tensors (e.g. a task vector) as checksummed safetensors; returns the checksum."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    checksum = tensors_checksum(tensors)
    atomic_save(tensors, path, {**dict(metadata or {}), "sha256": checksum})
    return checksum


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Load tensors stored by :func:`save_tensors`, checking their checksum."""
    loaded = load_verified(Path(path))
    if loaded is None:
        raise FileNotFoundError(f"stored tensors {path} are missing or corrupt; delete the run's JSON result to "
                                "recompute it")
    return loaded[0]
