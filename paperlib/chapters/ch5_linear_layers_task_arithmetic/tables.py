"""Chapter 5's tables: Table 1 and Table 2 beside the paper's (numbers from :mod:`paperlib.reference`),
single-task accuracies, one-vector interference, and the shipped foundation model's recipe."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ...data import benchmark
from ...data.embedded.base import DOMAINS
from ...models.clip import SHIPPED_CONFIG, TINY_MODEL, model_id, weights_checksum
from ...reference import CH5_TABLE1, CH5_TABLE2
from ..kit import fmt_ci, paper_vs_ours
from .config import LEARNABLE_GAIN, PARADIGM_LABELS, REGIME_GATE, Ch5Config
from .experiment import setting_name


def table1(cfg: Ch5Config, zero_shot: pd.DataFrame, addition: pd.DataFrame, paper_model: str,
           label: str) -> pd.DataFrame:
    """ch5 Table 1: task addition, absolute and normalized test accuracy (%), ours (mean [95% CI]
    over seeds) beside the paper's ``paper_model`` row, with the difference of the means."""
    ref = CH5_TABLE1[paper_model]
    rows = [dict(method="Pre-trained", accuracy="absolute", paper=ref["pretrained"]["abs"],
                 ours=float(zero_shot["test"].mean()), ours_text=f"{zero_shot['test'].mean():.1f}")]
    for paradigm in cfg.paradigms:
        d = addition[addition.setting == paradigm]
        if d.empty:
            continue
        for measure, col, key in (("absolute", "absolute", "abs"), ("normalized", "normalized", "norm")):
            rows.append(dict(method=PARADIGM_LABELS[paradigm], accuracy=measure, paper=ref[paradigm][key],
                             ours=float(d[col].mean()), ours_text=fmt_ci(d[col])))
    return paper_vs_ours(rows, label, index=["method", "accuracy"], wide="accuracy")


def table2(runs: pd.DataFrame, addition: pd.DataFrame, label: str) -> pd.DataFrame:
    """ch5 Table 2: single-task and multi-task accuracy (%) of linear-only variants (1)–(4), ours beside
    the paper's (ViT-B-32; variants (2)–(4) run with the first seed only)."""
    rows = []
    for v in (1, 2, 3, 4):
        s = setting_name("linear_only", v)
        d, r = addition[addition.setting == s], runs[runs.setting == s]
        if d.empty:
            continue
        seeds = sorted(d.seed)
        single = r[r.seed.isin(seeds)].groupby("seed").test.mean()
        p = CH5_TABLE2[v]
        common = dict(variant=f"({v})", parameters=int(r.parameters.iloc[0]), seeds=len(seeds))
        for measure, ours, key in (("single-task", single.mean(), "single_task"),
                                   ("absolute", d.absolute.mean(), "abs"), ("normalized", d.normalized.mean(), "norm")):
            rows.append(dict(common, accuracy=measure, paper=p[key], ours=float(ours), ours_text=f"{ours:.2f}"))
    return paper_vs_ours(rows, label, index=["variant", "accuracy"], wide="accuracy")


def single_task_table(runs: pd.DataFrame, zero_shot: pd.DataFrame, paradigms) -> pd.DataFrame:
    """Test accuracy (%) per task: zero-shot and each paradigm's fine-tuned model (mean over seeds)."""
    main = runs[runs.setting.isin(paradigms)]
    t = main.groupby(["task", "setting"]).test.mean().unstack("setting")[list(paradigms)]
    t.insert(0, "zero-shot", zero_shot.set_index("task").test)
    t.loc["mean"] = t.mean()
    return t.round(1)



def fine_tuning_gains(single: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Per task and paradigm, fine-tuned minus zero-shot test accuracy (points; from
    :func:`single_task_table`), and per paradigm label the tasks that gain less than
    :data:`~.config.LEARNABLE_GAIN`."""
    tasks = single.drop(index="mean")
    gains = tasks.drop(columns="zero-shot").sub(tasks["zero-shot"], axis=0)
    short = {PARADIGM_LABELS[p]: [t for t in gains.index if gains.loc[t, p] < LEARNABLE_GAIN] for p in gains.columns}
    return gains, short

def interference_summary(inter: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per paradigm: mean gain on the vector's own task and mean change on the other tasks (points)."""
    rows = []
    for p, m in inter.items():
        a = m.values
        off = ~np.eye(len(a), dtype=bool)
        rows.append({"paradigm": PARADIGM_LABELS[p], "own task (diagonal)": float(np.diag(a).mean()),
                     "other tasks (off-diagonal)": float(a[off].mean()),
                     "worst other task": float(a[off].min())})
    return pd.DataFrame(rows).set_index("paradigm").round(1)


def addition_vs_pretrained(cfg: Ch5Config, single: pd.DataFrame, addition: pd.DataFrame) -> pd.DataFrame:
    """Per paradigm: the chosen α (mean over seeds) and task addition's absolute test accuracy minus
    the pre-trained model's (points, mean over seeds)."""
    zs = float(single.loc["mean", "zero-shot"])
    rows = []
    for p in cfg.paradigms:
        d = addition[addition.setting == p]
        if len(d):
            rows.append({"paradigm": PARADIGM_LABELS[p], "alpha": float(d.alpha.mean()),
                         "gain": float(d.absolute.mean()) - zs})
    return pd.DataFrame(rows).set_index("paradigm")


def regime_gate(cfg: Ch5Config, single: pd.DataFrame, addition: pd.DataFrame,
                inter: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Is the profile in the papers' regime? Each criterion of :data:`~.config.REGIME_GATE` per
    paradigm it names (of those run): the measured number (points; own and other tasks from
    :meth:`~.experiment.Chapter5.interference`, first seed; addition as in :func:`addition_vs_pretrained`,
    mean over seeds), the bound and whether it is met."""
    summary = interference_summary(inter)
    gains = addition_vs_pretrained(cfg, single, addition)
    rows = []
    for p, other_bound in REGIME_GATE["other_change"].items():
        if p not in inter:
            continue
        label = PARADIGM_LABELS[p]
        for criterion, value, bound in (
                ("own task at α = 1", summary.loc[label, "own task (diagonal)"], REGIME_GATE["own_gain"]),
                ("other tasks at α = 1", summary.loc[label, "other tasks (off-diagonal)"], other_bound),
                ("task addition − zero-shot", gains.loc[label, "gain"] if label in gains.index else np.nan,
                 REGIME_GATE["addition_over_zero_shot"])):
            rows.append({"paradigm": label, "criterion": criterion, "measured": float(value),
                         "bound": f"≥ {bound:+.0f}", "met": "yes" if value >= bound else "no"})
    return pd.DataFrame(rows).set_index(["paradigm", "criterion"])


def attempt_record(cfg: Ch5Config, runs: pd.DataFrame, single: pd.DataFrame, addition: pd.DataFrame,
                   gate: pd.DataFrame, parameters: dict, label: str, seconds: float, commit: str | None) -> dict:
    """One attempt at the regime as ``scripts/regime_gate.py --out`` records it (JSON-ready): what
    was tried (``label``, the parameters given, the weights' identity, the tasks, the protocol), the
    gate (:func:`regime_gate`), the chosen α per paradigm, and when, where and how long (``seconds``
    this call, ``train_seconds`` the fine-tuning runs as trained, also when this call loaded them)."""
    return {"label": label, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "commit": commit,
            "seconds": round(seconds, 1), "train_seconds": round(float(runs.seconds.sum()), 1),
            "parameters": parameters,
            "model": model_id(cfg.model or TINY_MODEL, cfg.pretrained or "shipped"),
            "weights_checksum": weights_checksum(cfg.pretrained),
            "tasks": list(cfg.tasks), "protocol": {"iterations": cfg.iterations, "lr": cfg.lr,
                                                   "batch_size": cfg.batch_size, "seeds": list(cfg.seeds)},
            "zero_shot_test": float(single.loc["mean", "zero-shot"]),
            "alpha": addition_vs_pretrained(cfg, single, addition).alpha.to_dict(),
            "gate": json.loads(gate.reset_index().to_json(orient="records"))}


def protocol_label(lr: float, iterations: int, batch_size: int) -> str:
    """A fine-tuning protocol as :func:`regime_attempts` names it ("lr 0.0003 × 72 steps, batch 32")."""
    return f"lr {lr:g} × {iterations} steps, batch {batch_size}"


#: The gate's columns in :func:`regime_attempts`, by paradigm and criterion.
_ATTEMPT_COLUMNS = {("Non-linear", "own task at α = 1"): "NL own", ("Non-linear", "other tasks at α = 1"): "NL others",
                    ("Non-linear", "task addition − zero-shot"): "NL addition",
                    ("Linear layers only", "own task at α = 1"): "LO own",
                    ("Linear layers only", "other tasks at α = 1"): "LO others",
                    ("Linear layers only", "task addition − zero-shot"): "LO addition"}


def regime_attempts(folder: Path, tasks: tuple[str, ...]) -> pd.DataFrame:
    """The recorded attempts at the regime (``*.json`` in ``folder``, in file-name order, written by
    ``scripts/regime_gate.py --out``), oldest first: one row each with its foundation model, its
    benchmark (``tasks`` where it matches the given one, else which tasks differ), its protocol, the
    pre-trained model's zero-shot accuracy, the six gate numbers (NL non-linear, LO linear-only) and
    how many of them met their bound. An unreadable record raises ``ValueError`` naming the file."""
    rows = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            r = json.loads(path.read_text())
            gate = {(g["paradigm"], g["criterion"]): g for g in r["gate"]}
            p = r["protocol"]
            other = [t for t in r["tasks"] if t not in tasks]
            rows.append({"attempt": r["label"] or path.stem, "date": r["date"],
                         "weights": (r.get("weights_checksum") or r["model"].split(":")[-1])[:8],
                         "benchmark": "this chapter's" if not other else
                         f"{', '.join(other)} for {', '.join(t for t in tasks if t not in r['tasks'])}",
                         "protocol": protocol_label(p["lr"], p["iterations"], p["batch_size"]),
                         "zero-shot": r["zero_shot_test"],
                         **{c: gate[k]["measured"] if k in gate else np.nan for k, c in _ATTEMPT_COLUMNS.items()},
                         "met": f"{sum(g['met'] == 'yes' for g in r['gate'])} of {len(r['gate'])}",
                         "fine-tuning min": r["train_seconds"] / 60})
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"regime attempt record {path} is unreadable ({e!r}); allowed: a JSON file written by "
                             f"scripts/regime_gate.py --out") from e
    return pd.DataFrame(rows).sort_values("date", kind="stable").set_index("attempt") if rows else pd.DataFrame()


def mean_offdiag(m: pd.DataFrame) -> float:
    a = np.abs(m.values)
    return float(a[~np.eye(len(a), dtype=bool)].mean())


def box_mean(xi: np.ndarray, grid) -> float:
    """Mean ξ over the α search space [0, 1]² (the red box of Fig. 7)."""
    g = np.asarray(grid)
    inside = (g >= -1e-9) & (g <= 1 + 1e-9)
    return float(xi[np.ix_(inside, inside)].mean())


def foundation_summary() -> dict:
    """The shipped foundation model's recipe, corpus and recorded metrics (``shipped/tiny_clip``)."""
    config = json.loads(SHIPPED_CONFIG.read_text())
    metrics = json.loads(SHIPPED_CONFIG.with_name("metrics.json").read_text())
    tasks = set(benchmark("task_arithmetic_8", "embedded"))
    rows = [dict(domain=d, role="task" if d in tasks else "pre-training only",
                 classes_in_corpus=f"{len(c)} of {DOMAINS[d].n_classes}",
                 zero_shot_test=metrics["zero_shot_test"].get(d)) for d, c in config["corpus_plan"].items()]
    recipe = pd.DataFrame(rows).set_index("domain").sort_values("role", ascending=False)
    return {"recipe": recipe.round(1), "history": pd.DataFrame(metrics["history"]), "config": config,
            "zero_shot_test_mean": metrics["zero_shot_test_mean"], "train_seconds": metrics["train_seconds"]}


__all__ = ["addition_vs_pretrained", "attempt_record", "box_mean", "fine_tuning_gains", "foundation_summary",
           "interference_summary", "mean_offdiag", "protocol_label", "regime_attempts", "regime_gate",
           "single_task_table", "table1", "table2"]
