"""The schedule search of ch3 (Sec. 2, A.1/A.2): TPE over ω = {t₀, τ, α} in parallel rounds, resumable.

* **TPE** (ch3 Sec. 2, Bergstra et al. 2011): optuna's ``TPESampler``; τ is searched in the log domain,
  t₀ and α in the linear domain (ch3 Sec. 2). The paper gives no ranges; :class:`SearchSpace` holds the
  chapter's, relative to T (spec, ambiguity 1).
* **Rounds** (A.1: "11 workers … repeat the parallel training 9 times"; A.2: 9 workers × 11): each round
  asks k trials, with ``constant_liar`` so the k proposals of one round spread out instead of piling on
  the same point, evaluates them together (in parallel, on any executor) and tells the results before
  the next round. The paper's "a trial ω which stems from the one that performs best so far" is read as
  TPE's conditioning on the good trials, not a local mutation (spec, ambiguity 2). The first round is
  TPE's random start-up (``n_startup_trials`` = k).
* **Resumable**: the study lives in a storage URL (a SQLite file by default; any SQLAlchemy URL, e.g.
  PostgreSQL, works, and ``optuna-dashboard <url>`` opens it). Each round's sampler is seeded from
  (seed, round), so the proposals of round r depend only on the trials told before it: a search killed
  between rounds and resumed ends with exactly the trials of an uninterrupted one. Trials a killed search
  had asked but not told (state RUNNING) are evaluated again with the same ω (their runs are usually in
  the run cache already) and told. A kill in the middle of a round's asks (milliseconds) can change that
  round's later proposals.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: The user attribute that records a trial's round.
ROUND = "round"


@dataclass(frozen=True)
class SearchSpace:
    """Ranges of ω relative to T: ``t0`` = t₀/T (linear), ``tau`` = τ/T (log), ``alpha`` = α (linear)."""

    t0: tuple[float, float] = (-0.5, 0.5)
    tau: tuple[float, float] = (1e-4, 10.0)
    alpha: tuple[float, float] = (-5.0, 5.0)

    def __post_init__(self):
        for name in ("t0", "tau", "alpha"):
            lo, hi = getattr(self, name)
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"search range {name}={[lo, hi]!r}: need two finite numbers, low < high")
        if not self.tau[0] > 0:
            raise ValueError(f"search range tau={list(self.tau)!r}: τ/T is searched in the log domain, so both "
                             "ends must be > 0")

    def distributions(self) -> dict:
        from optuna.distributions import FloatDistribution
        return {"t0": FloatDistribution(*self.t0), "tau": FloatDistribution(*self.tau, log=True),
                "alpha": FloatDistribution(*self.alpha)}


def sqlite_url(path) -> str:
    """The SQLAlchemy URL of a SQLite file (its folder is created)."""
    from pathlib import Path
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _round_seed(seed: int, round_index: int) -> int:
    return zlib.crc32(f"{seed}:{round_index}".encode())


@functools.lru_cache(maxsize=16)
def _storage(url: str):
    """One optuna storage per URL and process: opening an RDB storage checks its schema (a few tenths of a
    second), which every ask and tell would otherwise pay again."""
    import optuna
    return optuna.storages.get_storage(url)


def _study(name: str, storage: str, sampler=None):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(study_name=name, storage=_storage(storage), sampler=sampler, direction="maximize",
                               load_if_exists=True)


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}={value!r}: allowed is an integer ≥ 1")
    return value


@dataclass
class RoundSearch:
    """One TPE search in rounds (``name`` in ``storage``): :meth:`unfinished` are the trials an interrupted
    run left asked but untold, :meth:`ask` the missing trials of round r, :meth:`tell` records values."""

    name: str
    storage: str
    space: SearchSpace
    per_round: int
    seed: int = 0

    def __post_init__(self):
        _check_count("trials per round", self.per_round)

    def study(self, sampler=None):
        return _study(self.name, self.storage, sampler)

    def unfinished(self) -> list:
        """Trials asked but never told by an interrupted search (to evaluate again with the same ω);
        trials killed before their round was noted are marked failed (they were never evaluated)."""
        from optuna.trial import TrialState
        study = self.study()
        stored = study.get_trials(deepcopy=False)
        open_states = (TrialState.RUNNING, TrialState.WAITING)
        other = [t for t in stored if ROUND not in t.user_attrs and t.state not in open_states]
        if other:
            raise ValueError(f"study {self.name!r} in {self.storage} holds {len(other)} trials not made by a "
                             "round search")
        for t in stored:
            if ROUND not in t.user_attrs and t.state in open_states:
                study.tell(t.number, state=TrialState.FAIL)
        return [t for t in stored if t.state in open_states and ROUND in t.user_attrs]

    def ask(self, round_index: int) -> list:
        """The trials round ``round_index`` still needs (all of them, unless a resumed search already
        has some), proposed by TPE seeded from (seed, round)."""
        from optuna.samplers import TPESampler
        from optuna.trial import TrialState
        study = self.study()
        have = [t for t in study.get_trials(deepcopy=False)
                if t.user_attrs.get(ROUND) == round_index and t.state != TrialState.FAIL]
        missing = self.per_round - len(have)
        if missing <= 0:
            return []
        sampler = TPESampler(seed=_round_seed(self.seed, round_index), constant_liar=True,
                             n_startup_trials=self.per_round)
        study = self.study(sampler)
        trials = []
        for _ in range(missing):
            trial = study.ask(self.space.distributions())
            trial.set_user_attr(ROUND, round_index)
            trials.append(trial)
        return trials

    def tell(self, trials: Sequence, values: Sequence[float]) -> None:
        study = self.study()
        for trial, v in zip(trials, values):
            study.tell(trial if isinstance(trial, int) else trial.number, float(v))


def search_together(searches: Sequence[RoundSearch], evaluate: Callable[[list[tuple[int, dict]]], Sequence[float]],
                    *, rounds: int, progress: Callable[[int, int], None] | None = None) -> list:
    """Run (or resume) several round searches in lockstep to ``rounds`` rounds: each round asks every
    search's trials, evaluates them all together (``evaluate([(search index, ω), ...])`` returns each
    trial's target validation accuracy, computing them in parallel however it likes), then tells them.
    ``progress(round, rounds)`` is called after each round. Returns the searches' optuna studies."""
    _check_count("rounds", rounds)

    def run(batch: list[tuple[int, Any]]) -> None:
        if batch:
            values = evaluate([(i, dict(t.params)) for i, t in batch])
            for (i, t), v in zip(batch, values):
                searches[i].tell([t.number], [v])

    run([(i, t) for i, s in enumerate(searches) for t in s.unfinished()])
    for r in range(rounds):
        run([(i, t) for i, s in enumerate(searches) for t in s.ask(r)])
        if progress is not None:
            progress(r + 1, rounds)
    return [s.study() for s in searches]


def search_rounds(name: str, storage: str, evaluate: Callable[[list[dict]], Sequence[float]], *,
                  space: SearchSpace, per_round: int, rounds: int, seed: int = 0,
                  progress: Callable[[int, int], None] | None = None):
    """One search of :func:`search_together`: ``evaluate(list of ω dicts)``; returns its optuna study."""
    search = RoundSearch(name, storage, space, per_round, seed)
    return search_together([search], lambda batch: evaluate([w for _, w in batch]), rounds=rounds,
                           progress=progress)[0]


def completed(study) -> list:
    """The study's completed trials in the order they were asked."""
    from optuna.trial import TrialState
    return sorted((t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE),
                  key=lambda t: t.number)


def best_so_far(values: Sequence[float]) -> list[float]:
    """The running maximum of the trials' values (the convergence curve)."""
    out, best = [], -math.inf
    for v in values:
        best = max(best, v)
        out.append(best)
    return out


def best_replacements(values: Sequence[float]) -> int:
    """How often a trial beat the best so far, the first trial not counted (ch3 footnote 2: 5.8 on
    average over the paper's searches; our reading of "replacing the best performing parameter set")."""
    count, best = 0, None
    for v in values:
        if best is not None and v > best:
            count += 1
        best = v if best is None else max(best, v)
    return count


__all__ = ["ROUND", "RoundSearch", "SearchSpace", "best_replacements", "best_so_far", "completed", "search_rounds",
           "search_together", "sqlite_url"]
