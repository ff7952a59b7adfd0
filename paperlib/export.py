"""Taking results away: a cached run's tensors, or a task vector, as a self-describing folder, and back.

The run cache (:mod:`paperlib.store`) is keyed by hashes and tied to this code version; an *export* is a folder
anyone can read without paperlib's cache (``book/export.md`` documents it field by field)::

    out/
      config.json        what it is: format and version, paperlib's version and commit, the run's kind, full
                         config and result, the architecture (model, weights, parameter names, shapes, dtypes
                         and their hash), and each file's role and SHA-256
      tau.safetensors    the tensors, one file per artifact the run stored (here a fine-tuning run's task vector)

* :func:`export_run` writes the tensors a cached run stored (the task vector τ = θ* − θ0 of a fine-tuning run,
  ch5 Sec. 2, which for the NTK-linearized paradigm is θ − θ0 of f_lin, ch5 Eq. (2); a sequence's edit, ch1;
  chapter 2's trained tensors; chapter 3's and 4's state dicts) with the run's identity.
* :func:`export_task_vector` writes any :class:`~paperlib.task_vectors.TaskVector` (a sum of several, say).
* :func:`load_export` verifies a folder (format version, ``config.json``'s own checksum, exactly the files it
  lists, the SHA-256 of each file's bytes, the tensors it describes) and, given a model or state dict, that the
  architecture fits; :func:`load_into` then puts the tensors into a model.

Nothing half-written: a folder is built beside ``out`` under a temporary name and renamed onto it at the end; an
existing non-empty ``out`` is replaced only with ``overwrite=True``. ``python -m paperlib.export {list,run,verify}``
lists the exportable cached runs, exports one by its short key, and verifies a folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save_file
from torch import Tensor, nn

from .config import cache_dir, git_commit
from .linearize import LinearizedModel
from .store import CHECKSUM_KEY, CODE_VERSION, plain, read_record, run_key, tensors_checksum
from .task_vectors import TaskVector

FORMAT = "paperlib-export"
#: Bump when the folder's layout or ``config.json``'s fields change meaning; :func:`load_export` reads only this one.
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
#: ``config.json``'s own checksum: SHA-256 of the rest of it as canonical JSON (:func:`_canonical`).
SELF_CHECKSUM = "config_sha256"
#: What a file is: a task vector (added to θ0), weights loaded by name (some or all of a model's state), features
#: (not parameters), or tensors of a kind this module does not know.
ROLES = ("task_vector", "weights", "features", "tensors")
#: Digits of the run key that ``list`` prints and ``run`` accepts (any unique prefix works).
SHORT_KEY = 8
#: How many names an architecture mismatch lists of each sort.
_FIRST = 5


class ExportError(ValueError):
    """An export folder that does not verify, or that does not fit the model it is checked against."""


# --- What each run kind stores --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Kind:
    what: str                               # the run, with its paper reference
    compute: str                            # how to compute a run that is not cached
    rebuild: str                            # the module its tensors load into
    files: Mapping[str, tuple[str, str]]    # artifact → (role, description)


_CLIP_REBUILD = ("paperlib.clip_tasks.build_encoder(paperlib.models.clip.load_clip(profile, model, pretrained), "
                 "paradigm, variant)[0]: the CLIP image encoder f(x; θ0) (paperlib.models.clip.ImageEncoder), wrapped "
                 "in paperlib.linearize.LinearizedModel for paradigm 'linearized' (ch5 Eq. (2))")
_KINDS: dict[str, _Kind] = {
    "finetune": _Kind(
        "fine-tuning of a CLIP image encoder on one task, non-linear, NTK-linearized or linear layers only "
        "(ch5 Sec. 3, Fig. 2; chapter 1's single-task runs)",
        "paperlib.finetune.finetune(FinetuneConfig(...)), or chapter 5's or chapter 1's notebook", _CLIP_REBUILD,
        {"tau": ("task_vector", "the task vector τ = θ* − θ0 over the parameters the paradigm trains (ch5 Sec. 2), "
                 "under the image encoder's parameter names; for paradigm 'linearized' θ is the parameter of "
                 "f_lin(x; θ) = f(x; θ0) + J(θ0)(θ − θ0) (ch5 Eq. (2)). θ* = θ0 + τ.")}),
    "ch1_sequence": _Kind(
        "sequential fine-tuning of a CLIP image encoder on several tasks (ch1 Secs. 3.3, 5.2)",
        "chapter 1's notebook (paperlib.sequential)", _CLIP_REBUILD,
        {"edit": ("task_vector", "the sequence's edit θ_final − θ0 of the image encoder (ch1 Sec. 3.3), under its "
                  "parameter names; for a tangent (linearized) method θ is the parameter of f_lin (ch1 Sec. 3.1)")}),
    "ch2_conv": _Kind(
        "a convolutional FTN or baseline run on one domain (ch2 Sec. 4.1.1)",
        "chapter 2's notebook (paperlib.ftn_train.compute_conv)",
        "paperlib.ftn_train.build_model(ConvRun(**config), trunk, n_classes)[0] on the pretrained trunk named by "
        "'weights'",
        {"task": ("weights", "what the run adds for its domain, under the model's state-dict names: the whole "
                  "network (ft), or the task's CP factors, BatchNorm and head (ch2 Eqs. (2)-(4))")}),
    "ch2_vit": _Kind(
        "a CLIP ViT run on one dataset: linear probe, fine-tuning, LoRA or FTN adapters (ch2 Sec. 4.1.2)",
        "chapter 2's notebook (paperlib.ftn_train.compute_vit)",
        "paperlib.ftn_train.vit_model(ViTRun(**config), load_clip(profile).image_encoder(), zero-shot head)[0]",
        {"trained": ("weights", "the trained tensors under the classifier's names: adapters and head, or the whole "
                     "image tower and head (ft)")}),
    "ch3_source": _Kind(
        "pre-training of the two-head network on the source dataset (ch3 Sec. 2)",
        "chapter 3's notebook (paperlib.smooth.compute)", "paperlib.smooth.TwoHeadNet for the config's protocol",
        {"model": ("weights", "the network's whole state dict: g_θ and both heads h^T, h^S (ch3 Sec. 2)")}),
    "ch4_single": _Kind(
        "a single-domain ResNet trained from scratch (ch4 Secs. 3.1-3.5)",
        "chapter 4's notebook (paperlib.mdl.run)", "paperlib.models.resnet_cifar.MultiDomainNet for the config",
        {"model": ("weights", "the network's whole state dict"),
         "probe": ("features", "the trunk's features on the fixed probe images, for CKA (ch4 Sec. 3.4)")}),
    "ch4_joint": _Kind(
        "a multi-domain ResNet trained from scratch on several domains with a loss weighting (ch4 Secs. 3.1-3.5)",
        "chapter 4's notebook (paperlib.mdl.run)", "paperlib.models.resnet_cifar.MultiDomainNet for the config",
        {"model": ("weights", "the network's whole state dict")}),
}


def _complete(kind: str, config: Mapping, artifact: str) -> bool:
    """Whether a weights artifact is a model's *whole* state (so a model with more names does not fit it)."""
    if kind == "ch2_conv":
        return config.get("method") == "ft"
    return (kind, artifact) in {("ch3_source", "model"), ("ch4_single", "model"), ("ch4_joint", "model")}


def _task_of(config: Mapping) -> str | None:
    for key in ("task", "dataset", "domain", "pair"):
        if isinstance(config.get(key), str):
            return config[key]
    for key, sep in (("order", ">"), ("domains", "+"), ("tasks", "+")):
        if isinstance(config.get(key), list):
            return sep.join(map(str, config[key]))
    return None


def _summary(kind: str, config: Mapping) -> dict:
    """The fields a reader looks for first (also ``list``'s columns), from a run's config."""
    paradigm = config.get("paradigm")
    if paradigm is None and kind == "ch1_sequence" and isinstance(config.get("method"), str):
        from .sequential import parse_method  # heavy import, only for chapter 1's sequences
        paradigm = parse_method(config["method"]).paradigm
    weights = config.get("weights")
    return {"kind": kind, "profile": config.get("profile"), "task": _task_of(config), "paradigm": paradigm,
            "variant": config.get("variant"), "method": config.get("method") or config.get("weighting"),
            "seed": config.get("seed"), "weights": weights, "model": _model_of(kind, config)}


def _model_of(kind: str, config: Mapping) -> str | None:
    """The model's name: the one in the weights' identity, else what chapters 3 and 4 build from their config."""
    weights, protocol = config.get("weights"), config.get("protocol")
    if isinstance(weights, str) and weights:
        return weights.split(":")[0]
    if kind.startswith("ch4_") and "depth" in config:
        return f"MultiDomainNet, ResNet-{config['depth']} at width {config.get('width')} (paperlib.mdl)"
    if kind.startswith("ch3_") and isinstance(protocol, Mapping) and "arch" in protocol:
        return f"TwoHeadNet, {protocol['arch']} at width {protocol.get('width')} (paperlib.smooth)"
    return config.get("model")


# --- Hashes and the config file -------------------------------------------------------------------------------------

def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parameter_list(tensors: Mapping[str, Tensor]) -> list[list]:
    """``[[name, shape, dtype], ...]`` in name order (dtype without ``torch.``): the architecture's description."""
    return [[n, list(tensors[n].shape), str(tensors[n].dtype).removeprefix("torch.")] for n in sorted(tensors)]


def parameters_sha256(params: list[list]) -> str:
    """SHA-256 of a :func:`parameter_list` as canonical JSON: one value to compare two architectures by."""
    return hashlib.sha256(_canonical(params)).hexdigest()


def _file_entry(path: Path, tensors: Mapping[str, Tensor], checksum: str, artifact: str, role: str,
                description: str, complete: bool) -> dict:
    """A file's entry in ``config.json``; ``checksum`` is the tensors' :func:`~paperlib.store.tensors_checksum`."""
    return {"artifact": artifact, "role": role, "complete": complete, "description": description,
            "bytes": path.stat().st_size, "sha256": file_sha256(path), "tensors_sha256": checksum,
            "tensors": parameter_list(tensors)}


def _write_config(folder: Path, source: dict, architecture: dict, files: dict[str, dict]) -> None:
    primary = _primary(files)
    params = files[primary]["tensors"]
    body = {"format": FORMAT, "format_version": FORMAT_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "paperlib": {"code_version": CODE_VERSION, "git_commit": git_commit()},
            "source": source,
            "architecture": {**architecture, "parameters_file": primary, "parameters": params,
                             "parameters_sha256": parameters_sha256(params)},
            "files": files}
    text = _pretty({**body, SELF_CHECKSUM: hashlib.sha256(_canonical(body)).hexdigest()})
    (folder / CONFIG_FILE).write_text(text + "\n", encoding="utf-8")


def _flat(obj: Any, depth: int = 2) -> bool:
    """Whether a list is written on one line: no dicts in it, lists nested at most ``depth`` deep."""
    if isinstance(obj, dict):
        return False
    if isinstance(obj, list):
        return depth > 0 and all(_flat(v, depth - 1) for v in obj)
    return True


def _pretty(obj: Any, pad: str = "") -> str:
    """JSON for people: one key per line, in the order given, and short lists (a parameter's name, shape and dtype)
    on one line."""
    inner = pad + " "
    if isinstance(obj, dict) and obj:
        items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {_pretty(v, inner)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(obj, list) and obj and not _flat(obj):
        return "[\n" + ",\n".join(inner + _pretty(v, inner) for v in obj) + f"\n{pad}]"
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def _primary(files: Mapping[str, Mapping]) -> str:
    """The file whose tensors are the export's parameters: the first task vector or weights file."""
    for name in sorted(files):
        if files[name]["role"] in ("task_vector", "weights"):
            return name
    return sorted(files)[0]


# --- Writing a folder atomically ------------------------------------------------------------------------------------

def _remove_orphan_folders(out: Path) -> None:
    for p in out.parent.glob(f".{out.name}.*.tmp"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def _write_folder(out: Path, overwrite: bool, fill: Callable[[Path], None]) -> Path:
    """Run ``fill(tmp)`` on a new folder beside ``out`` and rename it onto ``out``; ``out`` is left as it was when
    ``fill`` raises. Folders that killed exports of the same ``out`` left behind are removed first."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} is a file; an export is a folder: give the path of a new or empty folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"{out} exists and is not empty; pass overwrite=True (CLI: --overwrite) to replace it, "
                              "or give a new folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphan_folders(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        fill(tmp)
        os.chmod(tmp, 0o755)  # mkdtemp makes an owner-only folder; an export is for sharing
        if out.exists():  # empty, or replaced on request: move it aside (an orphan name) rather than delete first
            aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
            os.replace(out, aside)
            os.replace(tmp, out)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


# --- Exporting ------------------------------------------------------------------------------------------------------

def _runs_root(root: Path | None) -> Path:
    return Path(root) if root else cache_dir() / "runs"


def _artifact_files(record_path: Path) -> dict[str, Path]:
    """artifact name → file of the tensors stored beside a run's record (checkpoints excluded)."""
    key = record_path.stem
    found = {}
    for p in sorted(record_path.parent.glob(f"{key}.*.safetensors")):
        name = p.name[len(key) + 1:-len(".safetensors")]
        if name != "ckpt":
            found[name] = p
    return found


def _safetensors_metadata(data: bytes) -> dict[str, str]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]).get("__metadata__") or {}


def _verified_bytes(path: Path, remedy: str) -> tuple[bytes, dict[str, Tensor], str]:
    """A cached tensors file's bytes, tensors and checksum, read once and checked against the checksum the store
    wrote."""
    data = path.read_bytes()
    try:
        tensors = load_safetensors(data)
        stored = _safetensors_metadata(data).get(CHECKSUM_KEY)
    except Exception as err:  # safetensors raises its own error types for malformed bytes
        raise ExportError(f"{path} is not readable safetensors ({err}); {remedy}") from err
    if stored != tensors_checksum(tensors):
        raise ExportError(f"{path} failed its checksum (the file was changed or damaged); {remedy}")
    return data, tensors, stored


def _resolve(kind: str, config: Any, root: Path | None) -> tuple[str, Path]:
    """``(run key, runs root)`` of what :func:`export_run` was given."""
    if isinstance(config, Mapping):
        return run_key(kind, config), _runs_root(root)
    from .finetune import FinetuneConfig, FinetuneRun  # only for these two types (finetune imports the CLIP stack)
    if isinstance(config, FinetuneRun):
        if kind != "finetune":
            raise ValueError(f"a FinetuneRun is a run of kind 'finetune', not {kind!r}")
        path = Path(config.vector_path)
        return path.name.split(".")[0], path.parent.parent
    if isinstance(config, FinetuneConfig):
        raise TypeError("a FinetuneConfig does not name the weights its run was trained from; pass the FinetuneRun "
                        "that paperlib.finetune.finetune(config) returns, or the run's stored config (a dict)")
    spec_kind = getattr(config, "kind", kind)
    if spec_kind != kind:
        raise ValueError(f"the run spec is of kind {spec_kind!r}, not {kind!r}")
    getter = getattr(config, "config", None)
    return run_key(kind, getter() if callable(getter) else config), _runs_root(root)


def _not_cached(kind: str, key: str, path: Path) -> FileNotFoundError:
    how = _KINDS[kind].compute if kind in _KINDS else f"the chapter that makes runs of kind {kind!r}"
    return FileNotFoundError(f"run {kind} {key} is not in the cache ({path} is missing, damaged or of another code "
                             f"version than {CODE_VERSION}); compute it first with {how}, then export it. "
                             "`python -m paperlib.export list` shows the runs that can be exported.")


def export_run(kind: str, config: Any, out: Path | str, *, root: Path | None = None, overwrite: bool = False) -> Path:
    """Export a cached run's tensors and identity to the folder ``out`` (module docstring); returns ``out``.

    The run is the one the store identifies by ``kind`` and ``config``: the config as stored (a dict; for
    ``finetune`` it names the weights' :func:`~paperlib.models.clip.model_id`), a run spec with ``.config()`` and
    ``.kind`` (chapters 2-4), or the :class:`~paperlib.finetune.FinetuneRun` that ``finetune()`` returns. ``root``
    is the run cache (default ``<cache>/runs``). Raises ``FileNotFoundError`` saying how to compute a run that is
    not cached, :class:`ExportError` for cached tensors that fail their checksum, and ``FileExistsError`` for a
    non-empty ``out`` without ``overwrite``.
    """
    key, runs = _resolve(kind, config, root)
    return _export_key(kind, key, runs, Path(out), overwrite)


def _export_key(kind: str, key: str, runs: Path, out: Path, overwrite: bool) -> Path:
    path = runs / kind / f"{key}.json"
    record = read_record(path, required=("kind", "config", "code_version", "result"), action="cannot export it")
    if record is None or record["kind"] != kind or record["code_version"] != CODE_VERSION \
            or run_key(kind, record["config"]) != key:
        raise _not_cached(kind, key, path)
    artifacts = _artifact_files(path)
    expected = _KINDS[kind].files if kind in _KINDS else {}
    missing = [n for n in expected if n not in artifacts]
    if missing or not artifacts:
        what = f"its tensors {missing} are missing" if missing else "it stored no tensors (only its JSON result)"
        raise ExportError(f"run {kind} {key} cannot be exported: {what}" +
                          (f"; delete {path} and compute it again with {_KINDS[kind].compute}" if missing else ""))
    remedy = f"delete it and {path.name}, and compute the run again"
    config = record["config"]

    def fill(tmp: Path) -> None:
        files = {}
        for name, src in artifacts.items():
            data, tensors, checksum = _verified_bytes(src, remedy)
            dst = tmp / f"{name}.safetensors"
            dst.write_bytes(data)
            role, description = expected.get(name, ("tensors", f"the tensors the run stored as {name!r}"))
            files[dst.name] = _file_entry(dst, tensors, checksum, name, role, description,
                                          _complete(kind, config, name))
        info = _KINDS.get(kind)
        summary = _summary(kind, config)
        source = {"type": "run", "kind": kind, "key": key, "what": info.what if info else kind,
                  "summary": summary, "config": config, "result": record["result"],
                  "created": record.get("created"), "seconds": record.get("seconds")}
        architecture = {"model": summary["model"], "weights": summary["weights"],
                        "rebuild": info.rebuild if info else None}
        _write_config(tmp, source, architecture, files)

    return _write_folder(out, overwrite, fill)


def export_task_vector(vector: TaskVector, out: Path | str, *, meta: Mapping[str, Any],
                       overwrite: bool = False) -> Path:
    """Export a task vector (one run's, or a sum Σ_t τ_t for task addition, ch5 Sec. 3) to the folder ``out``.

    ``meta`` is plain data describing it and must name ``weights``: the :func:`~paperlib.models.clip.model_id` of
    the θ0 it is a difference from (a task vector means nothing without it). Recognised besides: ``model``
    (default: the name in ``weights``), ``paradigm`` (``'linearized'`` vectors, ch5 Fig. 2b, load only into a
    :class:`~paperlib.linearize.LinearizedModel`), ``tasks``, ``profile``, ``runs`` and anything else.
    """
    if not isinstance(vector, TaskVector):
        raise TypeError(f"export_task_vector takes a TaskVector; got {type(vector).__name__}")
    meta = plain(dict(meta))
    if not isinstance(meta.get("weights"), str) or not meta["weights"]:
        raise ValueError(f"meta must name 'weights', the model_id of the θ0 the vector is a difference from (e.g. "
                         f"paperlib.models.clip.model_id(name, pretrained)); got meta keys {sorted(meta)}")
    tensors = vector.to_tensors()
    checksum = tensors_checksum(tensors)

    def fill(tmp: Path) -> None:
        dst = tmp / "tau.safetensors"
        save_file(tensors, dst, metadata={CHECKSUM_KEY: checksum, "kind": "task_vector"})
        files = {dst.name: _file_entry(dst, tensors, checksum, "tau", "task_vector",
                                       "a task vector τ = θ* − θ0 (ch5 Sec. 2), or a sum of them (ch5 Eq. (1)), "
                                       "under the model's parameter names", False)}
        summary = {"kind": "task_vector", "profile": meta.get("profile"), "task": _task_of(meta),
                   "paradigm": meta.get("paradigm"), "variant": meta.get("variant"), "method": None,
                   "seed": meta.get("seed"), "weights": meta["weights"],
                   "model": meta.get("model") or meta["weights"].split(":")[0]}
        source = {"type": "task_vector", "what": "a task vector", "summary": summary, "meta": meta}
        from .models.clip import MODELS  # the CLIP models, whose vectors the fine-tuning runs' rebuild recipe fits
        architecture = {"model": summary["model"], "weights": meta["weights"],
                        "rebuild": meta.get("rebuild", _CLIP_REBUILD if summary["model"] in MODELS else None)}
        _write_config(tmp, source, architecture, files)

    return _write_folder(Path(out), overwrite, fill)


# --- Loading --------------------------------------------------------------------------------------------------------

def _state_of(model: nn.Module | Mapping[str, Tensor]) -> Mapping[str, Tensor]:
    if isinstance(model, LinearizedModel):
        return model.trainable_state()
    if isinstance(model, nn.Module):
        return model.state_dict()
    if isinstance(model, Mapping):
        return model
    raise TypeError(f"expect must be a model (nn.Module) or a state dict; got {type(model).__name__}")


def _first(names: list[str]) -> str:
    return ", ".join(map(repr, names[:_FIRST])) + (", ..." if len(names) > _FIRST else "")


@dataclass(frozen=True)
class Export:
    """A verified export folder: ``config`` (``config.json`` without its checksum), ``files`` (artifact name →
    tensors) and ``tensors`` (the parameters: the file ``config['architecture']['parameters_file']``)."""

    folder: Path
    config: dict
    files: dict[str, dict[str, Tensor]]

    @property
    def primary(self) -> dict:
        """The ``config.json`` entry of the parameters' file."""
        return self.config["files"][self.config["architecture"]["parameters_file"]]

    @property
    def tensors(self) -> dict[str, Tensor]:
        return self.files[self.primary["artifact"]]

    @property
    def role(self) -> str:
        return self.primary["role"]

    @property
    def summary(self) -> dict:
        return self.config["source"]["summary"]

    def check(self, expect: nn.Module | Mapping[str, Tensor]) -> None:
        """``ExportError`` unless the parameters fit ``expect`` (a model or state dict): every exported name in it
        with the same shape and, for a complete state, none of its names missing from the export. The message
        counts each sort of mismatch and names the first few."""
        state = _state_of(expect)
        have = {n: tuple(t.shape) for n, t in state.items()}
        params = {n: tuple(shape) for n, shape, _ in self.config["architecture"]["parameters"]}
        unexpected = [n for n in params if n not in have]
        missing = [n for n in have if n not in params] if self.primary["complete"] else []
        shapes = [f"{n!r}: export {params[n]} vs model {have[n]}" for n in params if n in have and have[n] != params[n]]
        problems = []
        if unexpected:
            problems.append(f"{len(unexpected)} of its {len(params)} parameters are not in the model (first: "
                            f"{_first(unexpected)})")
        if missing:
            problems.append(f"{len(missing)} of the model's {len(have)} entries are not in the export (first: "
                            f"{_first(missing)})")
        if shapes:
            problems.append(f"{len(shapes)} shapes differ (first: {'; '.join(shapes[:_FIRST])})")
        if problems:
            raise ExportError(f"{self.folder / self.config['architecture']['parameters_file']} does not fit the model "
                              f"(the export is for {self.config['architecture']['model']}): " + "; ".join(problems))

    def task_vector(self, pretrained: nn.Module | Mapping[str, Tensor] | None = None) -> TaskVector:
        """The exported task vector; for exported weights, τ = weights − ``pretrained`` (ch5 Sec. 2)."""
        if self.role == "task_vector":
            return TaskVector(self.tensors)
        if self.role == "weights" and pretrained is not None:
            return TaskVector.from_states(_state_of(pretrained), self.tensors)
        raise ExportError(f"{self.folder} holds {self.role}, not a task vector"
                          + ("; pass pretrained= (θ0) to get weights − θ0" if self.role == "weights" else ""))

    def load_into(self, model: nn.Module, *, alpha: float = 1.0) -> nn.Module:
        """Put the parameters into ``model`` (checked first, :meth:`check`) and return it.

        Weights are copied by name (a complete state with ``load_state_dict(strict=True)``); a task vector is added
        to the model's current parameters as θ + α τ (θ0 + α τ for a freshly built model, ch5 Eq. (1)). A vector of
        the ``linearized`` paradigm loads only into a :class:`~paperlib.linearize.LinearizedModel`, whose θ it then
        moves: f_lin(x; θ0 + α τ) (ch5 Eq. (2)). For a :class:`LinearizedModel` names are the wrapped model's.
        """
        if self.role not in ("task_vector", "weights"):
            raise ExportError(f"{self.folder} holds {self.role}, not parameters: there is nothing to load")
        if self.role == "task_vector" and self.summary.get("paradigm") == "linearized" \
                and not isinstance(model, LinearizedModel):
            raise ExportError(f"{self.folder} holds a task vector of the NTK-linearized model (ch5 Eq. (2)); load it "
                              "into paperlib.linearize.LinearizedModel(encoder), not into the encoder itself")
        self.check(model)
        state = _state_of(model)
        if self.role == "task_vector":
            new = TaskVector(self.tensors).apply({n: state[n] for n in self.tensors}, alpha)
        else:
            new = self.tensors
        if isinstance(model, LinearizedModel):
            model.load_trainable_state(new)
        elif self.role == "weights" and self.primary["complete"]:
            model.load_state_dict(new, strict=True)
        else:
            with torch.no_grad():
                for n, v in new.items():
                    state[n].copy_(v)
        return model

    def describe(self) -> str:
        """A few lines saying what the folder holds (what ``verify`` prints)."""
        c, s = self.config, self.summary
        src = c["source"]
        lines = [f"{self.folder}: {FORMAT} v{c['format_version']}, paperlib {c['paperlib']['code_version']}"
                 f" (commit {c['paperlib']['git_commit'] or 'unknown'}), created {c['created']}",
                 f"  {src['type']}{' ' + src['kind'] + ' ' + src['key'] if src['type'] == 'run' else ''}: "
                 f"{src['what']}"]
        fields = [f"{k} {s[k]}" for k in ("profile", "task", "paradigm", "variant", "method", "seed") if s.get(k)
                  is not None]
        lines.append("  " + ", ".join(fields) if fields else "  (no profile, task or paradigm recorded)")
        result = src.get("result")
        if isinstance(result, dict):
            nums = [f"{k} {v:g}" for k, v in result.items() if "acc" in k and isinstance(v, (int, float))]
            if nums:
                lines.append("  result: " + ", ".join(nums))
        a = c["architecture"]
        values = sum(torch.Size(shape).numel() for _, shape, _ in a["parameters"])
        lines.append(f"  model {a['model']}, weights {a['weights']}: {len(a['parameters'])} tensors, {values:,} "
                     f"values in {a['parameters_file']} (architecture sha256 {a['parameters_sha256'][:16]})")
        for name, f in sorted(c["files"].items()):
            lines.append(f"  {name}: {f['role']}, {f['bytes']:,} bytes, sha256 {f['sha256'][:16]}")
        lines.append(f"  verified: format version, {CONFIG_FILE} checksum, {len(c['files'])} file(s) by SHA-256")
        return "\n".join(lines)


def _read_config(folder: Path) -> dict:
    path = folder / CONFIG_FILE
    if not folder.is_dir():
        raise ExportError(f"{folder} is not a folder; an export is a folder holding {CONFIG_FILE} and its tensors")
    if not path.is_file():
        raise ExportError(f"{folder} holds no {CONFIG_FILE}: it is not an export folder (or the file was deleted)")
    try:
        config = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ExportError(f"{path} is not readable JSON ({type(err).__name__}: {err})") from err
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ExportError(f"{path} is not a {FORMAT} config (its 'format' is "
                          f"{config.get('format') if isinstance(config, dict) else None!r})")
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        raise ExportError(f"{path}: format_version {version!r} is not one this paperlib ({CODE_VERSION}) reads; it "
                          f"reads version {FORMAT_VERSION}" + ("; the folder was written by a newer paperlib: "
                                                               "upgrade to read it" if newer else ""))
    recorded = config.pop(SELF_CHECKSUM, None)
    computed = hashlib.sha256(_canonical(config)).hexdigest()
    if recorded != computed:
        raise ExportError(f"{path} was changed or damaged: its {SELF_CHECKSUM} records {recorded}, its content gives "
                          f"{computed}")
    return config


def load_export(folder: Path | str, *, expect: nn.Module | Mapping[str, Tensor] | None = None) -> Export:
    """Read and verify an export folder; returns an :class:`Export`.

    Checks, in order: the format name and version; ``config.json``'s own SHA-256; that the folder holds exactly the
    files it lists; each file's SHA-256 (a mismatch names the file and both digests); that each file's tensors are
    the names, shapes and dtypes the config describes; and with ``expect`` (a model or state dict), that the
    architecture fits (:meth:`Export.check`). Every failure is an :class:`ExportError` naming the file.
    """
    folder = Path(folder)
    config = _read_config(folder)
    listed = set(config["files"])
    present = {p.name for p in folder.iterdir()} - {CONFIG_FILE}
    if listed - present:
        raise ExportError(f"{folder}: {', '.join(sorted(listed - present))} listed in {CONFIG_FILE} but missing")
    if present - listed:
        raise ExportError(f"{folder} holds {', '.join(sorted(present - listed))}, which {CONFIG_FILE} does not list "
                          "(an export holds exactly the files it lists)")
    files = {}
    for name, entry in sorted(config["files"].items()):
        data = (folder / name).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            raise ExportError(f"{folder / name} failed its SHA-256: {CONFIG_FILE} records {entry['sha256']}, the "
                              f"file's bytes give {digest}")
        tensors = load_safetensors(data)
        if parameter_list(tensors) != entry["tensors"]:
            raise ExportError(f"{folder / name} holds other tensors than {CONFIG_FILE} describes")
        files[entry["artifact"]] = tensors
    arch = config["architecture"]
    if arch["parameters"] != config["files"][arch["parameters_file"]]["tensors"] \
            or arch["parameters_sha256"] != parameters_sha256(arch["parameters"]):
        raise ExportError(f"{folder / CONFIG_FILE}: the architecture does not match {arch['parameters_file']}")
    export = Export(folder, config, files)
    if expect is not None:
        export.check(expect)
    return export


def load_into(model: nn.Module, folder: Path | str, *, alpha: float = 1.0) -> nn.Module:
    """Verify ``folder`` against ``model`` and load its parameters into it (:meth:`Export.load_into`)."""
    return load_export(folder, expect=model).load_into(model, alpha=alpha)


# --- Listing the cache ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CachedRun:
    """A run of the cache that can be exported: its kind, key, config and stored artifacts."""

    kind: str
    key: str
    config: dict
    artifacts: tuple[str, ...]


def cached_runs(root: Path | None = None, kind: str | None = None) -> tuple[list[CachedRun], int]:
    """``(exportable runs, number of runs of other code versions)`` of the run cache: records of this code version
    with at least one tensors file beside them (files are checked when a run is exported, not here)."""
    runs, stale = [], 0
    base = _runs_root(root)
    kinds = [kind] if kind else sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    for k in kinds:
        for path in sorted((base / k).glob("*.json")):
            if path.name.endswith(".ckpt.json"):
                continue
            artifacts = _artifact_files(path)
            if not artifacts:
                continue
            record = read_record(path, required=("kind", "config", "code_version"), action="not listing it")
            if record is None:
                continue
            if record["code_version"] != CODE_VERSION or run_key(k, record["config"]) != path.stem:
                stale += 1
                continue
            runs.append(CachedRun(k, path.stem, record["config"], tuple(artifacts)))
    return runs, stale


def _paradigm_column(config: Mapping) -> str | None:
    if config.get("paradigm"):
        return config["paradigm"] + (f" ({config['variant']})" if config.get("variant") is not None else "")
    return config.get("method") or config.get("weighting")


def _find(kind: str, key: str, root: Path | None) -> CachedRun:
    runs, _ = cached_runs(root, kind)
    hits = [r for r in runs if r.key.startswith(key.lower())]
    if not hits:
        raise FileNotFoundError(f"no exportable cached run of kind {kind!r} has a key starting {key!r}; "
                                "`python -m paperlib.export list` prints them")
    if len(hits) > 1:
        raise ValueError(f"key {key!r} is ambiguous: {', '.join(r.key for r in hits[:_FIRST])}; give more digits")
    return hits[0]


def main(argv: list[str] | None = None) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="python -m paperlib.export",
                                     description="Export cached runs' tensors to self-describing folders, and verify "
                                                 "such folders (book: 'Taking results away').")
    sub = parser.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("list", help="the cached runs that can be exported")
    a.add_argument("--kind", help="only runs of this kind (e.g. finetune)")
    b = sub.add_parser("run", help="export one cached run by the key that `list` prints")
    b.add_argument("kind")
    b.add_argument("key", help="the run key, or any unique prefix of it")
    b.add_argument("out", type=Path, help="the folder to write (must not exist, or be empty)")
    b.add_argument("--overwrite", action="store_true", help="replace a non-empty OUT")
    for p in (a, b):
        p.add_argument("--root", type=Path, default=None, help="the run cache (default: <cache>/runs)")
    c = sub.add_parser("verify", help="check an export folder and print what it holds")
    c.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.cmd == "list":
            runs, stale = cached_runs(args.root, args.kind)
            rows = [(r.kind, r.key[:SHORT_KEY], *(str(v) if v is not None else "-" for v in (
                r.config.get("profile"), _task_of(r.config),
                _paradigm_column(r.config),
                r.config.get("seed"))), ",".join(r.artifacts)) for r in runs]
            head = ("kind", "key", "profile", "task", "paradigm/method", "seed", "files")
            widths = [max(len(x) for x in col) for col in zip(head, *rows)]
            for row in (head, *rows):
                print("  ".join(x.ljust(w) for x, w in zip(row, widths)).rstrip())
            print(f"{len(rows)} exportable run(s); export one with: python -m paperlib.export run KIND KEY OUT")
            if stale:
                print(f"({stale} cached run(s) of other code versions are not listed: this code cannot vouch for them)")
        elif args.cmd == "run":
            run = _find(args.kind, args.key, args.root)
            out = _export_key(run.kind, run.key, _runs_root(args.root), args.out, args.overwrite)
            print(load_export(out).describe())
        else:
            print(load_export(args.folder).describe())
    except (ExportError, FileNotFoundError, FileExistsError, ValueError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


__all__ = ["CONFIG_FILE", "FORMAT", "FORMAT_VERSION", "ROLES", "CachedRun", "Export", "ExportError",
           "cached_runs", "export_run", "export_task_vector", "file_sha256", "load_export", "load_into",
           "parameter_list", "parameters_sha256"]


if __name__ == "__main__":
    raise SystemExit(main())
