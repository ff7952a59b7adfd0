"""Everything paperlib keeps on disk: atomic writes, checksummed tensors and records, the run cache
and resumable checkpoints (DEVELOPERS.md: "Nothing half-written", "Checkpoints are safetensors +
JSON, never pickles", "A corrupt cache entry is detected and recomputed, never a crash, never wrong
data").

Three kinds of file, each verified on every read:

* **Tensors** (generated datasets, task vectors, weights, probe features): safetensors whose
  metadata holds a SHA-256 of names, dtypes, shapes and bytes (:func:`tensors_checksum`) and,
  for cache entries, the spec that made them. :func:`load_verified` returns ``None`` (with a warning
  naming the file and what is wrong) for a missing, unreadable, tampered or foreign file.
* **Records** (run results, checkpoint state): JSON holding a SHA-256 of its own canonical text
  (:func:`write_record` / :func:`read_record`), so a flipped digit, a bad byte or valid JSON of the
  wrong shape is caught, and the stored identity (kind, config, code version) is compared with the
  requested one before a result is used.
* **Checkpoints**: tensors + a record that names the tensors' checksum (:class:`Checkpoint`).

Writes go to a temporary file beside the target and are renamed over it (:func:`atomic_path`); a
process killed mid-write leaves only a ``.<name>.*.tmp`` orphan, which the next read or write of the
same target removes (:func:`remove_orphans`).

The run cache: a run's identity is a hash of ``(kind, config, code version)`` (:func:`run_key`);
its record lives at ``<cache>/runs/<kind>/<key>.json`` and its tensors (``artifacts``) beside it as
``<key>.<name>.safetensors``. :func:`cached_run` returns the stored result when the record and every
artifact verify, and otherwise computes, stores and returns it. Deleting the cache is always safe.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import os
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from . import __version__
from .config import cache_dir

#: Bump with any change that alters results for the same config (it is part of every run's key).
CODE_VERSION = __version__
CHECKSUM_KEY = "sha256"
BUILD_SECONDS_KEY = "build_seconds"
#: Metadata keys the store adds to a tensors file; the rest is the caller's spec.
_STORE_KEYS = (CHECKSUM_KEY, BUILD_SECONDS_KEY)


# --- Atomic writes ---------------------------------------------------------------------------------

def _orphans(path: Path) -> list[Path]:
    return list(path.parent.glob(f".{path.name}.*.tmp")) if path.parent.exists() else []


def remove_orphans(path: Path) -> int:
    """Remove temporary files that a killed writer of ``path`` left behind; returns how many."""
    found = _orphans(Path(path))
    for p in found:
        p.unlink(missing_ok=True)
    return len(found)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds, rename it over ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was. Orphans of earlier
    killed writes of the same ``path`` are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; these are ordinary files
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_json(obj: Any, path: Path) -> None:
    """Write ``obj`` as plain, readable JSON (no checksum: for files people read, such as benchmark
    results and the shipped model's config; use :func:`write_record` for anything read back as a cache)."""
    atomic_write_text(json.dumps(obj, indent=1, sort_keys=True), path)


# --- Keys and checksums ----------------------------------------------------------------------------

def plain(obj: Any) -> Any:
    """Config values as JSON-serialisable plain data (dataclasses become dicts, tuples lists)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return plain(dataclasses.asdict(obj))
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    raise TypeError(f"run configs hold plain values only; got {type(obj).__name__}: {obj!r}")


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


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


# --- Tensors ---------------------------------------------------------------------------------------

def save_tensors(tensors: Mapping[str, torch.Tensor], path: Path, metadata: Mapping[str, str] | None = None,
                 build_seconds: float | None = None) -> str:
    """Store tensors as checksummed safetensors, atomically; returns the checksum.

    ``metadata`` (strings) is stored with them and compared on load when the reader passes
    ``expect``; ``build_seconds`` records how long making them took.
    """
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    checksum = tensors_checksum(tensors)
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    if build_seconds is not None:
        meta[BUILD_SECONDS_KEY] = f"{build_seconds:.6f}"
    meta[CHECKSUM_KEY] = checksum
    with atomic_path(path) as tmp:
        save_file(tensors, tmp, metadata=meta)
    return checksum


def _warn(path: Path, problem: str, action: str) -> None:
    warnings.warn(f"{path}: {problem}; {action}", stacklevel=3)


def load_verified(path: Path, expect: Mapping[str, str] | None = None, *,
                  action: str = "regenerating it") -> tuple[dict[str, torch.Tensor], dict[str, str]] | None:
    """``(tensors, metadata)`` of a tensors file, or ``None`` when it is missing, unreadable, fails its
    checksum, or (with ``expect``) was made for another spec. Every ``None`` but "missing" warns,
    naming the file, the problem and ``action``."""
    path = Path(path)
    remove_orphans(path)
    if not path.exists():
        return None
    try:
        tensors = load_file(path)
        with safe_open(path, framework="pt") as f:
            metadata = dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        _warn(path, f"unreadable ({err})", action)
        return None
    if metadata.get(CHECKSUM_KEY) != tensors_checksum(tensors):
        _warn(path, "failed its checksum", action)
        return None
    if expect is not None:
        stored = {k: v for k, v in metadata.items() if k not in _STORE_KEYS}
        wanted = {str(k): str(v) for k, v in expect.items()}
        if stored != wanted:
            diff = sorted(k for k in set(stored) | set(wanted) if stored.get(k) != wanted.get(k))
            _warn(path, f"was made for another spec (differs in {diff})", action)
            return None
    return tensors, metadata


def load_tensors(path: Path, expect: Mapping[str, str] | None = None) -> dict[str, torch.Tensor]:
    """Tensors stored by :func:`save_tensors`, verified; ``FileNotFoundError`` naming the file otherwise.

    For results whose caller cannot recompute them here; the run cache verifies a run's artifacts
    before it returns a cached result (:func:`cached_run`), so this is for files outside it.
    """
    loaded = load_verified(Path(path), expect, action="cannot use it")
    if loaded is None:
        raise FileNotFoundError(f"stored tensors {path} are missing or corrupt; delete the file and its run's JSON "
                                "result to recompute it")
    return loaded[0]


def cached_tensors(path: Path, build: Callable[[], Mapping[str, torch.Tensor]],
                   metadata: Mapping[str, str] | None = None) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The verified ``(tensors, metadata)`` at ``path``, built and saved first when the entry is missing,
    corrupt, or was made for another spec than ``metadata``.

    The stored metadata is ``metadata`` plus the checksum and ``build_seconds``, the wall-clock time
    ``build`` took when the entry was made (so a warm cache still knows what generation costs).
    """
    loaded = load_verified(path, metadata or {})
    if loaded is not None:
        return loaded
    start = time.perf_counter()
    tensors = {k: v.contiguous() for k, v in build().items()}
    seconds = time.perf_counter() - start
    checksum = save_tensors(tensors, path, metadata, build_seconds=seconds)
    meta = {**{str(k): str(v) for k, v in (metadata or {}).items()}, BUILD_SECONDS_KEY: f"{seconds:.6f}",
            CHECKSUM_KEY: checksum}
    return tensors, meta


# --- Records ---------------------------------------------------------------------------------------

def write_record(record: Mapping[str, Any], path: Path) -> dict:
    """Write a JSON record with the SHA-256 of its canonical text, atomically; returns the record as
    it reads back (plain JSON types)."""
    body = json.loads(_canonical(dict(record)))
    if CHECKSUM_KEY in body:
        raise ValueError(f"a record may not hold its own {CHECKSUM_KEY!r} key")
    checksum = hashlib.sha256(_canonical(body).encode()).hexdigest()
    atomic_write_text(json.dumps({**body, CHECKSUM_KEY: checksum}, indent=1, sort_keys=True), path)
    return body


def read_record(path: Path, expect: Mapping[str, Any] | None = None, *, required: Sequence[str] = (),
                action: str = "recomputing it") -> dict | None:
    """A record written by :func:`write_record`, verified; ``None`` (with a warning naming the file and
    the problem) when it is unreadable, not JSON, of the wrong shape, fails its checksum, or differs
    from ``expect`` in any of ``expect``'s keys. A missing file is ``None`` without a warning."""
    path = Path(path)
    remove_orphans(path)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, OSError) as err:
        _warn(path, f"is not readable JSON ({type(err).__name__}: {err})", action)
        return None
    if not isinstance(data, dict) or not isinstance(data.get(CHECKSUM_KEY), str):
        _warn(path, "is not a checksummed record", action)
        return None
    checksum = data.pop(CHECKSUM_KEY)
    if hashlib.sha256(_canonical(data).encode()).hexdigest() != checksum:
        _warn(path, "failed its checksum (the file was changed or damaged)", action)
        return None
    missing = [k for k in required if k not in data]
    if missing:
        _warn(path, f"lacks {missing}", action)
        return None
    for key, want in (expect or {}).items():
        if data.get(key) != json.loads(_canonical(want)):
            _warn(path, f"belongs to another {key} than the one asked for", action)
            return None
    return data


# --- The run cache ---------------------------------------------------------------------------------

def run_key(kind: str, config: Mapping | Any, code_version: str = CODE_VERSION) -> str:
    """The run's identity: a hash of its kind, full config and the code version."""
    return content_key({"kind": kind, "config": plain(config), "code_version": code_version})


def run_path(kind: str, config: Mapping | Any, root: Path | None = None) -> Path:
    """Where the result record of this run lives (whether or not it exists yet)."""
    return (Path(root) if root else cache_dir() / "runs") / kind / f"{run_key(kind, config)}.json"


def artifact_path(kind: str, config: Mapping | Any, name: str, root: Path | None = None) -> Path:
    """Where the run's tensors called ``name`` live: ``<key>.<name>.safetensors`` beside its record."""
    return run_path(kind, config, root).with_suffix(f".{name}.safetensors")


def _identity(kind: str, config: Mapping | Any) -> dict:
    return {"kind": kind, "config": plain(config), "code_version": CODE_VERSION}


def cached_result(kind: str, config: Mapping | Any, root: Path | None = None,
                  artifacts: Sequence[str] = ()) -> tuple[Any] | None:
    """``(result,)`` of a finished run whose record and ``artifacts`` verify, else ``None``."""
    record = read_record(run_path(kind, config, root), _identity(kind, config), required=("result",))
    if record is None:
        return None
    for name in artifacts:
        if load_verified(artifact_path(kind, config, name, root), action="recomputing its run") is None:
            if not artifact_path(kind, config, name, root).exists():
                warnings.warn(f"{artifact_path(kind, config, name, root)} is missing; recomputing its run",
                              stacklevel=2)
            return None
    return (record["result"],)


def cached_run(kind: str, config: Mapping | Any, compute: Callable[[], Any], *, root: Path | None = None,
               force: bool = False, artifacts: Sequence[str] = ()) -> Any:
    """Return the result of run ``(kind, config)``, computing and storing it if it is not cached.

    ``compute`` takes no arguments, returns JSON-serialisable data and writes the run's
    ``artifacts`` (:func:`artifact_path`) itself. A record or artifact that does not verify is
    recomputed (with a warning naming the file). ``force`` recomputes.
    """
    if not force:
        stored = cached_result(kind, config, root, artifacts)
        if stored is not None:
            return stored[0]
    start = time.perf_counter()
    result = compute()
    record = {**_identity(kind, config), "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "seconds": time.perf_counter() - start, "result": result}
    return write_record(record, run_path(kind, config, root))["result"]


def store_run(kind: str, config: Mapping | Any, result: Any,
              artifacts: Mapping[str, Mapping[str, torch.Tensor]] | None = None, *, seconds: float | None = None,
              root: Path | None = None) -> Any:
    """Store a run computed elsewhere (a worker process or a Dask worker on another machine, which returned
    its ``result`` and ``artifacts`` to this process): each artifact's tensors first, then the record, so a
    record on disk always has its artifacts. Returns ``result`` as :func:`cached_run` would."""
    for name, tensors in (artifacts or {}).items():
        save_tensors(tensors, artifact_path(kind, config, name, root), {"kind": kind})
    record = {**_identity(kind, config), "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "seconds": seconds, "result": result}
    return write_record(record, run_path(kind, config, root))["result"]


def adopt_unchecksummed_records(root: Path | None = None) -> dict[str, int]:
    """Give the run records written before records carried a checksum (paperlib before the store)
    their checksum, so their runs are not all recomputed. An explicit, one-time step
    (``python -m paperlib.store adopt``), never done on read: a record is adopted only when it is a
    JSON object with ``kind``, ``config``, ``code_version`` and ``result`` whose file name is the run
    key of exactly that identity; anything else is left alone (and recomputed when next asked for).
    Returns counts of adopted, already checksummed and skipped records."""
    root = Path(root) if root else cache_dir() / "runs"
    counts = {"adopted": 0, "checksummed": 0, "skipped": 0}
    for path in sorted(root.glob("*/*.json")):
        if path.name.endswith(".ckpt.json"):
            continue
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            counts["skipped"] += 1
            continue
        if isinstance(data, dict) and CHECKSUM_KEY in data:
            counts["checksummed"] += 1
            continue
        ok = isinstance(data, dict) and {"kind", "config", "code_version", "result"} <= set(data) and \
            path.parent.name == data["kind"] and \
            path.stem == run_key(data["kind"], data["config"], data["code_version"])
        if ok:
            write_record(data, path)
        counts["adopted" if ok else "skipped"] += 1
    return counts


# --- Resumable training state ----------------------------------------------------------------------

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


def scheduler_state(scheduler: torch.optim.lr_scheduler.LRScheduler) -> dict:
    """A learning-rate scheduler's state in a form that survives JSON.

    JSON turns integer dict keys into strings: MultiStepLR's ``milestones`` (a ``Counter`` of epoch →
    count) would come back as ``{"140": 1}``, and ``epoch in milestones`` would then never be true, so
    a resumed run would never decay again. Dicts are stored as lists of ``[key, value]`` pairs.
    """
    out = {}
    for key, value in scheduler.state_dict().items():
        if isinstance(value, Mapping):
            out[key] = {"__pairs__": [[k, v] for k, v in value.items()]}
        else:
            out[key] = value
    return plain(out)


def load_scheduler_state(scheduler: torch.optim.lr_scheduler.LRScheduler, state: Mapping) -> None:
    """Inverse of :func:`scheduler_state` (``Counter`` fields come back as ``Counter``s with their keys'
    own types)."""
    fresh = scheduler.state_dict()
    restored = {}
    for key, value in state.items():
        if isinstance(value, Mapping) and "__pairs__" in value:
            pairs = {k if not isinstance(k, list) else tuple(k): v for k, v in value["__pairs__"]}
            restored[key] = collections.Counter(pairs) if isinstance(fresh.get(key), collections.Counter) else pairs
        else:
            restored[key] = value
    scheduler.load_state_dict(restored)


class Checkpoint:
    """The resumable state of one run: tensors (model/optimizer/RNG) as safetensors, and a record
    (step, history, anything plain) that names the run and the tensors' checksum, both written
    atomically. ``load()`` returns ``(tensors, state)`` only when both verify and belong to this run,
    so an interrupted write, a damaged file or another run's checkpoint is never resumed from (each
    is reported and training starts over). ``clear()`` removes both, and any orphaned temporary files,
    once the run has stored its result.
    """

    def __init__(self, kind: str, config: Mapping | Any, root: Path | None = None):
        self.identity = _identity(kind, config)
        base = run_path(kind, config, root).with_suffix("")
        self.tensors_path = base.with_name(base.name + ".ckpt.safetensors")
        self.state_path = base.with_name(base.name + ".ckpt.json")

    def save(self, tensors: Mapping[str, torch.Tensor], state: Mapping) -> None:
        checksum = save_tensors(tensors, self.tensors_path)
        write_record({**self.identity, "tensors_sha256": checksum, "state": plain(dict(state))}, self.state_path)

    def load(self) -> tuple[dict[str, torch.Tensor], dict] | None:
        action = "starting the run over"
        record = read_record(self.state_path, self.identity, required=("tensors_sha256", "state"), action=action)
        loaded = load_verified(self.tensors_path, action=action)
        if record is None or loaded is None:
            return None
        if loaded[1].get(CHECKSUM_KEY) != record["tensors_sha256"]:
            _warn(self.tensors_path, f"does not match {self.state_path.name} (a write was interrupted)", action)
            return None
        return loaded[0], record["state"]

    def clear(self) -> None:
        for p in (self.tensors_path, self.state_path):
            p.unlink(missing_ok=True)
            remove_orphans(p)


__all__ = ["BUILD_SECONDS_KEY", "CHECKSUM_KEY", "CODE_VERSION", "Checkpoint", "adopt_unchecksummed_records",
           "artifact_path", "atomic_path", "atomic_write_json", "atomic_write_text", "cached_result", "cached_run",
           "cached_tensors", "content_key", "load_optimizer_tensors", "load_scheduler_state", "load_tensors",
           "load_verified", "optimizer_tensors", "plain", "read_record", "remove_orphans", "run_key", "run_path",
           "save_tensors", "scheduler_state", "store_run", "tensors_checksum", "write_record"]


def main(argv=None) -> None:
    import argparse
    parser = argparse.ArgumentParser(description="paperlib's disk store")
    sub = parser.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("adopt", help="checksum run records written before records carried one (once, explicitly)")
    a.add_argument("--root", type=Path, default=None, help="the run cache (default: <cache>/runs)")
    args = parser.parse_args(argv)
    print(json.dumps(adopt_unchecksummed_records(args.root)))


if __name__ == "__main__":
    main()
