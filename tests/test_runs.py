import json
from dataclasses import dataclass

import pytest

from paperlib.runs import cached_run, run_key, run_path


@dataclass(frozen=True)
class Cfg:
    lr: float
    tasks: tuple


def test_run_is_computed_once_then_loaded(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"acc": 0.5, "per_task": [1, 2]}

    cfg = Cfg(0.1, ("a", "b"))
    assert cached_run("demo", cfg, compute, root=tmp_path) == {"acc": 0.5, "per_task": [1, 2]}
    assert cached_run("demo", cfg, compute, root=tmp_path) == {"acc": 0.5, "per_task": [1, 2]}
    assert len(calls) == 1
    record = json.loads(run_path("demo", cfg, tmp_path).read_text())
    assert record["config"] == {"lr": 0.1, "tasks": ["a", "b"]} and record["kind"] == "demo"
    cached_run("demo", cfg, compute, root=tmp_path, force=True)
    assert len(calls) == 2


def test_identity_depends_on_config_and_kind():
    assert run_key("a", {"x": 1}) != run_key("a", {"x": 2})
    assert run_key("a", {"x": 1}) != run_key("b", {"x": 1})
    assert run_key("a", {"x": 1}) != run_key("a", {"x": 1}, code_version="other")
    assert run_key("a", Cfg(1.0, (1,))) == run_key("a", {"lr": 1.0, "tasks": [1]})


def test_broken_result_file_is_recomputed(tmp_path):
    path = run_path("demo", {"x": 1}, tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{half written")
    assert cached_run("demo", {"x": 1}, lambda: 7, root=tmp_path) == 7
    assert json.loads(path.read_text())["result"] == 7


def test_non_plain_config_is_refused(tmp_path):
    with pytest.raises(TypeError, match="plain values"):
        cached_run("demo", {"model": object()}, lambda: 1, root=tmp_path)
