"""make bench's bookkeeping: ratios to standard, targets, the Markdown table, the memory probes."""

import pytest

from paperlib import bench


def _row(setting, step, peak, fwd=1.0, device="cpu"):
    return dict(model="m", setting=setting, batch=8, device=device, step_seconds=step, peak_mb=peak,
                forward_seconds=fwd, trainable=1_000_000)


def test_relative_ratios_and_targets():
    rows = bench.relative([_row("standard", 2.0, 100.0), _row("linearized", 3.0, 250.0, 2.5),
                           _row("linear_only", 1.7, 60.0), _row("linearized_dual_graph", 5.0, 300.0)])
    by = {r["setting"]: r for r in rows}
    assert by["linearized"]["step_ratio"] == pytest.approx(1.5) and by["linearized"]["meets_target"] is True
    assert by["linearized"]["memory_ratio"] == pytest.approx(2.5) and by["linearized"]["forward_ratio"] == 2.5
    assert by["linear_only"]["step_ratio"] == pytest.approx(0.85) and by["linear_only"]["meets_target"] is False
    assert by["linearized_dual_graph"]["target"] is None and by["linearized_dual_graph"]["meets_target"] is None
    gpu = bench.relative([_row("standard", 1.0, 10.0, device="cuda"), _row("linearized", 1.5, 10.0, device="cuda")])
    assert gpu[1]["target"] == 1.4 and gpu[1]["meets_target"] is False
    table = bench.markdown({"date": "d", "machine": "x", "torch": "t", "threads": 2, "gpu": None, "rows": rows})
    assert "≤ 0.8× (missed)" in table and "≤ 1.8× (met)" in table and table.count("\n| m |") == 4


def test_memory_probes_see_an_allocation():
    bench._reset_peak_rss()
    before = bench._peak_rss_mb()
    block = bytearray(64 * 2**20)
    block[::4096] = b"x" * len(block[::4096])  # touch every page
    assert bench._peak_rss_mb() >= before + 60
    assert bench._rss_mb() > 0


def test_calibration_overhead_rows_and_table():
    from paperlib.models.clip import TINY_MODEL
    rows = bench.measure_calibration(TINY_MODEL, batch=4, steps=1, device="cpu", warmup=0)
    assert [r["calibration"] for r in rows] == ["none", "pcgrad", "sign"]
    assert rows[0]["step_ratio"] == 1.0 and rows[0]["meets_target"] is None
    assert all(r["step_seconds"] > 0 and r["target"] == bench.CALIBRATION_TARGET for r in rows[1:])
    table = bench.calibration_markdown({"date": "d", "machine": "x", "torch": "t", "threads": 2, "gpu": None,
                                        "rows": rows})
    assert table.count(f"| {TINY_MODEL} |") == 3 and "step ÷ uncalibrated" in table


def test_runs_together_rows_and_table():
    rows = bench.measure_together((1, 2), "linear_only", batch=4, steps=1)
    assert [r["runs"] for r in rows] == [1, 2]
    assert all(r["speedup"] == pytest.approx(r["runs"] * r["lone_step_seconds"] / r["step_seconds"]) for r in rows)
    table = bench.together_markdown({"date": "d", "machine": "x", "torch": "t", "threads": 2, "gpu": None,
                                     "rows": rows})
    assert table.count("\n| linear_only | cpu | 4 |") == 2


def test_runs_side_by_side_on_workers_rows_and_table():
    start, end = bench._lone_steps("linear_only", 1, batch=2)
    assert end > start
    rows = bench.measure_workers(("linear_only",), workers=2, steps=1, batch=2)
    assert len(rows) == 1 and rows[0]["runs"] == 2 and rows[0]["side_by_side_seconds"] > 0
    assert rows[0]["speedup"] == pytest.approx(rows[0]["serial_seconds"] / rows[0]["side_by_side_seconds"])
    table = bench.workers_markdown({"date": "d", "machine": "x", "torch": "t", "threads": 2, "gpu": None,
                                    "rows": rows})
    assert "| linear_only | 2 × 1 steps |" in table and "worker processes (s)" in table
