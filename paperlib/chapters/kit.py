"""The chapter kit: what every chapter does the same way.

* **Parameters declared once** (:class:`Param`, :class:`Params`). A chapter declares each papermill
  parameter once: name, type, allowed values or range, default per profile, one line of help. The
  notebook's validation cell turns the injected parameters into a frozen, validated mapping with
  :meth:`Params.from_namespace`, rejecting before any work: wrong types, out-of-range values, names
  outside a list's choices, duplicates, and any injected name the chapter does not declare (a typo
  such as ``-p seed 3`` for ``seeds``). The same declaration renders the parameter table of each
  chapter page (:meth:`Params.table`).
* **One claims type** (:class:`Claim`): the paper's statement, where in the paper, our number with
  its interval and seed count, the paper's number (from :mod:`paperlib.reference`) and one verdict
  of :data:`VERDICTS`, decided by one rule (:func:`judge`, :func:`judge_all`); :func:`claims_table`
  renders them.
* **Paper beside ours** (:func:`paper_vs_ours`): every "paper / ours / difference" table, with the
  paper's numbers passed in from :mod:`paperlib.reference` only.
* **A grid runner** (:func:`run_grid`): a chapter's experiment as a list of run specs, executed with
  one progress bar through any ``concurrent.futures.Executor`` (serial by default), with a per-run
  file lock so two workers never compute the same run twice. :class:`WorkerPool` (the ``workers``
  parameter) is the local executor: processes that share the machine's cores, started on first use.
"""

from __future__ import annotations

import ast
import difflib
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd

from ..config import LR_HIGH, LR_LOW, PROFILES, cache_dir, check_choice
from ..data.fake_root import MANIFEST as FAKE_ROOT_MANIFEST  # what write_fake_root leaves in a fake data root
from ..report import rehearsal, set_rehearsal
from ..store import content_key, plain

# --- Parameters ------------------------------------------------------------------------------------

#: The scalar types a parameter may have; a list parameter has one of them per item.
_SCALARS: dict[str, tuple[type, ...]] = {"int": (int,), "float": (float, int), "str": (str,), "bool": (bool,)}


@dataclass(frozen=True)
class Param:
    """One papermill parameter of a chapter.

    ``kind`` is ``"int"``, ``"float"``, ``"str"``, ``"bool"`` or ``"list[<one of those>]"``.
    ``default`` is the value, or a mapping profile → value when profiles differ, or a callable
    ``profile → value``; ``None`` in the notebook means "this default". ``choices`` (a sequence or a
    callable ``profile → sequence``) restricts a value or each list item; ``low``/``high`` bound a
    number or each item (``open_low``/``open_high`` exclude the bound). A list has at least
    ``min_len`` items and, with ``unique``, no duplicates. ``nullable`` lets the resolved value be
    ``None`` (e.g. an optional folder).
    """

    name: str
    kind: str
    help: str
    default: Any = None
    choices: Sequence | Callable[[str], Sequence] | None = None
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    min_len: int = 1
    unique: bool = True
    nullable: bool = False
    #: How the parameter table describes ``choices`` when listing them would be too long.
    choices_help: str | None = None

    def __post_init__(self):
        item = self.item_kind
        if item not in _SCALARS:
            raise ValueError(f"parameter {self.name!r}: kind {self.kind!r} is not one of {sorted(_SCALARS)} or "
                             "list[...] of them")

    @property
    def is_list(self) -> bool:
        return self.kind.startswith("list[")

    @property
    def item_kind(self) -> str:
        return self.kind[5:-1] if self.is_list else self.kind

    def default_for(self, profile: str) -> Any:
        d = self.default
        if callable(d):
            return d(profile)
        if isinstance(d, Mapping):
            return d[profile]
        return d

    def choices_for(self, profile: str) -> tuple | None:
        c = self.choices
        if c is None:
            return None
        return tuple(c(profile) if callable(c) else c)

    def allowed(self, profile: str | None = None) -> str:
        """What this parameter accepts, in words (used in errors and in the parameter table)."""
        parts = []
        if self.choices is not None:
            if profile is None and self.choices_help:
                shown = self.choices_help
            elif profile is None and callable(self.choices):
                shown = "; ".join(f"{p}: {', '.join(map(str, self.choices_for(p)))}" for p in PROFILES)
            else:
                shown = ", ".join(map(repr, self.choices_for(profile or PROFILES[1])))
            parts.append(("each one of " if self.is_list else "one of ") + shown)
        if self.low is not None or self.high is not None:
            lo = "(-inf" if self.low is None else ("(" if self.open_low else "[") + f"{self.low:g}"
            hi = "inf)" if self.high is None else f"{self.high:g}" + (")" if self.open_high else "]")
            parts.append(("each in " if self.is_list else "in ") + f"{lo}, {hi}")
        if self.is_list:
            parts.append(f"at least {self.min_len} item{'s' if self.min_len > 1 else ''}"
                         + (", no duplicates" if self.unique else ""))
        return f"{self.kind}" + (f", {'; '.join(parts)}" if parts else "") + (" (or None)" if self.nullable else "")

    # -- validation ---------------------------------------------------------------------------------
    def _fail(self, value, problem: str, profile: str) -> ValueError:
        return ValueError(f"parameter {self.name}={value!r}: {problem}; allowed: {self.allowed(profile)}")

    def _item(self, value, profile: str, label: str):
        types = _SCALARS[self.item_kind]
        if isinstance(value, bool) and self.item_kind != "bool":
            raise self._fail(value, f"{label} is a bool, not {self.item_kind}", profile)
        if not isinstance(value, types):
            raise self._fail(value, f"{label} is a {type(value).__name__}, not {self.item_kind}", profile)
        if self.item_kind == "float":
            value = float(value)
            if not math.isfinite(value):
                raise self._fail(value, f"{label} is not finite", profile)
        choices = self.choices_for(profile)
        if choices is not None and value not in choices:
            hint = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
            raise self._fail(value, f"{label} {value!r} is unknown" + (f" (did you mean {hint[0]!r}?)" if hint else ""),
                             profile)
        if self.low is not None and (value < self.low or (self.open_low and value == self.low)):
            raise self._fail(value, f"{label} {value!r} is below the range", profile)
        if self.high is not None and (value > self.high or (self.open_high and value == self.high)):
            raise self._fail(value, f"{label} {value!r} is above the range", profile)
        return value

    def resolve(self, value, profile: str):
        """The validated value (``None`` → the profile's default), or ``ValueError`` naming this
        parameter, the value and what is allowed."""
        if value is None:
            value = self.default_for(profile)
            if value is None:
                if self.nullable:
                    return None
                raise self._fail(value, "a value is required", profile)
        if self.is_list:
            if isinstance(value, str):  # papermill's -p passes "[0, 1, 2]" as a string
                value = _parse_list(value, self, profile)
            if not isinstance(value, (list, tuple)):
                raise self._fail(value, f"is a {type(value).__name__}, not a list", profile)
            items = tuple(self._item(v, profile, f"item {i}") for i, v in enumerate(value))
            if len(items) < self.min_len:
                raise self._fail(list(value), f"has {len(items)} item(s)", profile)
            if self.unique and len(set(items)) != len(items):
                dup = sorted({str(v) for v in items if items.count(v) > 1})
                raise self._fail(list(value), f"has duplicates ({', '.join(dup)})", profile)
            return items
        if isinstance(value, (list, tuple, dict)):
            raise self._fail(value, f"is a {type(value).__name__}, but this parameter takes one {self.kind}", profile)
        return self._item(value, profile, "the value")


def _parse_list(text: str, param: Param, profile: str) -> list:
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        # bare words, as in YAML: [a, b] or a, b
        text = text.strip()
        inner = text.removeprefix("[").removesuffix("]")
        if not inner or text.startswith("[") != text.endswith("]") or any(c in inner for c in "[]{}()'\""):
            raise param._fail(text, "is not a list (write it as \"[0, 1, 2]\", or pass it with papermill's -y)",
                              profile) from None
        value = [_scalar(w.strip()) for w in inner.split(",") if w.strip()]
    if isinstance(value, (int, float, str)):
        value = [value]
    return list(value) if isinstance(value, tuple) else value


def _scalar(word: str):
    for conv in (int, float):
        try:
            return conv(word)
        except ValueError:
            pass
    return word


class Config(Mapping):
    """A chapter's validated parameters: a frozen mapping that also reads as attributes."""

    def __init__(self, values: Mapping[str, Any]):
        object.__setattr__(self, "_values", MappingProxyType(dict(values)))

    def __getitem__(self, key):
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        raise AttributeError("a chapter config is frozen")

    def __repr__(self):
        return "Config(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"


@dataclass(frozen=True)
class Params:
    """A chapter's declared parameters (``profile`` first: the other defaults depend on it)."""

    chapter: str
    params: tuple[Param, ...]
    #: Checks across parameters: ``check(config)`` raises ``ValueError`` naming the parameters.
    checks: tuple[Callable[[Config], None], ...] = field(default=())

    def __post_init__(self):
        names = [p.name for p in self.params]
        if not names or names[0] != "profile":
            raise ValueError(f"{self.chapter}: 'profile' must be the first parameter")
        if len(set(names)) != len(names):
            raise ValueError(f"{self.chapter}: parameters declared twice: {names}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def __getitem__(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def resolve(self, **given) -> Config:
        """Validate ``given`` (names → values, ``None`` or absent = the profile's default) into a
        frozen :class:`Config`; ``ValueError`` names the first bad parameter and what is allowed."""
        self.check_names(given)
        profile = self["profile"].resolve(given.get("profile"), PROFILES[1])
        values = {"profile": profile}
        for p in self.params[1:]:
            values[p.name] = p.resolve(given.get(p.name), profile)
        config = Config(values)
        for check in self.checks:
            check(config)
        return config

    def check_names(self, given: Iterable[str]) -> None:
        unknown = [n for n in given if n not in self.names]
        if unknown:
            hints = [f"{n!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(n, self.names, n=1)) else
                     repr(n) for n in unknown]
            raise ValueError(f"{self.chapter} has no parameter {', '.join(hints)}; it takes: {', '.join(self.names)}")

    def from_namespace(self, namespace: Mapping[str, Any]) -> Config:
        """Validate the parameters a notebook holds (its ``globals()``): the declared names' values, and
        every name papermill injected, which must be declared (a typo such as ``-p seed 3`` for ``seeds``
        is rejected, not ignored). The injected names are read from the kernel's input history
        (``In``): papermill's injected cell is the one that starts with ``# Parameters``."""
        injected = injected_names(namespace)
        if injected:
            self.check_names(injected)
        return self.resolve(**{k: namespace[k] for k in self.names if k in namespace})

    def table(self) -> pd.DataFrame:
        """The parameter table of the chapter page: name, type and allowed values, default per profile."""
        rows = []
        for p in self.params:
            row = {"parameter": p.name, "accepts": p.allowed(None)}
            for prof in PROFILES:
                d = p.default_for(prof)
                shown = ", ".join(map(str, d)) if isinstance(d, (list, tuple)) else str(d)
                row[f"default ({prof})"] = "–" if d is None else shown
            row["what it sets"] = p.help
            rows.append(row)
        return pd.DataFrame(rows).set_index("parameter")


class DeclaredConfig:
    """Base of a chapter's config dataclass: the class attribute ``PARAMS`` declares its parameters and
    ``from_config(Config)`` builds the dataclass from the validated values."""

    PARAMS: ClassVar[Params]

    @classmethod
    def from_params(cls, **params):
        """Validate parameters given by name (``ValueError`` names a bad one and what is allowed)."""
        config = cls.PARAMS.resolve(**params)
        note_rehearsal(config)
        return cls.from_config(config)

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]):
        """The validation cell: the notebook's parameters, any name papermill injected but the chapter
        does not declare rejected. A rehearsal (random weights or a fake data root) prints a banner, and
        every table after it says so (:func:`note_rehearsal`)."""
        config = cls.PARAMS.from_namespace(namespace)
        note = note_rehearsal(config)
        if note:
            print(f"⚠ {note}")
        return cls.from_config(config)


def profile_default(table: Mapping[str, Any], key: str) -> Callable[[str], Any]:
    """A default that reads ``key`` of a per-profile table (a field of a protocol dataclass, or an
    entry of a dict), for :class:`Param`'s ``default``."""
    def default(profile: str) -> Any:
        row = table[profile]
        return row[key] if isinstance(row, Mapping) else getattr(row, key)
    return default


def injected_names(namespace: Mapping[str, Any]) -> list[str]:
    """The names papermill injected into a notebook: the assignments of the last cell in the kernel's
    input history (``In``) that starts with papermill's ``# Parameters`` comment ([] when there is none)."""
    history = namespace.get("In")
    if not isinstance(history, list):
        return []
    for source in reversed(history):
        if isinstance(source, str) and source.lstrip().startswith("# Parameters"):
            names = []
            for node in ast.parse(source).body:
                targets = node.targets if isinstance(node, ast.Assign) else \
                    [node.target] if isinstance(node, ast.AnnAssign) else []
                names += [t.id for t in targets if isinstance(t, ast.Name)]
            return names
    return []


# --- Shared declarations ---------------------------------------------------------------------------

#: Learning rates (all optimizers of the book): one range for every chapter (:func:`paperlib.config.check_lr`).
LR_RANGE = dict(low=LR_LOW, high=LR_HIGH, open_low=True, open_high=True)


# --- Rehearsals of the paper profile -----------------------------------------------------------------

#: What every table of a rehearsal says: the paper profile's code path run on random weights and/or a fake data
#: root (:mod:`paperlib.data.fake_root`), whose numbers test the code and mean nothing about the papers.
REHEARSAL = "REHEARSAL: {what}; these numbers exercise the code path and say nothing about the paper"


def _fake_root_manifest(c: Mapping[str, Any]) -> Path | None:
    """The manifest of the fake data root a paper-profile configuration reads (None: not paper, or a real root)."""
    if c.get("profile") != "paper":
        return None
    from ..config import data_root
    manifest = Path(c.get("data_root") or data_root()) / FAKE_ROOT_MANIFEST
    return manifest if manifest.is_file() else None


def rehearsal_of(c: Mapping[str, Any]) -> str | None:
    """What makes a configuration a rehearsal (``pretrained='random'``, a fake data root), or None."""
    what = []
    if c.get("pretrained") == "random":
        what.append("random weights (pretrained='random')")
    manifest = _fake_root_manifest(c)
    if manifest is not None:
        what.append(f"a fake data root ({manifest.parent})")
    return REHEARSAL.format(what=" and ".join(what)) if what else None


def note_rehearsal(c: Mapping[str, Any]) -> str | None:
    """Remember whether the chapter being run is a rehearsal, so that :func:`paper_vs_ours` and :func:`styled`
    label every table with it (and :func:`paperlib.report.profile_label` every table and figure); returns the label
    (None for a real run). On a fake data root the run cache moves apart as well (:func:`fake_root_cache`)."""
    note = rehearsal_of(c)
    set_rehearsal(note)
    fake_root_cache(c)
    return note


def fake_root_cache(c: Mapping[str, Any]) -> Path | None:
    """On the paper profile with a fake data root (:mod:`paperlib.data.fake_root`), point ``$PAPERLIB_CACHE`` at a
    folder of the current cache named after that root's manifest, and return it (None, and nothing changed,
    otherwise).

    Chapters 3 and 4 train from scratch and key their runs by protocol, not by the files they read; chapters 1, 2
    and 5 key pretrained weights but not the data. Without this, a rehearsal on a fake root and a real run with the
    same parameters would share a cache entry, and one would answer for the other. Worker processes started after
    the validation cell inherit the variable. Idempotent: inside that folder already, nothing moves."""
    manifest = _fake_root_manifest(c)
    if manifest is None:
        return None
    name = f"rehearsal-{content_key({'fake_root_manifest': manifest.read_text(encoding='utf-8')})}"
    here = cache_dir()
    if here.name == name:
        return here
    os.environ["PAPERLIB_CACHE"] = str(here / name)
    return here / name


def check_random_weights(c: Config) -> None:
    """``pretrained='random'`` rehearses the paper profile; the other profiles use the shipped models."""
    if c.get("pretrained") == "random" and c.profile != "paper":
        raise ValueError(f"parameter pretrained='random' builds the paper's architectures with random weights (a "
                         f"rehearsal of the paper profile); profile {c.profile!r} uses the shipped models: pass "
                         "profile='paper' or leave pretrained unset")


def profile_param() -> Param:
    return Param("profile", "str", "smoke (seconds, CI) · embedded (2-core CPU, no download) · paper (the papers' "
                 "datasets and weights, on a GPU)", default="embedded", choices=PROFILES)


def device_param() -> Param:
    return Param("device", "str", "where to compute; auto is CUDA when present, else the CPU", default="auto",
                 choices=("auto", "cpu", "cuda") + tuple(f"cuda:{i}" for i in range(8)))


def workers_param() -> Param:
    """``workers``: processes that compute a chapter's runs side by side (:class:`WorkerPool`)."""
    return Param("workers", "int", "processes that compute the chapter's runs side by side, the CPU's cores shared "
                 "out among them (1: everything in the notebook's process)", default=WORKERS, low=1, high=256)


#: Scheduler address schemes a Dask client connects with.
DASK_SCHEMES = ("tcp://", "tls://")


def executor_param() -> Param:
    """``executor``: where a chapter's runs are computed (:class:`WorkerPool`): ``None`` for the ``workers``
    local processes, ``"dask"`` for a local Dask cluster of ``workers`` processes, or the address of a
    running Dask scheduler (``tcp://host:8786``), whose workers may be on other machines."""
    return Param("executor", "str", "None: the `workers` local processes · 'dask': a local Dask cluster of `workers` "
                 "processes · 'tcp://host:8786': a running Dask scheduler (its workers on any machines)",
                 nullable=True)


def check_executor(c: Config) -> None:
    """The ``executor`` parameter is ``None``, ``"dask"`` or a reachable scheduler address: a malformed
    address, or one where nothing answers within 3 s, stops the validation cell (not the first grid)."""
    address = c.get("executor")
    if address is None or address == "dask":
        return
    allowed = "None, 'dask' or a Dask scheduler address such as 'tcp://127.0.0.1:8786'"
    scheme = next((s for s in DASK_SCHEMES if address.startswith(s)), None)
    host, _, port = address[len(scheme):].rpartition(":") if scheme else ("", "", "")
    if scheme is None or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"parameter executor={address!r} is not a Dask scheduler address; allowed: {allowed}")
    import socket
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=3.0).close()
    except OSError as err:
        raise ValueError(f"parameter executor={address!r}: no Dask scheduler answers at {host}:{port} ({err}); "
                         "start one (`dask scheduler`, then `dask worker " + address + "` on each machine) or use "
                         f"{allowed}") from None


def data_root_param() -> Param:
    return Param("data_root", "str", "folder of the papers' datasets (paper profile; None means $PAPERLIB_DATA or "
                 "./data)", nullable=True)


def seeds_param(default) -> Param:
    return Param("seeds", "list[int]", "training seeds, one run per seed", default=default, low=0)


def paper_data_check(datasets: str | Callable[[Config], Sequence[str]]) -> Callable[[Config], None]:
    """A check that, on ``paper``, the datasets (named by the parameter ``datasets``, or returned by
    ``datasets(config)``) are in ``data_root``, so a missing dataset stops the validation cell before
    any weights are downloaded or models trained."""
    def check(c: Config) -> None:
        if c.profile == "paper":
            from ..data.registry import check_paper_data
            check_paper_data(c[datasets] if isinstance(datasets, str) else datasets(c), c.data_root)
    return check


def clip_params() -> tuple[Param, Param]:
    """``model`` and ``pretrained``, the CLIP model and weights of chapters 1 and 5."""
    from ..models.clip import MODELS
    return (Param("model", "str", "CLIP model (None: the shipped tiny model, or ViT-B-32 on paper)", choices=MODELS,
                  nullable=True),
            Param("pretrained", "str", "weights: 'shipped', 'openai' (paper only: open_clip downloads them to its "
                  "cache), a local file, or 'random' (paper only: the architecture randomly initialised, nothing "
                  "downloaded; a rehearsal) (None: the profile's)", nullable=True))


def eval_images_param() -> Param:
    """``eval_images``: a cap on the images of each validation and test split (paper profile only; :func:`paper_only`
    checks it), the chapters' lever for a rehearsal of the paper profile or a quick look before a full run."""
    return Param("eval_images", "int", "paper profile only: evaluate on at most this many images of each validation "
                 "and test split, the first of one fixed permutation (None: every image, as the paper)",
                 nullable=True, low=1, high=10_000_000)


def paper_only(*names: str, why: str = "the other profiles size their splits themselves"):
    """A config check: the parameters ``names`` may be set on the paper profile only (``why`` says what the others
    do instead)."""
    def check(c: Config) -> None:
        for name in names:
            if c[name] is not None and c.profile != "paper":
                raise ValueError(f"parameter {name}={c[name]!r} applies to the paper profile; on profile "
                                 f"{c.profile!r} {why} (leave {name} unset)")
    return check


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when a GPU is present, else ``cpu``; an explicit CUDA device must exist."""
    import torch
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"parameter device={device!r}: no CUDA device is available; allowed here: 'auto', 'cpu'")
    return device


# --- Claims ----------------------------------------------------------------------------------------

#: The one verdict vocabulary of the book. ``partly``: a claim of several parts, some of which held.
VERDICTS = ("yes", "partly", "no", "inconclusive")


@dataclass(frozen=True)
class Claim:
    """One of the paper's claims checked on our numbers.

    ``where`` names the paper and place ("ch5 Table 1"); ``ours`` is our number with its interval;
    ``seeds`` how many seeds it rests on; ``paper`` the paper's number as read from
    :mod:`paperlib.reference` (empty when the paper states it in words only).
    """

    where: str
    statement: str
    ours: str
    verdict: str
    seeds: int
    paper: str = ""

    def __post_init__(self):
        check_choice(self.verdict, VERDICTS, "verdict")


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and a Student-t confidence interval over seeds (``(mean, lo, hi)``; lo = hi = mean for one
    value or identical values)."""
    from scipy import stats
    v = np.asarray(list(values), dtype=float)
    m = float(v.mean())
    if len(v) < 2 or np.allclose(v, v[0]):
        return m, m, m
    lo, hi = stats.t.interval(confidence, len(v) - 1, loc=m, scale=stats.sem(v))
    return m, float(lo), float(hi)


def fmt_ci(values, signed: bool = False, digits: int = 1) -> str:
    """``"m [lo, hi]"`` from :func:`mean_ci`, or ``"m"`` for a single value."""
    m, lo, hi = mean_ci(values)
    f = f"{{:{'+' if signed else ''}.{digits}f}}"
    return f.format(m) if lo == hi else f"{f.format(m)} [{f.format(lo)}, {f.format(hi)}]"


def judge(diffs) -> tuple[str, str]:
    """The book's one rule for a paired difference (ours, per seed, signed so that > 0 is the paper's
    side): with two or more seeds, ``yes`` when the whole 95% t-interval is above 0, ``no`` when it is
    below, else ``inconclusive``; with one seed, its sign (the claims table shows the seed count).
    Returns ``(verdict, "mean [CI]")``."""
    diffs = list(diffs)
    if not diffs:
        return "inconclusive", "–"
    m, lo, hi = mean_ci(diffs)
    text = fmt_ci(diffs, signed=True)
    if len(diffs) < 2:
        return ("yes" if m > 0 else "no"), text
    return ("yes" if lo > 0 else "no" if hi < 0 else "inconclusive"), text


def judge_all(parts: Sequence[bool | None]) -> str:
    """A claim of several parts: ``yes`` if all held, ``no`` if none did, ``partly`` if some did,
    ``inconclusive`` when a part could not be decided (``None``) and none held."""
    if parts and all(p is True for p in parts):
        return "yes"
    if any(p is True for p in parts):
        return "partly"
    if parts and all(p is False for p in parts):
        return "no"
    return "inconclusive"


def claims_table(claims: Sequence[Claim]) -> pd.DataFrame:
    """The rendered claims table, one row per claim."""
    rows = [{"where": c.where, "claim": c.statement, "paper": c.paper or "–", "ours": c.ours, "seeds": c.seeds,
             "reproduced": c.verdict} for c in claims]
    return pd.DataFrame(rows, columns=["where", "claim", "paper", "ours", "seeds", "reproduced"])


def verdict_counts(claims: Sequence[Claim]) -> dict[str, int]:
    """How many claims got each verdict (every verdict present, zeros included), plus ``total``."""
    out = {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
    out["total"] = len(claims)
    return out


# --- Paper beside ours -----------------------------------------------------------------------------

def paper_vs_ours(rows: Sequence[Mapping[str, Any]], label: str, index: str | Sequence[str] = "quantity",
                  digits: int = 2, wide: str | None = None) -> pd.DataFrame:
    """One "paper / ours / difference" table.

    Each row holds its index column(s), ``paper`` (a number from :mod:`paperlib.reference`, or
    ``None``), ``ours`` (our mean) and optionally ``ours_text`` (our mean with its interval, shown in
    place of the mean) and any extra columns. ``difference`` is ours − paper (NaN where either is
    missing). ``label`` names where our numbers come from (the profile and data). ``wide`` names an
    index level whose values become column groups (paper, ours, difference under each), rows and groups
    in the order they first appear; the other columns keep their first value per row.
    """
    if rehearsal() and "REHEARSAL" not in label:
        label = f"{label}, REHEARSAL"
    out = []
    for r in rows:
        paper, ours = r.get("paper"), r.get("ours")
        paper = math.nan if paper is None else float(paper)
        ours = math.nan if ours is None else float(ours)
        extra = {k: v for k, v in r.items() if k not in ("paper", "ours", "ours_text")}
        shown = r.get("ours_text", ours)
        out.append({**extra, "paper": paper, f"ours ({label})": shown, "difference": ours - paper})
    df = pd.DataFrame(out)
    if len(df):
        df["difference"] = df["difference"].round(digits)
        df = df.set_index(index if isinstance(index, str) else list(index))
    if wide and len(df):
        trio = ["paper", f"ours ({label})", "difference"]
        rest = [n for n in df.index.names if n != wide]
        groups = list(dict.fromkeys(df.index.get_level_values(wide)))
        extra = df.drop(columns=trio).groupby(level=rest, sort=False).first()
        body = df[trio].unstack(wide, sort=False).reorder_levels([1, 0], axis=1)
        body = body[[(g, c) for g in groups for c in trio]]
        if len(extra.columns):
            extra.columns = pd.MultiIndex.from_tuples([("", c) for c in extra.columns])
            body = pd.concat([body, extra], axis=1)
        df = body
    return df


def styled(table: pd.DataFrame, caption: str, digits: int = 2):
    """A :func:`paper_vs_ours` table as the book shows it: the paper's numbers to ``digits`` decimals,
    differences signed, missing values as "–", and ``caption`` (which names the profile and data)."""
    def kind(col) -> str:
        return col[-1] if isinstance(col, tuple) else col
    formats = {c: f"{{:.{digits}f}}" for c in table.columns if kind(c) == "paper"}
    formats |= {c: f"{{:+.{digits}f}}" for c in table.columns if kind(c) == "difference"}
    if rehearsal() and "REHEARSAL" not in caption:
        caption = f"{rehearsal()}. {caption}"
    return table.style.format(formats, na_rep="–").set_caption(caption)


# --- The grid runner -------------------------------------------------------------------------------

S = TypeVar("S")
R = TypeVar("R")


#: Default ``workers`` per profile. A tiny model on a CPU is overhead-bound: two processes of one
#: thread each train 10–25 % more runs per minute than one process of two threads (2 cores, the
#: shipped tiny CLIP, ``make bench``; chapters 5, 1 and 4 ran 1.35–1.45× faster), so ``embedded``
#: uses two. ``paper`` runs one model at a time on a GPU; ``smoke`` would spend more on starting
#: processes than it saves.
WORKERS = {"smoke": 1, "embedded": 2, "paper": 1}


def usable_cores() -> int:
    """CPU cores this process may run on."""
    import os
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _start_worker(threads: int) -> None:
    import torch
    torch.set_num_threads(threads)


class WorkerPool:
    """The executor of a chapter's grids: ``executor`` when one is given (a Dask client's, a test's), else
    a Dask cluster when ``address`` is given (``"dask"``: a local one of ``workers`` processes; ``tcp://…``:
    a running scheduler), else ``workers`` local processes (spawned, so a notebook's threads are never
    forked), each with ``usable_cores() // workers`` torch threads, started on first use and kept for the
    chapter's later grids; ``None`` (serial, in this process) for ``workers=1``.

    A job runs in another process: it must be a module-level function of picklable arguments. With
    :meth:`prefetch` it computes its runs into the run cache (local processes only), so the notebook's
    process then only loads; with :func:`run_cached_grid` it returns them and the notebook's process
    stores them (any executor, Dask workers on other machines included).
    """

    def __init__(self, workers: int = 1, executor: Executor | None = None, address: str | None = None):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers={workers!r}: allowed is an integer ≥ 1")
        self.workers, self._given, self._pool = workers, executor, None
        self.address, self._client, self._cluster, self._environ = address, None, None, dict(os.environ)

    @property
    def parallel(self) -> bool:
        """Whether jobs leave this process (an executor or Dask address was given, or more than one worker)."""
        return self._given is not None or self.address is not None or self.workers > 1

    def executor(self) -> Executor | None:
        if self._given is not None:
            return self._given
        if self.address is not None:
            return self._dask().get_executor()
        if self.workers == 1:
            return None
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            threads = max(1, usable_cores() // self.workers)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker, initargs=(threads,))
        return self._pool

    def prefetch(self, job: Callable[[S], Any], specs: Sequence[S], *, desc: str, progress: bool = True,
                 min_jobs: int = 1) -> bool:
        """Compute ``job`` of each spec on the workers (:func:`run_grid`), when jobs leave this process
        and there are at least ``min_jobs``; returns whether it did. The caller then loads the results
        from the run cache (or, without workers, computes them itself)."""
        if not self.parallel or len(specs) < min_jobs:
            return False
        run_grid(job, specs, executor=self.executor(), desc=desc, progress=progress)
        return True

    def _dask(self):
        """The Dask client: of a local cluster of ``workers`` processes (``address="dask"``; one task at a
        time each, with the cores shared out as torch threads, on the loopback interface, no dashboard), or
        connected to the scheduler at ``address``."""
        if self._client is None:
            from dask.distributed import Client, LocalCluster
            if self.address == "dask":
                threads = str(max(1, usable_cores() // self.workers))
                self._environ = dict(os.environ)
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                             host="127.0.0.1", dashboard_address=None,
                                             env={"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads})
                restore_environ(self._environ)
                self._client = Client(self._cluster)
            else:
                self._client = Client(self.address, timeout=10)
        return self._client

    def shutdown(self) -> None:
        """Stop the local processes or the local Dask cluster (a later grid starts new ones); a remote
        scheduler's client disconnects and its workers keep running."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
            restore_environ(self._environ)


def restore_environ(saved: Mapping[str, str]) -> None:
    """Put ``os.environ`` back as ``saved``. A Dask nanny sets its workers' variables (``OMP_NUM_THREADS=1``,
    ``PYTHONHASHSEED``, ...) in the process that starts it, before spawning them, and leaves them there:
    every later subprocess of a notebook or test session would inherit one thread."""
    for key in [k for k in os.environ if k not in saved]:
        del os.environ[key]
    os.environ.update(saved)


#: What this worker process has built for its jobs (:func:`worker_state`).
_WORKER_STATE: dict[Any, Any] = {}


def worker_state(key: Any, build: Callable[[], R]) -> R:
    """What a worker process builds once and reuses for its later jobs (a chapter's model, data and
    loaded runs), by ``key`` (a hashable form of the chapter's configuration)."""
    if key not in _WORKER_STATE:
        _WORKER_STATE[key] = build()
    return _WORKER_STATE[key]


class SerialExecutor(Executor):
    """Runs each submitted call at once, in this process (the default of :func:`run_grid`)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        f: Future = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - handed to the caller through the future
            f.set_exception(err)
        return f


def lock_path(key: str) -> Path:
    """The lock file of one run (``<cache>/locks/<key>.lock``)."""
    return cache_dir() / "locks" / f"{key}.lock"


def _locked(fn: Callable[[S], R], spec: S, key: str) -> R:
    from filelock import FileLock
    path = lock_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path)):
        return fn(spec)


def spec_key(spec: Any) -> str:
    """A run spec's lock key: the content hash of its plain form (dataclass, mapping or tuple)."""
    return content_key({"spec": plain(spec)})


def run_grid(fn: Callable[[S], R], specs: Sequence[S], *, executor: Executor | None = None,
             key: Callable[[S], str] = spec_key, desc: str = "runs", progress: bool = True) -> list[R]:
    """``[fn(spec) for spec in specs]``, executed through ``executor`` with one progress bar.

    ``fn`` computes or loads one run through the run cache (:func:`paperlib.store.cached_run`), so a
    finished run is only loaded. Each call holds a file lock named by ``key(spec)`` under the cache
    folder, so two workers (threads, processes, or Dask workers sharing the cache folder) never
    compute the same run twice: the second waits, then finds it cached. ``executor`` is any
    ``concurrent.futures.Executor`` (a ``ProcessPoolExecutor``, or a Dask client's
    ``get_executor()``); the default runs serially in this process. ``fn`` and the specs must be
    picklable for a process or Dask executor. Results come back in ``specs`` order.
    """
    from tqdm.auto import tqdm
    executor = executor or SerialExecutor()
    specs = list(specs)
    futures = {executor.submit(_locked, fn, spec, key(spec)): i for i, spec in enumerate(specs)}
    results: list = [None] * len(specs)
    for fut in tqdm(as_completed(futures), total=len(futures), desc=desc, disable=not progress or not specs):
        results[futures[fut]] = fut.result()
    return results



def _timed(compute: Callable[[S], tuple[Any, Mapping]], spec: S) -> tuple[Any, Mapping, float]:
    import time
    start = time.perf_counter()
    result, artifacts = compute(spec)
    return result, artifacts, time.perf_counter() - start


def run_cached_grid(compute: Callable[[S], tuple[Any, Mapping[str, Mapping[str, Any]]]], specs: Sequence[S], *,
                    identity: Callable[[S], tuple[str, Any]],
                    artifacts: Callable[[S], Sequence[str]] | Sequence[str] = (),
                    executor: Executor | None = None, desc: str = "runs", progress: bool = True) -> list:
    """The results of ``specs``' runs: loaded from the run cache when there, else computed through
    ``executor`` and **stored by this process** (the driver), so workers need no shared disk for results.

    ``identity(spec)`` is the run's ``(kind, config)`` in the run cache; ``artifacts`` names the tensors
    stored beside its record (or a function of the spec). ``compute(spec)`` runs anywhere (this process,
    a process pool, a Dask worker on another machine): it trains and evaluates one run and returns
    ``(result, {artifact name: {tensor name: tensor}})``; it must not write the run cache. Each finished
    run is stored as it arrives, so an interrupted grid keeps its finished runs. A spec listed twice is
    computed once. Without ``executor`` the runs are computed here, one at a time. One progress bar (none
    when every run is cached); the results come back in ``specs`` order.
    """
    from tqdm.auto import tqdm

    from ..store import cached_result, run_key, store_run
    specs = list(specs)
    results: list = [None] * len(specs)
    named = [(identity(s), tuple(artifacts(s) if callable(artifacts) else artifacts)) for s in specs]
    pending: dict[str, list[int]] = {}
    for i, ((kind, config), arts) in enumerate(named):
        hit = cached_result(kind, config, artifacts=arts)
        if hit is not None:
            results[i] = hit[0]
        else:
            pending.setdefault(run_key(kind, config), []).append(i)
    bar = tqdm(total=len(specs), initial=len(specs) - sum(map(len, pending.values())), desc=desc,
               disable=not progress or not pending)

    def store(first: int, result, tensors, seconds) -> None:
        (kind, config), arts = named[first]
        if set(tensors) != set(arts):
            raise ValueError(f"run {kind} returned artifacts {sorted(tensors)}; expected {sorted(arts)}")
        stored = store_run(kind, config, result, tensors, seconds=seconds)
        for i in pending[run_key(kind, config)]:
            results[i] = stored
        bar.update(len(pending[run_key(kind, config)]))

    try:
        if executor is None:
            for idx in pending.values():
                store(idx[0], *_timed(compute, specs[idx[0]]))
        else:
            futures = {executor.submit(_timed, compute, specs[idx[0]]): idx[0] for idx in pending.values()}
            try:
                for fut in as_completed(futures):
                    store(futures[fut], *fut.result())
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
    finally:
        bar.close()
    return results


__all__ = ["check_executor", "Claim", "claims_table", "clip_params", "Config", "DASK_SCHEMES", "data_root_param",
           "DeclaredConfig", "device_param", "executor_param", "fmt_ci", "injected_names", "judge", "judge_all",
           "lock_path", "LR_RANGE", "mean_ci", "paper_data_check", "paper_vs_ours", "Param", "Params",
           "profile_default", "profile_param", "resolve_device", "restore_environ", "run_cached_grid", "run_grid",
           "seeds_param", "SerialExecutor", "spec_key", "styled", "usable_cores", "verdict_counts", "VERDICTS",
           "WorkerPool", "WORKERS", "worker_state", "workers_param"]
