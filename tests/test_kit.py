"""The chapter kit (paperlib.chapters.kit): declared parameters, claims, paper-vs-ours tables, the grid runner."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from paperlib.chapters import kit
from paperlib.chapters.kit import Claim, Param, Params

PARAMS = Params("demo chapter", (
    kit.profile_param(),
    Param("tasks", "list[str]", "tasks", default=("a", "b"), choices=("a", "b", "c"), min_len=2),
    kit.seeds_param({"smoke": (0,), "embedded": (0, 1, 2), "paper": (0, 1, 2)}),
    Param("lr", "float", "learning rate", default=lambda p: 0.1 if p == "paper" else 0.01, **kit.LR_RANGE),
    Param("steps", "int", "steps", default=5, low=1, high=100),
    Param("root", "str", "a folder", nullable=True),
    kit.device_param(),
))


def test_defaults_per_profile_and_a_frozen_config():
    c = PARAMS.resolve(profile="smoke")
    assert c.seeds == (0,) and c.lr == 0.01 and c.tasks == ("a", "b") and c.root is None and c.device == "auto"
    assert PARAMS.resolve(profile="paper").lr == 0.1 and PARAMS.resolve().profile == "embedded"
    with pytest.raises(AttributeError):
        c.lr = 1.0
    assert dict(c)["steps"] == 5


def test_papermill_strings_are_accepted_for_lists():
    """papermill's -p passes "[0, 1, 2]" as a string (the README's own command)."""
    assert PARAMS.resolve(seeds="[0, 1, 2]").seeds == (0, 1, 2)
    assert PARAMS.resolve(tasks="[a, c]").tasks == ("a", "c")
    assert PARAMS.resolve(tasks="['a', 'c']").tasks == ("a", "c")


@pytest.mark.parametrize("given, names", [
    (dict(profile="gpu"), ["profile", "'gpu'", "smoke"]),
    (dict(lr=5.0), ["lr", "5.0", "(0, 1)"]),
    (dict(lr=1), ["lr", "(0, 1)"]),
    (dict(lr=[1e-3]), ["lr", "list", "float"]),
    (dict(lr="fast"), ["lr", "str", "float"]),
    (dict(steps=-3), ["steps", "-3", "[1, 100]"]),
    (dict(steps=2.5), ["steps", "float", "int"]),
    (dict(steps=True), ["steps", "bool"]),
    (dict(tasks=["a"]), ["tasks", "at least 2"]),
    (dict(tasks=["a", "x"]), ["tasks", "'x'", "'a', 'b', 'c'"]),
    (dict(tasks=["a", "a"]), ["tasks", "duplicates", "no duplicates"]),
    (dict(seeds=[0, 0]), ["seeds", "duplicates"]),
    (dict(seeds=[-1]), ["seeds", "-1", "[0, inf)"]),
    (dict(seeds="[0, 1"), ["seeds", "not a list", "-y"]),
    (dict(device="gpu"), ["device", "'gpu'", "'auto'"]),
    (dict(seed=3), ["seed", "did you mean 'seeds'", "takes: profile, tasks, seeds"]),
])
def test_bad_values_name_the_parameter_and_what_is_allowed(given, names):
    with pytest.raises(ValueError) as err:
        PARAMS.resolve(**given)
    for n in names:
        assert n in str(err.value), (n, str(err.value))


def test_the_names_papermill_injected_are_checked():
    """papermill writes the injected parameters into a cell starting with "# Parameters"; the kernel's
    input history (In) holds it, and every name assigned there must be declared."""
    ns = {"profile": "smoke", "tasks": None, "seeds": None, "lr": None, "steps": None, "root": None,
          "device": "cpu", "np": np, "DOMAINS": {"a": 1}, "_oh": {},
          "In": ["", 'profile: str = "embedded"', '# Parameters\nprofile = "smoke"\ndevice = "cpu"\n']}
    assert PARAMS.from_namespace(ns).device == "cpu"  # other globals (modules, dicts) are not parameters
    assert kit.injected_names(ns) == ["profile", "device"]
    ns["In"].append('# Parameters\nprofile = "smoke"\nstep = 3\n')
    with pytest.raises(ValueError, match="no parameter 'step' \\(did you mean 'steps'\\?\\)"):
        PARAMS.from_namespace(ns)
    assert kit.injected_names({"profile": "smoke"}) == []  # not a kernel: nothing injected


def test_cross_checks_run_on_the_resolved_config():
    def fewer_tasks_than_steps(c):
        if len(c.tasks) > c.steps:
            raise ValueError(f"parameter tasks has {len(c.tasks)} items; allowed: at most steps={c.steps}")
    p = Params("demo", PARAMS.params, checks=(fewer_tasks_than_steps,))
    with pytest.raises(ValueError, match="at most steps=2"):
        p.resolve(tasks=["a", "b", "c"], steps=2)


def test_the_parameter_table_lists_every_parameter_with_defaults_per_profile():
    t = PARAMS.table()
    assert list(t.index) == list(PARAMS.names)
    assert t.loc["lr", "default (paper)"] == "0.1" and t.loc["seeds", "default (smoke)"] == "0"
    assert "(0, 1)" in t.loc["lr", "accepts"] and t.loc["root", "default (embedded)"] == "–"


def test_declarations_are_checked():
    with pytest.raises(ValueError, match="kind"):
        Param("x", "list[complex]", "?")
    with pytest.raises(ValueError, match="profile"):
        Params("demo", (Param("x", "int", "?"),))


def test_resolve_device():
    assert kit.resolve_device("auto") in ("cpu", "cuda")
    assert kit.resolve_device("cpu") == "cpu"


# --- claims ----------------------------------------------------------------------------------------

def test_one_rule_for_verdicts():
    assert kit.judge([1.0, 1.2, 0.9])[0] == "yes"
    assert kit.judge([-1.0, -1.2, -0.9])[0] == "no"
    assert kit.judge([-1.0, 1.2, 0.1])[0] == "inconclusive"
    assert kit.judge([0.4]) == ("yes", "+0.4")
    assert kit.judge([]) == ("inconclusive", "–")
    m, lo, hi = kit.mean_ci([1.0, 2.0, 3.0])
    half = 4.302653 / np.sqrt(3)  # t(0.975, 2) · sem
    assert m == 2.0 and lo == pytest.approx(2 - half) and hi == pytest.approx(2 + half)
    assert kit.judge_all([True, True]) == "yes" and kit.judge_all([True, False]) == "partly"
    assert kit.judge_all([False, False]) == "no" and kit.judge_all([None, False]) == "inconclusive"


def test_claims_table_and_counts():
    claims = [Claim("ch5 Table 1", "A beats B", "+1.0 [0.5, 1.5]", "yes", 3, "+10.4"),
              Claim("ch5 Fig. 5", "C", "0.1", "no", 1)]
    t = kit.claims_table(claims)
    assert list(t.columns) == ["where", "claim", "paper", "ours", "seeds", "reproduced"]
    assert t.paper.tolist() == ["+10.4", "–"]
    assert kit.verdict_counts(claims) == {"yes": 1, "partly": 0, "no": 1, "inconclusive": 0, "total": 2}
    with pytest.raises(ValueError, match="verdict"):
        Claim("x", "y", "z", "yes (1 seed)", 1)


def test_paper_vs_ours():
    t = kit.paper_vs_ours([dict(quantity="abs", paper=70.0, ours=72.5, ours_text="72.5 [70.0, 75.0]"),
                           dict(quantity="norm", paper=None, ours=80.0)], "embedded")
    assert t.loc["abs", "difference"] == 2.5 and np.isnan(t.loc["norm", "difference"])
    assert t.loc["abs", "ours (embedded)"] == "72.5 [70.0, 75.0]"


# --- the grid runner -------------------------------------------------------------------------------

def test_run_grid_keeps_order_and_runs_each_spec_once_under_a_lock():
    calls, active, overlap = [], set(), []
    guard = threading.Lock()

    def fn(spec):
        with guard:
            if spec["k"] in active:
                overlap.append(spec)
            active.add(spec["k"])
        calls.append(spec["k"])
        threading.Event().wait(0.01)
        with guard:
            active.discard(spec["k"])
        return spec["k"] * 10

    specs = [{"k": i % 3} for i in range(9)]  # each key three times: the lock serialises them
    with ThreadPoolExecutor(4) as pool:
        out = kit.run_grid(fn, specs, executor=pool, progress=False)
    assert out == [s["k"] * 10 for s in specs] and not overlap
    assert kit.run_grid(fn, [{"k": 5}], progress=False) == [50]


def test_run_grid_raises_a_workers_error():
    def fn(spec):
        raise RuntimeError(f"bad {spec}")
    with pytest.raises(RuntimeError, match="bad 1"):
        kit.run_grid(fn, [1], progress=False)


def test_paper_vs_ours_wide_keeps_the_order_of_rows_and_groups():
    rows = [dict(method="B", m="tgt", paper=1.0, ours=2.0, src="x"), dict(method="B", m="ref", paper=None, ours=3.0,
                                                                          src="x"),
            dict(method="A", m="tgt", paper=4.0, ours=4.5, src="y"), dict(method="A", m="ref", paper=1.0, ours=1.0,
                                                                          src="y")]
    t = kit.paper_vs_ours(rows, "smoke", index=["method", "m"], wide="m")
    assert list(t.index) == ["B", "A"] and list(t.columns)[:3] == [("tgt", "paper"), ("tgt", "ours (smoke)"),
                                                                  ("tgt", "difference")]
    assert t.loc["A", ("tgt", "difference")] == 0.5 and t.loc["B", ("", "src")] == "x"
    html = kit.styled(t, "caption").to_html()
    assert "+0.50" in html and "–" in html and "caption" in html



def test_worker_pool_is_serial_for_one_worker_and_uses_a_given_executor():
    assert kit.WorkerPool(1).executor() is None
    given = ThreadPoolExecutor(1)
    assert kit.WorkerPool(3, given).executor() is given
    assert not kit.WorkerPool(1).parallel and kit.WorkerPool(2).parallel and kit.WorkerPool(1, given).parallel
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match=f"workers={bad!r}: allowed is an integer ≥ 1"):
            kit.WorkerPool(bad)
    p = kit.Params("demo", (kit.profile_param(), kit.workers_param()))
    assert p.resolve(profile="embedded").workers == 2 and p.resolve(profile="smoke").workers == 1
    with pytest.raises(ValueError, match="workers"):
        p.resolve(profile="embedded", workers=0)


def test_worker_pool_runs_jobs_in_other_processes_with_the_cores_shared_out():
    import os

    import torch
    pool = kit.WorkerPool(2)
    try:
        ex = pool.executor()
        assert pool.executor() is ex  # started once, kept for later grids
        threads = [ex.submit(torch.get_num_threads).result() for _ in range(2)]
        pids = {ex.submit(os.getpid).result() for _ in range(4)}
    finally:
        pool.shutdown()
    assert threads == [max(1, kit.usable_cores() // 2)] * 2
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
