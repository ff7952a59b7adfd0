"""The repository's scripts: what they take from the command line."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regime_gate_reads_p_values_as_papermill_does():
    """`-p iterations 300` once reached the chapter as the string '300' and was refused."""
    value = _script("regime_gate")._value
    assert value("300") == 300 and isinstance(value("300"), int)
    assert value("1e-4") == pytest.approx(1e-4)
    assert value("[0, 1]") == "[0, 1]" and value("path/model.safetensors") == "path/model.safetensors"
