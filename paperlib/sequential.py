"""Sequential multi-domain fine-tuning with tangent linearization and gradient calibration (ch1).

Chapter 1's paper fine-tunes one CLIP image encoder on four *target* tasks and measures what it
keeps on four *reference* tasks it never trains on (Sec. 4). Its methods (Secs. 3.3, 5.2, 5.4):

* ``CLIP``: the pre-trained model, zero-shot.
* ``B-Stand`` / ``B-TL`` (Sec. 5.2): each target fine-tuned separately from θ0, standard / in the
  tangent space (linearized, ch1 Sec. 3.1), merged as θ0 + α Σ_t τ_t, i.e. equal weights between the
  tasks, with α chosen on the targets' validation splits over [0, 1] step 0.05 by *mean target
  accuracy* (:func:`merge`).
* ``S-Stand`` / ``S-TL`` (Secs. 3.3, 5.2): one model fine-tuned on the targets in turn, each task
  starting from the previous task's weights, in curriculum order (:func:`curriculum_order`). A
  linearized sequence keeps its linearization point θ0 throughout: every task trains the same
  f_lin(x; θ) = f(x; θ0) + J(θ0)(θ − θ0).
* ``S-TL-p{c}`` (Sec. 3.3): S-TL whose gradient is calibrated against the other tasks' task vectors
  (:class:`~paperlib.surgery.ProjectionCalibrator`, strength c); ``S-TL-a{c}`` (Sec. 5.4) with sign
  agreement instead (:class:`~paperlib.surgery.SignCalibrator`).
* ``S-TL-p{c}-{n}`` (Sec. 3.3): n rounds over the targets, each task's training split into n equal
  parts (:func:`split_iterations`), so the total per task is unchanged.

Readings of the paper chosen here (each also stated in the chapter):

* *Which vectors are the references.* The task vector of task j inside a sequence is the sum of the
  weight changes made while training task j (its segments' θ_end − θ_start); "the latest available
  task vector" (Sec. 3.3) is that sum after j's most recent segment. Task k calibrates against the
  tasks trained before it in the sequence (in round 1 only the earlier ones: "the weight update
  directions from previous tasks"; from round 2 on, every other target). The *first* task has none
  yet, so it is "pre-calibrated" against the B-TL task vectors of the other targets (Sec. 3.3).
* *S-Stand's pre-calibration* (Sec. 5.2 says its first task is pre-calibrated with the B-TL vectors
  but gives no strength): projection with c = 0.5, the paper's main strength; its later tasks are not
  calibrated. S-TL (c = 0) has no calibration at all, so its first segment *is* the single-task B-TL
  run and is loaded from the run cache.
* *Optimizer and schedule per segment.* Each segment is a fresh fine-tuning run from the previous
  weights (Sec. 3.3: "the model weights fine-tuned from the previous domain as the initial weights"):
  a new AdamW and its own warm-up + cosine schedule, with the warm-up scaled by the segment's share of
  the task's iterations. Round r > 0 draws its mini-batches with seed + 1000·r, so rounds see
  different batches.
* *Curriculum* (Sec. 3.4): descending single-task standard fine-tuning accuracy, measured on the
  *validation* split (the paper uses validation for every hyper-parameter choice, Sec. 4); ties go to
  the task's name.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .arithmetic import EditedEncoder, evaluate
from .clip_tasks import EvalSet, build_encoder, encoder_state, load_encoder_state, task_data
from .config import check_int_range
from .finetune import FinetuneConfig, finetune, train_loop
from .models.clip import ClipBundle, model_id
from .store import Checkpoint, artifact_path, cached_result, cached_run, load_tensors, run_path, save_tensors
from .surgery import calibrator_class, check_strength
from .task_vectors import ALPHA_GRID, TaskVector, check_alpha_grid, search_alpha

#: Sec. 5.1: total training epochs per target task on the paper's datasets (following [20]).
PAPER_EPOCHS: dict[str, int] = {"EuroSAT": 12, "RESISC45": 11, "Cars": 35, "DTD": 76}

#: The method names :func:`parse_method` accepts ({c} a number in [0, 1], {n} an integer ≥ 1).
METHOD_FORMS = ("CLIP", "B-Stand", "B-TL", "S-Stand", "S-TL", "S-TL-p{c}", "S-TL-p{c}-{n}", "S-TL-a{c}",
                "S-TL-a{c}-{n}")
#: S-Stand's first task is pre-calibrated with this projection strength (module docstring).
S_STAND_PRECALIBRATION = 0.5

_SEQ = re.compile(r"^S-TL-(?P<kind>[pa])(?P<c>\d+(?:\.\d+)?)(?:-(?P<n>\d+))?$")


@dataclass(frozen=True)
class Method:
    """One of the paper's methods (module docstring).

    ``family``: ``zero_shot``, ``merge`` or ``sequential``; ``paradigm``: ``non_linear`` (standard) or
    ``linearized`` (tangent); ``calibration``: ``none``, ``pcgrad`` (projection) or ``sign``, with
    strength ``c``; ``rounds``: n; ``precalibration``: ``(calibration, c)`` for the first task against
    the B-TL vectors of the others, or ``None``.
    """

    name: str
    family: str
    paradigm: str | None = None
    calibration: str = "none"
    c: float = 0.0
    rounds: int = 1
    precalibration: tuple[str, float] | None = None


def parse_method(name: str) -> Method:
    """The :class:`Method` a name stands for; ``ValueError`` naming the bad name and the forms allowed."""
    fixed = {"CLIP": Method("CLIP", "zero_shot"),
             "B-Stand": Method("B-Stand", "merge", "non_linear"),
             "B-TL": Method("B-TL", "merge", "linearized"),
             "S-Stand": Method("S-Stand", "sequential", "non_linear",
                               precalibration=("pcgrad", S_STAND_PRECALIBRATION)),
             "S-TL": Method("S-TL", "sequential", "linearized")}
    if not isinstance(name, str):
        raise ValueError(f"method names are strings; got {name!r}")
    if name in fixed:
        return fixed[name]
    m = _SEQ.match(name)
    if m is None:
        raise ValueError(f"unknown method {name!r}; allowed: {', '.join(METHOD_FORMS)} "
                         "(c a strength in [0, 1], n a number of rounds ≥ 1), e.g. 'S-TL-p0.5-11'")
    c = float(m["c"])
    if not 0.0 <= c <= 1.0:
        raise ValueError(f"method {name!r}: calibration strength c={m['c']} is out of range; allowed: [0, 1]")
    n = int(m["n"]) if m["n"] is not None else 1
    if n < 1:
        raise ValueError(f"method {name!r}: the number of rounds n={n} is out of range; allowed: n ≥ 1")
    calibration = "pcgrad" if m["kind"] == "p" else "sign"
    return Method(name, "sequential", "linearized", calibration, c, n, (calibration, c))


def method_name(calibration: str, c: float, rounds: int = 1) -> str:
    """The name of a calibrated S-TL method, e.g. ``method_name("pcgrad", 0.5, 11) == "S-TL-p0.5-11"``."""
    c = check_strength(c)
    check_int_range(rounds, "rounds (n)", 1)
    letter = {"pcgrad": "p", "sign": "a"}[calibration]
    return f"S-TL-{letter}{c:g}" + (f"-{rounds}" if rounds > 1 else "")


def check_order(order: Sequence[str], targets: Sequence[str]) -> tuple[str, ...]:
    """A training order must be a permutation of the target tasks: no duplicates, nothing unknown,
    nothing missing; ``ValueError`` names the problem."""
    order = tuple(order)
    dup = sorted({t for t in order if order.count(t) > 1})
    if dup:
        raise ValueError(f"training order {list(order)} repeats {dup}; each target task appears once")
    unknown = [t for t in order if t not in targets]
    if unknown:
        raise ValueError(f"training order {list(order)} has unknown tasks {unknown}; targets: {list(targets)}")
    missing = [t for t in targets if t not in order]
    if missing:
        raise ValueError(f"training order {list(order)} misses targets {missing}")
    return order


def curriculum_order(accuracies: Mapping[str, float]) -> tuple[str, ...]:
    """Sec. 3.4: ascending task difficulty, i.e. descending accuracy of single-task standard
    fine-tuning (the paper's EuroSAT, RESISC45, Cars, DTD); ties go to the task's name."""
    if not accuracies:
        raise ValueError("curriculum_order needs the single-task accuracy of at least one task")
    bad = {t: a for t, a in accuracies.items() if not isinstance(a, (int, float)) or math.isnan(a)}
    if bad:
        raise ValueError(f"single-task accuracies must be numbers; got {bad}")
    return tuple(sorted(accuracies, key=lambda t: (-float(accuracies[t]), t)))


def split_iterations(total: int, rounds: int) -> list[int]:
    """A task's ``total`` iterations split over n = ``rounds`` rounds (Sec. 3.3: epochs per round
    divided by n), as evenly as possible (earlier rounds take the remainder); they sum to ``total``."""
    check_int_range(total, "iterations per task", 1)
    check_int_range(rounds, "rounds (n)", 1)
    if rounds > total:
        raise ValueError(f"rounds n={rounds} exceeds the task's {total} iterations; allowed: 1 ≤ n ≤ {total}")
    base, extra = divmod(total, rounds)
    return [base + (1 if r < extra else 0) for r in range(rounds)]


@dataclass(frozen=True)
class Segment:
    """One stretch of training in a sequence: ``task`` in round ``round`` for ``iterations`` steps."""

    round: int
    task: str
    iterations: int
    warmup: int


def plan_segments(order: Sequence[str], iterations: Mapping[str, int], warmup: Mapping[str, int],
                  rounds: int = 1) -> list[Segment]:
    """The segments of an n-round sequence (Sec. 3.3): round by round, the tasks in ``order``, each
    with its share of its iterations and a warm-up scaled by that share (module docstring)."""
    out = []
    splits = {t: split_iterations(iterations[t], rounds) for t in order}
    for r in range(rounds):
        for t in order:
            k = splits[t][r]
            out.append(Segment(r, t, k, min(k, round(warmup[t] * k / iterations[t]))))
    return out


def all_orders(targets: Sequence[str]) -> list[tuple[str, ...]]:
    """Every training order of the targets (24 for four; Table 4)."""
    return list(itertools.permutations(targets))


def iterations_per_task(task: str, profile: str, default: int, n_train: int | None = None,
                        batch_size: int = 128) -> int:
    """Training iterations of one target task: on ``paper``, Sec. 5.1's epochs × ⌈train size / batch⌉
    (for a task without epochs in the paper, ``default``); on the embedded profiles, the fine-tuning
    protocol's ``default`` for every task, as chapter 5 (so the two chapters share their runs)."""
    if profile == "paper" and task in PAPER_EPOCHS:
        if n_train is None:
            raise ValueError(f"the paper profile needs the size of {task}'s train split to turn epochs into steps")
        return PAPER_EPOCHS[task] * math.ceil(n_train / batch_size)
    return default


@dataclass(frozen=True)
class SequenceSpec:
    """A sequential run: its identity in the run cache (every field) and what :class:`Sequencer` needs.

    ``iterations`` / ``warmup``: per target, as ``(task, value)`` pairs; ``btl_vectors``: ``(task, file)``
    of the B-TL task vectors used for pre-calibration (empty without it); ``eval_tasks``: where the
    final model is tested (targets, then references).
    """

    method: str
    order: tuple[str, ...]
    seed: int
    profile: str
    weights: str
    lr: float
    batch_size: int
    weight_decay: float
    grad_clip: float
    iterations: tuple[tuple[str, int], ...]
    warmup: tuple[tuple[str, int], ...]
    btl_vectors: tuple[tuple[str, str], ...]
    eval_tasks: tuple[str, ...]
    model: str | None = None
    pretrained: str | None = None
    data_root: str | None = None
    test_per_class: int | None = None
    eval_images: int | None = None  # the test sets' cap (paperlib.data.dataset.limited); identity only when set

    # Derived from the (frozen) fields once: the run loop asks for them at every segment.
    @cached_property
    def parsed(self) -> Method:
        return parse_method(self.method)

    @cached_property
    def _segments(self) -> tuple[Segment, ...]:
        return tuple(plan_segments(self.order, dict(self.iterations), dict(self.warmup), self.parsed.rounds))

    @cached_property
    def _base_key(self) -> tuple:
        m = self.parsed
        base = {f: v for f, v in self.identity().items() if f not in ("method", "order", "eval_tasks")}
        return (repr(sorted(base.items())), m.paradigm, m.calibration, m.c, m.precalibration)

    def segments(self) -> list[Segment]:
        return list(self._segments)

    def identity(self) -> dict:
        ident = dataclasses.asdict(self)
        if ident["eval_images"] is None:  # whole-split sequences keep the identity they had before the field
            del ident["eval_images"]
        return ident

    def prefix_key(self, k: int) -> tuple:
        """Identity of the state after the first ``k`` segments: shared by specs that train the same
        segments the same way (the 24 orders of Table 4 share their prefixes)."""
        return (*self._base_key, self._segments[:k])


@dataclass
class _State:
    """θ after some segments, each task's task vector so far (sum of its segments' changes) and the
    per-segment records."""

    theta: dict[str, torch.Tensor]
    vectors: dict[str, dict[str, torch.Tensor]]
    records: list[dict]

    def copy(self) -> "_State":
        return _State(dict(self.theta), {t: dict(v) for t, v in self.vectors.items()}, list(self.records))


class Sequencer:
    """Runs :class:`SequenceSpec` s (cached; kind ``ch1_sequence``) and evaluates the final model.

    Args:
        bundle: the pre-trained CLIP model (θ0).
        test_sets: task → ``(images, labels, head, key)`` for every evaluated task
            (:func:`paperlib.arithmetic.evaluate`).
        device, progress: where to train; whether to show progress bars.
    """

    def __init__(self, bundle: ClipBundle, test_sets: Mapping[str, EvalSet], device: str = "cpu",
                 progress: bool = True):
        self.bundle, self.test_sets, self.device, self.progress = bundle, dict(test_sets), device, progress
        self._train: dict[str, object] = {}
        self._heads: dict[str, torch.nn.Module] = {}
        self._theta0: dict[str, dict[str, torch.Tensor]] = {}
        self._btl: dict[str, TaskVector] = {}
        self._editors: dict[str, EditedEncoder] = {}  # one per paradigm, for evaluating end points

    # -- data and the pre-trained state -------------------------------------------------------------
    def _data(self, spec: SequenceSpec, task: str):
        if task not in self._train:
            train = task_data(task, "train", spec.profile, self.bundle, spec.data_root)
            self._train[task] = train
            self._heads[task] = self.bundle.head(train.classnames, train.templates)
        return self._train[task], self._heads[task]

    def theta0(self, paradigm: str) -> dict[str, torch.Tensor]:
        if paradigm not in self._theta0:
            enc, _ = build_encoder(self.bundle, paradigm)
            self._theta0[paradigm] = {k: v.detach().clone() for k, v in encoder_state(enc).items()}
        return self._theta0[paradigm]

    def _btl_vector(self, file: str) -> TaskVector:
        """A B-TL task vector of the run cache, loaded once (every pre-calibrated sequence of a seed
        uses the same ones)."""
        if file not in self._btl:
            self._btl[file] = TaskVector(load_tensors(run_path("finetune", {}).parent / file))
        return self._btl[file]

    @staticmethod
    def vector_path(spec: SequenceSpec) -> Path:
        """The final model's edit θ_final − θ0 (safetensors beside the cached result)."""
        return artifact_path("ch1_sequence", spec.identity(), "edit")

    # -- one segment --------------------------------------------------------------------------------
    def _finetune_config(self, spec: SequenceSpec, seg: Segment, paradigm: str) -> FinetuneConfig:
        return FinetuneConfig(task=seg.task, paradigm=paradigm, profile=spec.profile, model=spec.model,
                              pretrained=spec.pretrained, iterations=seg.iterations, lr=spec.lr,
                              batch_size=spec.batch_size, warmup=seg.warmup, weight_decay=spec.weight_decay,
                              grad_clip=spec.grad_clip, seed=spec.seed, data_root=spec.data_root)

    def _references(self, spec: SequenceSpec, k: int, seg: Segment, state: _State) -> tuple[list, tuple | None]:
        """(reference task vectors, (calibration, c)) for segment ``k`` (module docstring)."""
        m = spec.parsed
        if k == 0:
            if m.precalibration is None or m.precalibration[1] == 0.0:
                return [], None
            # in a fixed order (not the training order): the first segment then depends
            # only on its own task (alphabetical), so every order starting with that task shares it
            files = dict(spec.btl_vectors)
            others = [t for t in sorted(spec.order) if t != seg.task]
            missing = [t for t in others if t not in files]
            if missing:
                raise ValueError(f"{spec.method} pre-calibrates with the B-TL task vectors of {missing}, "
                                 "which the spec does not name")
            return [self._btl_vector(files[t]) for t in others], m.precalibration
        if m.calibration == "none" or m.c == 0.0:
            return [], None
        return [state.vectors[t] for t in spec.order if t != seg.task and t in state.vectors], (m.calibration, m.c)

    def _advance(self, spec: SequenceSpec, k: int, state: _State, ckpt: Checkpoint | None,
                 resume: tuple[dict, dict] | None = None) -> _State:
        """Train segment ``k`` from ``state``; returns the new state (``state`` is not modified)."""
        m, seg = spec.parsed, spec.segments()[k]
        cfg = self._finetune_config(spec, seg, m.paradigm)
        refs, calibration = self._references(spec, k, seg, state)
        theta0 = self.theta0(m.paradigm)
        new = state.copy()
        if k == 0 and calibration is None and m.rounds == 1:
            # No calibration from θ0 with the task's whole budget: this segment *is* the single-task
            # fine-tuning run (B-Stand / B-TL), so load it from the run cache.
            run = finetune(cfg, self.bundle, progress=False, device=self.device)
            tau = run.task_vector()
            new.theta = tau.apply(theta0, 1.0)
            new.vectors[seg.task] = tau.to_tensors()
            new.records.append(dict(task=seg.task, round=seg.round, iterations=seg.iterations,
                                    final_loss=run.result["loss"][-1], conflict_rate=None, references=0,
                                    seconds=run.result["train_seconds"], from_single_task_run=True))
            return new
        torch.manual_seed(spec.seed)
        encoder, names = build_encoder(self.bundle, m.paradigm)
        encoder.to(self.device)
        start = {n: v.to(self.device) for n, v in state.theta.items()}
        load_encoder_state(encoder, start)
        calibrator = None
        if refs:  # references −τ (gradient convention, see paperlib.surgery), flattened in θ's order
            calibrator = calibrator_class(calibration[0]).from_task_vectors(refs, names, calibration[1], self.device)
        if resume is not None:
            load_encoder_state(encoder, {n[6:]: v.to(self.device) for n, v in resume[0].items()
                                         if n.startswith("theta.")})
        train, head = self._data(spec, seg.task)

        def save(tensors: dict, loop_state: dict) -> None:
            if ckpt is not None:
                ckpt.save({**_pack(state, spec.order, encoder_state(encoder)), **tensors},
                          {"segment": k, "records": state.records, "loop": loop_state})

        # one bar per sequence list (run_all), none per segment: a chapter runs hundreds of segments
        history, seconds, _ = train_loop(cfg, encoder, names, head.to(self.device), train, device=self.device,
                                         progress=False, desc=f"{spec.method} r{seg.round} {seg.task}",
                                         data_seed=spec.seed + 1000 * seg.round, calibrator=calibrator,
                                         resume=resume, save=save)
        end = {n: v.detach().cpu().clone() for n, v in encoder_state(encoder).items()}
        delta = {n: end[n] - state.theta[n] for n in names}
        prev = state.vectors.get(seg.task)
        new.theta = end
        new.vectors[seg.task] = delta if prev is None else {n: prev[n] + delta[n] for n in names}
        new.records.append(dict(task=seg.task, round=seg.round, iterations=seg.iterations, final_loss=history[-1],
                                conflict_rate=None if calibrator is None else calibrator.conflict_rate(),
                                references=len(refs), seconds=seconds, from_single_task_run=False))
        return new

    # -- whole sequences ----------------------------------------------------------------------------
    def _evaluate(self, spec: SequenceSpec, state: _State) -> dict:
        path = self.vector_path(spec)
        edit = self._edit(spec, state)
        save_tensors(edit, path, {"method": spec.method, "order": ",".join(spec.order)})
        test = self._accuracies(spec, edit)
        return {"method": spec.method, "order": list(spec.order), "seed": spec.seed, "test": test,
                "segments": state.records, "train_seconds": float(sum(r["seconds"] for r in state.records)),
                "edit_file": path.name}

    def trajectory(self, spec: SequenceSpec) -> list[dict]:
        """Test accuracy on every evaluated task after each segment of ``spec`` (and before the
        first): what each task's training does to the tasks trained before it and to the references
        (forgetting). Re-trains the sequence in memory; cached (kind ``ch1_trajectory``)."""
        def compute() -> list[dict]:
            m = spec.parsed
            state = _State(dict(self.theta0(m.paradigm)), {}, [])
            rows = [dict(after="pre-trained", round=None, test=self._accuracies(spec, self._edit(spec, state)))]
            for k, seg in enumerate(spec.segments()):
                state = self._advance(spec, k, state, None)
                rows.append(dict(after=seg.task, round=seg.round, test=self._accuracies(spec, self._edit(spec, state))))
            return rows
        return cached_run("ch1_trajectory", spec.identity(), compute)

    def _edit(self, spec: SequenceSpec, state: _State) -> TaskVector:
        """θ − θ0 of a state: the edit that turns the pre-trained model into the sequence's model."""
        theta0 = self.theta0(spec.parsed.paradigm)
        return TaskVector({n: state.theta[n] - theta0[n] for n in theta0})

    def _accuracies(self, spec: SequenceSpec, edit: TaskVector) -> dict[str, float]:
        paradigm = spec.parsed.paradigm
        if paradigm not in self._editors:  # the encoder of a paradigm is built once
            self._editors[paradigm] = EditedEncoder(self.bundle, paradigm, {"model": edit}, device=self.device,
                                                    memoise=False)
        edited = self._editors[paradigm]
        edited.set_vectors({"model": edit})
        return evaluate(edited, {"model": 1.0}, {t: self.test_sets[t] for t in spec.eval_tasks})

    def run(self, spec: SequenceSpec) -> dict:
        return self.run_all([spec])[0]

    @staticmethod
    def has_trajectory(spec: SequenceSpec) -> bool:
        """Whether :meth:`trajectory` of ``spec`` would only load."""
        return cached_result("ch1_trajectory", spec.identity()) is not None

    @staticmethod
    def is_cached(spec: SequenceSpec) -> bool:
        """Whether ``spec`` has finished (its record verifies); :meth:`run_all` verifies its edit when
        it loads it, and recomputes a damaged one."""
        return cached_result("ch1_sequence", spec.identity()) is not None

    @staticmethod
    def families(specs: Sequence[SequenceSpec]) -> list[tuple[SequenceSpec, ...]]:
        """``specs`` grouped by their first segment, largest first: a group's specs can share trained
        prefixes (:meth:`run_all`), so each group is one job for a worker process."""
        groups: dict[tuple, list[SequenceSpec]] = {}
        for spec in dict.fromkeys(specs):
            groups.setdefault(spec.prefix_key(1), []).append(spec)
        return sorted((tuple(g) for g in groups.values()),
                      key=lambda g: -sum(n for s in g for _, n in s.iterations))

    def run_all(self, specs: Sequence[SequenceSpec], desc: str = "sequences") -> list[dict]:
        """Results of every spec (cached ones loaded). Uncached specs run in an order that lets
        specs sharing their first segments (same method and start) train them once: the state after
        a shared prefix is kept in memory while another pending spec still needs it. A run that was
        interrupted resumes from its checkpoint (saved at every segment boundary and every
        ``checkpoint_every`` steps)."""
        results: dict[int, dict] = {}
        pending = []
        for i, spec in enumerate(specs):
            stored = cached_result("ch1_sequence", spec.identity(), artifacts=("edit",))
            if stored is not None:
                results[i] = stored[0]
            else:
                pending.append(i)
        pending.sort(key=lambda i: repr([specs[i].prefix_key(0)]
                                        + [dataclasses.astuple(s) for s in specs[i].segments()]))
        uses: dict[tuple, int] = {}
        for i in pending:
            for k in range(1, len(specs[i].segments())):
                uses[specs[i].prefix_key(k)] = uses.get(specs[i].prefix_key(k), 0) + 1
        memo: dict[tuple, _State] = {}
        for i in tqdm(pending, desc=desc, disable=not self.progress):
            spec = specs[i]

            def compute(spec=spec) -> dict:
                state = self._run_segments(spec, memo, uses)
                return self._evaluate(spec, state)

            results[i] = cached_run("ch1_sequence", spec.identity(), compute, force=True)
            for k in range(1, len(spec.segments())):  # free prefixes no pending spec needs any more
                key = spec.prefix_key(k)
                uses[key] -= 1
                if uses[key] <= 0:
                    memo.pop(key, None)
        return [results[i] for i in range(len(specs))]

    def _run_segments(self, spec: SequenceSpec, memo: dict, uses: dict) -> _State:
        segs = spec.segments()
        ckpt = Checkpoint("ch1_sequence", spec.identity())
        loaded = ckpt.load()
        m = spec.parsed
        state, k0, resume = _State(dict(self.theta0(m.paradigm)), {}, []), 0, None
        if loaded is not None:
            tensors, saved = loaded
            state = _unpack(tensors, saved["records"], spec.order)
            k0 = saved["segment"]
            resume = (tensors, saved["loop"]) if saved.get("loop") else None
        else:
            for k in range(len(segs) - 1, 0, -1):
                if spec.prefix_key(k) in memo:
                    state, k0 = memo[spec.prefix_key(k)].copy(), k
                    break
        for k in range(k0, len(segs)):
            state_before = state
            state = self._advance(spec, k, state, ckpt, resume if k == k0 else None)
            key = spec.prefix_key(k + 1)
            if k + 1 < len(segs):
                ckpt.save(_pack(state, spec.order), {"segment": k + 1, "records": state.records, "loop": None})
                if uses.get(key, 0) > 1:
                    memo[key] = state
            del state_before
        ckpt.clear()
        return state


def _pack(state: _State, order: Sequence[str], current: Mapping[str, torch.Tensor] | None = None) -> dict:
    """A state as flat tensors for a checkpoint: the θ and task vectors at the start of the current
    segment (``start.theta.``, ``start.vec.<task index>.``) and, mid-segment, the current θ (``theta.``)."""
    out = {f"start.theta.{n}": v for n, v in state.theta.items()}
    for t, vec in state.vectors.items():
        out.update({f"start.vec.{order.index(t)}.{n}": v for n, v in vec.items()})
    if current is not None:
        out.update({f"theta.{n}": v for n, v in current.items()})
    return out


def _unpack(tensors: Mapping[str, torch.Tensor], records: list, order: Sequence[str]) -> _State:
    theta = {n[len("start.theta."):]: v for n, v in tensors.items() if n.startswith("start.theta.")}
    vectors: dict[str, dict] = {}
    for n, v in tensors.items():
        if n.startswith("start.vec."):
            idx, name = n[len("start.vec."):].split(".", 1)
            vectors.setdefault(order[int(idx)], {})[name] = v
    return _State(theta, vectors, list(records))


# --- B-Stand / B-TL --------------------------------------------------------------------------------

def merge(bundle: ClipBundle, paradigm: str, vectors: Mapping[str, TaskVector], val_sets: Mapping[str, EvalSet],
          test_sets: Mapping[str, EvalSet], grid: Sequence[float] = ALPHA_GRID, device: str = "cpu") -> dict:
    """B-Stand / B-TL (Sec. 5.2): θ0 + α Σ_t τ_t with equal weights between the targets' task vectors
    and α chosen on the targets' validation splits by *mean accuracy* (not chapter 5's normalized
    accuracy), over [0, 1] step 0.05; ties go to the smallest α. Returns ``alpha``, ``val_curve``
    and ``test`` (task → accuracy on every task of ``test_sets``)."""
    grid = check_alpha_grid(grid)
    missing = sorted(set(val_sets) - set(vectors))
    if missing:
        raise ValueError(f"no task vector for the validation tasks {missing}")
    edited = EditedEncoder(bundle, paradigm, vectors, device=device)

    def score(alpha: float) -> float:
        return float(np.mean(list(evaluate(edited, dict.fromkeys(vectors, alpha), val_sets).values())))

    alpha, curve = search_alpha(score, grid)
    test = evaluate(edited, dict.fromkeys(vectors, alpha), test_sets)
    return {"alpha": alpha, "val_curve": {str(a): s for a, s in curve.items()}, "test": test}


def summarize(test: Mapping[str, float], targets: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Table 3's rows: mean accuracy over the targets (tgt), the references (ref) and all tasks (all)."""
    tgt = float(np.mean([test[t] for t in targets]))
    ref = float(np.mean([test[t] for t in references])) if references else float("nan")
    return {"tgt": tgt, "ref": ref, "all": float(np.mean([test[t] for t in (*targets, *references)]))}


def weights_id(bundle: ClipBundle) -> str:
    return model_id(bundle.name, bundle.pretrained)


__all__ = ["METHOD_FORMS", "PAPER_EPOCHS", "S_STAND_PRECALIBRATION", "Method", "Segment", "SequenceSpec", "Sequencer",
           "all_orders", "check_order", "curriculum_order", "iterations_per_task", "merge", "method_name",
           "parse_method", "plan_segments", "split_iterations", "summarize", "weights_id"]
