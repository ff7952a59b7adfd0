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

from . import __version__
from .atomic import atomic_path
from .config import cache_dir
from .data.cache import content_key

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


def cached_run(kind: str, config: Mapping | Any, compute: Callable[[], Any], *, root: Path | None = None,
               force: bool = False) -> Any:
    """Return the result of run ``(kind, config)``, computing and storing it if it is not cached.

    ``compute`` takes no arguments and returns JSON-serialisable data. ``force`` recomputes.
    A stored file that cannot be parsed is recomputed (and overwritten).
    """
    path = run_path(kind, config, root)
    if path.exists() and not force:
        try:
            return json.loads(path.read_text())["result"]
        except (json.JSONDecodeError, KeyError):
            pass
    start = time.perf_counter()
    result = compute()
    record = {"kind": kind, "config": _plain(config), "code_version": CODE_VERSION,
              "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "seconds": time.perf_counter() - start,
              "result": result}
    atomic_write_json(record, path)
    return json.loads(json.dumps(result))  # the same plain types a cache hit returns
