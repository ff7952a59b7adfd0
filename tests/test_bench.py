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


# --- what the paper profile costs (paperlib.cost) ---------------------------------------------------------------

def test_paper_step_counts_match_hand_counts():
    from paperlib import cost
    ch4 = {p.what: p for p in cost.ch4_parts()}
    # ch4 S1: 250 epochs × ⌊50,000 / 128⌋ = 390 steps, 3 domains × 3 seeds; 300 epochs × ⌊100,000 / 128⌋ = 781
    # steps, 3 pairs × 3 weightings × 3 seeds; per width
    single, joint = ch4["width 1: single-domain models (250 epochs)"], ch4["width 1: joint models (300 epochs, "
                                                                              "pooled pair)"]
    assert (single.runs, single.steps, joint.runs, joint.steps) == (9, 9 * 250 * 390, 27, 27 * 300 * 781)
    assert sum(p.steps for p in cost.ch4_parts()) == 4 * (9 * 250 * 390 + 27 * 300 * 781)
    # ch5 Appendix A: 2,000 iterations; 3 paradigms × 3 seeds × 8 tasks + Table 2's variants 2-4 × 8 tasks
    ch5 = [p for p in cost.ch5_parts() if p.steps]
    assert sum(p.runs for p in ch5) == 96 and sum(p.steps for p in ch5) == 96 * 2000
    assert all(p.images_per_step == 128 for p in ch5)
    # ch1 Sec. 5.1: epochs × ⌈train / 128⌉: EuroSAT 12 × 169, RESISC45 11 × 133, Cars 35 × 58, DTD 76 × 27
    per_task = 12 * 169 + 11 * 133 + 35 * 58 + 76 * 27
    ch1 = {p.what.split(" (")[0]: p for p in cost.ch1_parts()}
    assert per_task == 7573 and ch1["single-task runs, B-TL ingredients"].steps == 3 * per_task
    # Table 4: the 24 orders' prefix tree holds 4 + 12 + 24 + 24 segments, i.e. every task 16 times; the
    # curriculum order is Table 3's seed-0 S-TL-p0.5, already counted there
    assert ch1["Table 4 orders"].steps == 16 * per_task - per_task and ch1["Table 4 orders"].runs == 23
    # ch3 A.1: 200 epochs; target-only at N = 45,000 ... 140 (batch 16 at 140), source 200 × ⌈50,000/128⌉,
    # joint runs 380 source epochs, 11 × 9 TPE trials per N
    ch3 = {p.what: p for p in cost.ch3_parts()}
    target = next(p for w, p in ch3.items() if w.startswith("objects: Target"))
    assert target.steps == 200 * (352 + 112 + 36 + 12 + 4 + 9)
    assert ch3["objects: source pre-training"].steps == 200 * 391
    assert ch3["objects: TPE search: 11 trials × 9 rounds per N (joint)"].steps == 6 * 99 * 380 * 391
    # ch2 (TAPS's 30 epochs of 32 × 8): ImageNet-to-Sketch after the held-out val split
    i2s = [p for p in cost.ch2_parts() if p.what.startswith("i2s") and "FTN R=1," in p.what][0]
    assert i2s.steps == 30 * (1836 // 256 + 37917 // 256 + 14400 // 256 + 7330 // 256 + 5395 // 256)


def test_dataset_sizes_are_the_registry_splits():
    from paperlib import cost
    from paperlib.data.real import PAPER_DATASETS
    for name, (train, val, test, source) in cost.TRAIN_SIZES.items():
        if source.startswith("paperlib.data.real"):
            protocol = PAPER_DATASETS[name].protocol
            assert all(f"{n:,}" in protocol for n in (train, val, test) if n is not None), name


def test_cost_table_marks_unmeasured_gpu_rows():
    from paperlib import cost
    parts = [cost.Part("ch4", "a", "resnet32_w1", 2, 10, 1280, 0), cost.Part("ch4", "b", "resnet32_w1", 1, 0, 0, 640)]
    rows = [{"arch": "resnet32_w1", "label": "ResNet-32 ×1", "device": "cpu", "batch": 32, "image_size": 32,
             "precision": "fp32", "measured": True, "step_seconds": 1.0, "images_per_second": 32.0,
             "forward_seconds": 0.25, "forward_images_per_second": 128.0, "peak_mb": None, "trainable": 1,
             "forward_flops_per_image": None, "forward_gflops_per_second": None}]
    rows += cost.gpu_placeholders(rows)
    assert {r["device"] for r in rows if not r["measured"]} == {"cuda"} and len(rows) == 1 + len(cost.ARCHS)
    assert cost.part_seconds(parts[0], rows, "cpu") == pytest.approx(1280 / 32)
    (ch,) = cost.chapter_costs(parts, rows)
    assert ch["gpu_hours"] is None and ch["cpu_hours"] == pytest.approx((40 + 5) / 3600) and ch["paper"] is None
    table = cost.markdown({"date": "d", "machine": "x", "torch": "t", "threads": 2, "gpu": None, "archs": rows,
                           "chapters": [ch], "parts": [cost.asdict(p) for p in parts]})
    gpu_row = next(line for line in table.splitlines() if line.startswith("| ResNet-32 ×1") and "| cuda |" in line)
    assert cost.NOT_MEASURED in gpu_row and "| 128 | fp32 |" in gpu_row
    chapter_row = next(line for line in table.splitlines() if line.startswith("| ch4 |"))
    assert cost.NOT_MEASURED in chapter_row and "states nothing" in chapter_row and "| 0.01 |" in chapter_row


def test_paradigm_table_shows_the_gpu_targets_when_not_measured():
    rows = bench.relative([_row("standard", 2.0, 100.0), _row("linearized", 3.0, 250.0)])
    table = bench.markdown({"date": "d", "machine": "x", "torch": "t", "threads": 2, "gpu": None, "rows": rows})
    gpu = [line for line in table.splitlines() if "| ViT-B-32 | cuda | 128 | bf16 autocast |" in line]
    assert len(gpu) == len(bench.SETTINGS) and all(bench.NOT_MEASURED in line for line in gpu)
    assert "≥ 4,000 img/s" in gpu[0] and "≤ 1.4×; memory ≤ 1.3×" in gpu[1] and "≤ 0.7×" in gpu[3]
    assert "| 4.0 |" in table  # images/s of the measured rows (batch 8 in 2 s)


def test_architecture_measurement_smoke():
    from paperlib import cost
    _, _, params, *_ = cost.build_arch("resnet50_ftn", batch=2, device="cpu", image_size=32)
    # ch2 Sec. 4.1.1: rank-1 FTN on ResNet-50 is 49,204 parameters per task; plus task BN (Γ, β) and the head
    assert sum(p.numel() for p in params) == 49_204 + 53_120 + 2049 * 200
    r = cost.measure_arch("resnet32_w0.25", batch=2, steps=1, warmup=0)
    assert r["measured"] and r["device"] == "cpu" and r["batch"] == 2 and r["precision"] == "fp32"
    assert r["images_per_second"] > 0 and r["forward_images_per_second"] > 0 and r["forward_flops_per_image"] > 0
    assert r["trainable"] == sum(p.numel() for p in cost.build_arch("resnet32_w0.25", 2, "cpu")[2])
