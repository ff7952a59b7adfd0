"""Speed and memory of the three fine-tuning paradigms (ch5 Sec. 3) and the cost of gradient
calibration (ch1 Sec. 3.3); ``make bench``.

The paper's efficiency argument (Sec. 3, Fig. 2): NTK linearization makes training and inference
"two or three times as expensive" as standard fine-tuning, while fine-tuning linear layers only
costs a fraction of it. This benchmark measures, on the same batch:

* one training step (forward, backward, gradient clipping, AdamW update) of standard non-linear
  fine-tuning, the NTK-linearized model with our gradient (one forward-mode pass + one backward pass
  at θ0), the linearized model back-propagating through the dual graph (the naive way), and
  linear-only variant (1);
* peak memory of those steps above the model and batch (CUDA: ``max_memory_allocated``; CPU: the
  peak resident set, VmHWM reset before the first step, each setting in a fresh process);
* inference (forward only) of the linearized model against the standard one.

Models: the embedded tiny model (32 px, batch 128) and open_clip ViT-B-32 with random weights at
224 px (CPU: batch 8, fp32; GPU, when one is present: batch 128 under bf16 autocast). Every row gives
images per second of the training step and of the forward pass. Targets (issues): on a CPU a linearized
step ≤ 1.8× standard and linear-only ≤ 0.8×; on one GPU (H100 class) standard ViT-B/32 fine-tuning at
≥ 4,000 images/s, a linearized step ≤ 1.4× standard and ≤ 1.3× its memory (the paper says 2–3× and 2×),
linear-only ≤ 0.7× (:data:`TARGETS`, :data:`MEMORY_TARGETS`, :data:`THROUGHPUT_TARGETS`). Without a GPU
the table shows the GPU rows as not measured, beside their targets. Results go to a JSON file and a
Markdown table that the book's appendix includes; misses are reported, not hidden.

Calibration (:func:`measure_calibration`): a linearized training step without calibration, with
projection and with sign agreement against three reference directions, as chapter 1 trains; the
issue's target is at most a few percent more per step (:data:`CALIBRATION_TARGET`).

What the ``paper`` profile of every chapter costs (steps, images, GPU-hours from measured speeds of the
papers' architectures) is :mod:`paperlib.cost`, run by :func:`main` as well (``--only cost``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import statistics
import time
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F

from .store import atomic_path, atomic_write_json
from .timing import machine, measured, sync, time_steps

SETTINGS = ("standard", "linearized", "linearized_dual_graph", "linear_only")
#: Step time ÷ standard (issues): CPU from the first benchmark issue, GPU from the paper-profile issue.
TARGETS = {"cpu": {"linearized": 1.8, "linear_only": 0.8}, "cuda": {"linearized": 1.4, "linear_only": 0.7}}
#: Peak memory ÷ standard (GPU issue; the paper says 2× for linearization).
MEMORY_TARGETS = {"cpu": {}, "cuda": {"linearized": 1.3}}
#: Training images per second of (model, setting) on one H100-class GPU (issue).
THROUGHPUT_TARGETS = {"cuda": {("ViT-B-32", "standard"): 4000.0}}
#: The GPU plan of the ViT-B/32 rows (the issue's): batch 128 at 224 px under bf16 autocast.
GPU_MODEL, GPU_BATCH = "ViT-B-32", 128
NOT_MEASURED = "not measured (no GPU in this session)"


def _autocast(device: str):
    """bf16 autocast on CUDA (the issue's GPU rows); nothing on the CPU (fp32)."""
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda"))


def precision(device: str) -> str:
    return "bf16 autocast" if device.startswith("cuda") else "fp32"


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM; Linux ≥ 4.0, ``clear_refs`` value 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    """Peak resident set (MB) since the last reset (VmHWM), or since the process started."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _build(model_name: str, setting: str, device: str):
    import open_clip

    from .clip_tasks import build_encoder
    from .linearize import LinearizedModel
    from .models.clip import ClassificationHead, ClipBundle, ImageClassifier

    clip = open_clip.create_model(model_name, pretrained=None)
    bundle = ClipBundle(model_name, None, clip)
    if setting == "linearized_dual_graph":
        encoder = LinearizedModel(bundle.image_encoder(), gradient="dual_graph")
    else:
        paradigm = {"standard": "non_linear", "linearized": "linearized", "linear_only": "linear_only"}[setting]
        encoder, _ = build_encoder(bundle, paradigm, 1 if paradigm == "linear_only" else None)
    g = torch.Generator().manual_seed(0)
    head = ClassificationHead(F.normalize(torch.randn(10, clip.text_projection.shape[1], generator=g), dim=-1) * 100)
    size = clip.visual.image_size
    return ImageClassifier(encoder, head).to(device), int(size[0] if isinstance(size, (tuple, list)) else size)


def _training_setup(model_name: str, setting: str, batch: int, device: str):
    """(model, trained parameters, AdamW, images, labels) of one benchmark setting, seeded."""
    torch.manual_seed(0)
    model, size = _build(model_name, setting, device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.1)
    x = torch.rand(batch, 3, size, size, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    return model, params, opt, x, y


def measure(model_name: str, setting: str, batch: int, steps: int, device: str, warmup: int = 2) -> dict:
    """Median step time (s), peak memory (MB) and forward-only time (s) of one setting, and the images per
    second of each (bf16 autocast on CUDA, fp32 on the CPU)."""
    from .finetune import backward_step
    model, params, opt, x, y = _training_setup(model_name, setting, batch, device)

    def step():
        with _autocast(device):
            logits = model(x)
        backward_step(F.cross_entropy(logits.float(), y), opt, params, 1.0)

    model.train()
    # Memory baseline: the model and the batch, before the first step, so the peak covers gradients,
    # optimizer state and activations (what differs between the paradigms).
    sync(device)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated() / 2**20
    else:
        _reset_peak_rss()
        base = _rss_mb()
    times = time_steps(step, steps, warmup, device)
    if device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated() / 2**20 - base
    else:
        peak = _peak_rss_mb() - base
    model.eval()
    infer = []
    with torch.no_grad(), _autocast(device):
        for _ in range(max(2, steps // 2)):
            t = time.perf_counter()
            model(x)
            sync(device)
            infer.append(time.perf_counter() - t)
    sec, fsec = statistics.median(times), statistics.median(infer)
    return {"model": model_name, "setting": setting, "batch": batch, "device": device, "precision": precision(device),
            "measured": True, "step_seconds": sec, "images_per_second": batch / sec, "peak_mb": peak,
            "forward_seconds": fsec, "forward_images_per_second": batch / fsec,
            "trainable": sum(p.numel() for p in params)}


def _child(args, queue):
    torch.set_num_threads(args[-1])
    queue.put(measure(*args[:-1]))


def measure_isolated(model_name: str, setting: str, batch: int, steps: int, device: str) -> dict:
    """:func:`measure` in a fresh process, so CPU peak-memory readings do not mix settings."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    p = ctx.Process(target=_child, args=((model_name, setting, batch, steps, device, torch.get_num_threads()), queue))
    p.start()
    res = queue.get()
    p.join()
    return res


def relative(rows: list[dict]) -> list[dict]:
    """Add ratios to the standard setting of the same (model, device, batch), images per second, and each
    row's targets (:data:`TARGETS`, :data:`MEMORY_TARGETS`, :data:`THROUGHPUT_TARGETS`) with whether it meets
    them; rows marked ``measured: False`` (GPU rows of a session without a GPU) only get their targets."""
    base = {(r["model"], r["device"], r["batch"]): r for r in rows if r["setting"] == "standard"
            and r.get("measured", True)}
    for r in rows:
        kind = "cuda" if r["device"].startswith("cuda") else "cpu"
        r["target"] = TARGETS[kind].get(r["setting"])
        r["memory_target"] = MEMORY_TARGETS[kind].get(r["setting"])
        r["throughput_target"] = THROUGHPUT_TARGETS.get(kind, {}).get((r["model"], r["setting"]))
        if not r.get("measured", True):
            r["meets_target"] = r["meets_memory_target"] = r["meets_throughput_target"] = None
            continue
        b = base[(r["model"], r["device"], r["batch"])]
        r.setdefault("images_per_second", r["batch"] / r["step_seconds"])
        r.setdefault("forward_images_per_second", r["batch"] / r["forward_seconds"])
        r["step_ratio"] = r["step_seconds"] / b["step_seconds"]
        r["memory_ratio"] = r["peak_mb"] / b["peak_mb"] if b["peak_mb"] > 0 else float("nan")
        r["forward_ratio"] = r["forward_seconds"] / b["forward_seconds"]
        r["meets_target"] = None if r["target"] is None else bool(r["step_ratio"] <= r["target"])
        r["meets_memory_target"] = None if r["memory_target"] is None else bool(r["memory_ratio"] <= r["memory_target"])
        r["meets_throughput_target"] = None if r["throughput_target"] is None else \
            bool(r["images_per_second"] >= r["throughput_target"])
    return rows


def gpu_placeholders(rows: list[dict]) -> list[dict]:
    """The issue's GPU rows (:data:`GPU_MODEL` at :data:`GPU_BATCH`, bf16 autocast, every setting) marked not
    measured, when ``rows`` hold no CUDA row: the table then shows their targets beside "not measured"."""
    if any(r["device"].startswith("cuda") for r in rows):
        return []
    trainable = {r["setting"]: r["trainable"] for r in rows if r["model"] == GPU_MODEL}
    return [{"model": GPU_MODEL, "setting": s, "batch": GPU_BATCH, "device": "cuda", "precision": precision("cuda"),
             "measured": False, "trainable": trainable.get(s)} for s in SETTINGS]


def _met(ok: bool | None) -> str:
    return "met" if ok else "missed"


def _targets(r: dict) -> str:
    """The targets of a row and, where measured, whether they are met."""
    measured = r.get("measured", True)
    out = []
    if r.get("throughput_target") is not None:
        out.append(f"≥ {r['throughput_target']:,.0f} img/s" + (f" ({_met(r['meets_throughput_target'])})"
                                                                if measured else ""))
    if r.get("target") is not None:
        out.append(f"≤ {r['target']:.1f}×" + (f" ({_met(r['meets_target'])})" if measured else ""))
    if r.get("memory_target") is not None:
        out.append(f"memory ≤ {r['memory_target']:.1f}×" + (f" ({_met(r['meets_memory_target'])})"
                                                           if measured else ""))
    return "; ".join(out) or "–"


def markdown(result: dict) -> str:
    """The results as the Markdown table the book's appendix includes (GPU rows "not measured" when the
    result has none; results written before images/s and precision were recorded are completed here)."""
    rows = []
    result_rows = relative([dict(r) for r in result["rows"]] + gpu_placeholders(result["rows"]))
    for r in result_rows:
        params = "–" if r.get("trainable") is None else f"{r['trainable'] / 1e6:.2f}M"
        head = f"| {r['model']} | {r['device']} | {r['batch']} | {r.get('precision', precision(r['device']))} | " \
               f"{r['setting']} | {params} |"
        if not r.get("measured", True):
            rows.append(f"{head} {NOT_MEASURED} | – | – | – | {_targets(r)} | – | – | – |")
            continue
        rows.append(f"{head} {r['step_seconds']:.3f} | {r['images_per_second']:.1f} | "
                    f"{r['forward_images_per_second']:.1f} | {r['step_ratio']:.2f}× | {_targets(r)} | "
                    f"{r['peak_mb']:.0f} | {r['memory_ratio']:.2f}× | {r['forward_ratio']:.2f}× |")
    return _table(result, ".", ["model", "device", "batch", "precision", "setting", "trainable params", "step (s)",
                                "train img/s", "forward img/s", "step ÷ standard", "targets", "peak memory (MB)",
                                "memory ÷ standard", "forward ÷ standard"], rows)


#: Calibration may add at most this much to a training step (ch1 issue: "a few percent").
CALIBRATION_TARGET = 1.05
CALIBRATIONS = ("none", "pcgrad", "sign")


def measure_calibration(model_name: str, batch: int, steps: int, device: str, references: int = 3,
                        warmup: int = 2) -> list[dict]:
    """Median step time of a linearized training step (ch1's S-TL) without calibration and with
    projection (S-TL-p) or sign-agreement (S-TL-a) calibration against ``references`` random
    directions, as :func:`paperlib.finetune.train_loop` runs them (flat gradient buffer, in place).
    The three are timed in turn, step by step, so that drifts of the machine hit them alike."""
    from .finetune import backward_step
    from .surgery import FlatGradients, make_calibrator
    model, params, opt, x, y = _training_setup(model_name, "linearized", batch, device)
    n = sum(p.numel() for p in params)
    refs = torch.randn(references, n, generator=torch.Generator().manual_seed(1)).to(device)
    flat = FlatGradients(params)
    calibrators = {"none": None, **{k: make_calibrator(k, refs, 0.5, device) for k in CALIBRATIONS[1:]}}
    model.train()

    def step(kind: str) -> float:
        if kind == "none":
            for p in params:
                p.grad = None
        else:
            flat.attach()
        sync(device)
        t = time.perf_counter()
        with _autocast(device):
            logits = model(x)
        backward_step(F.cross_entropy(logits.float(), y), opt, params, 1.0, None if kind == "none" else flat,
                      calibrators[kind])
        sync(device)
        return time.perf_counter() - t

    times = {k: [] for k in CALIBRATIONS}
    for i in range(warmup + steps):
        for k in CALIBRATIONS:
            dt = step(k)
            if i >= warmup:
                times[k].append(dt)
    base = statistics.median(times["none"])
    rows = []
    for k in CALIBRATIONS:
        sec = statistics.median(times[k])
        target = None if k == "none" else CALIBRATION_TARGET
        rows.append({"model": model_name, "device": device, "batch": batch, "precision": precision(device),
                     "calibration": k, "references": references if k != "none" else 0, "parameters": n,
                     "measured": True, "step_seconds": sec, "images_per_second": batch / sec,
                     "step_ratio": sec / base, "target": target,
                     "meets_target": None if target is None else bool(sec / base <= target)})
    return rows


def calibration_markdown(result: dict) -> str:
    rows = []
    data = list(result["rows"])
    if not any(r["device"].startswith("cuda") for r in data):
        data += [{"model": GPU_MODEL, "device": "cuda", "batch": GPU_BATCH, "precision": precision("cuda"),
                  "calibration": k, "measured": False, "target": None if k == "none" else CALIBRATION_TARGET}
                 for k in CALIBRATIONS]
    for r in data:
        head = f"| {r['model']} | {r['device']} | {r['batch']} | {r.get('precision', precision(r['device']))} | " \
               f"{r['calibration']} |"
        if not r.get("measured", True):
            target = "–" if r["target"] is None else f"≤ {r['target']:.2f}×"
            rows.append(f"{head} {NOT_MEASURED} | – | – | {target} |")
            continue
        target = "–" if r["target"] is None else f"≤ {r['target']:.2f}× ({_met(r['meets_target'])})"
        rows.append(f"{head} {r['step_seconds']:.3f} | {r['batch'] / r['step_seconds']:.1f} | "
                    f"{r['step_ratio']:.3f}× | {target} |")
    return _table(result, "; linearized training step, calibration against 3 reference directions with c = 0.5.",
                  ["model", "device", "batch", "precision", "calibration", "step (s)", "train img/s",
                   "step ÷ uncalibrated", "target"], rows)


def run_calibration(out: Path, steps: int = 10, quick: bool = False) -> dict:
    """The calibration overhead (ch1) for the tiny model, ViT-B-32 on CPU and, with a GPU, on it."""
    from .models.clip import TINY_MODEL
    plans = [(TINY_MODEL, 128, 3 * steps, "cpu")]
    if not quick:
        plans.append(("ViT-B-32", 8, steps, "cpu"))
    if torch.cuda.is_available():
        plans.append(("ViT-B-32", 128, steps, "cuda"))
    rows = [r for m, b, n, d in plans for r in measure_calibration(m, b, n, d)]
    result = {**machine(), "rows": rows}
    atomic_write_json(result, out)
    with atomic_path(out.with_suffix(".md")) as tmp:
        tmp.write_text(calibration_markdown(result))
    return result


def _table(result: dict, intro: str, columns: list[str], rows: list[str]) -> str:
    """A result file's Markdown: when and where it was measured, ``intro``, then the table."""
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns)
    return "\n".join([measured(result) + intro, "", head, *rows]) + "\n"


def _random_head(classes: int, dim: int):
    """A frozen classification head of ``classes`` random unit directions (scaled as CLIP's)."""
    from .models.clip import ClassificationHead
    return ClassificationHead(100 * F.normalize(torch.randn(classes, dim), dim=-1))


def _lone_step(bundle, paradigm: str, batch: int, classes: int, device: str):
    """One fine-tuning run of ``paradigm`` on random images and a random head: a callable taking one
    training step (:func:`paperlib.finetune.train_loop`'s step)."""
    from .clip_tasks import build_encoder, trainable_parameters
    from .finetune import backward_step
    from .models.clip import ImageClassifier

    encoder, names = build_encoder(bundle, paradigm, 1 if paradigm == "linear_only" else None)
    model = ImageClassifier(encoder, _random_head(classes, bundle.model.visual.output_dim)).to(device).train()
    params = trainable_parameters(encoder, names)
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.1)
    x = torch.rand(batch, 3, 32, 32, device=device)
    y = torch.randint(0, classes, (batch,), device=device)
    return lambda: backward_step(F.cross_entropy(model(x), y), opt, params, 1.0)


def measure_together(ks: tuple[int, ...] = (1, 4, 8, 16), paradigm: str = "non_linear", batch: int | None = None,
                     steps: int = 10, device: str = "cpu", classes: int = 10) -> list[dict]:
    """Seconds per training step of one fine-tuning run alone (:func:`paperlib.finetune.train_loop`'s
    step) and of K runs trained together (:class:`paperlib.batched.Together`), on the shipped tiny
    model at the embedded protocol's batch, with random images and heads; ``speedup`` is K times the
    lone run's step over the K runs' step (how much faster a grid of K runs trains)."""
    from .batched import Together
    from .finetune import PROTOCOLS
    from .models.clip import load_clip

    batch = PROTOCOLS["embedded"].batch_size if batch is None else batch
    bundle = load_clip("embedded")
    variant = 1 if paradigm == "linear_only" else None
    dim = bundle.model.visual.output_dim
    torch.manual_seed(0)
    lone = statistics.median(time_steps(_lone_step(bundle, paradigm, batch, classes, device), steps, 2, device))
    rows = []
    for k in ks:
        model = Together(bundle, paradigm, variant, [_random_head(classes, dim) for _ in range(k)], lr=1e-3,
                         weight_decay=0.1, grad_clip=1.0, device=device)
        xs = torch.rand(k, batch, 3, 32, 32, device=device)
        ys = [torch.randint(0, classes, (batch,), device=device) for _ in range(k)]
        step = statistics.median(time_steps(lambda m=model, a=xs, b=ys: m.step(a, b, 1e-3), steps, 2, device))
        rows.append(dict(paradigm=paradigm, device=device, batch=batch, runs=k, step_seconds=step,
                         lone_step_seconds=lone, speedup=k * lone / step))
    return rows


def together_markdown(result: dict) -> str:
    rows = [f"| {r['paradigm']} | {r['device']} | {r['batch']} | {r['runs']} | {r['step_seconds']:.3f} | "
            f"{r['lone_step_seconds']:.3f} | {r['speedup']:.2f}× |" for r in result["rows"]]
    return _table(result, "; the shipped tiny model, one training step (forward, backward, per-run clipping, AdamW).",
                  ["paradigm", "device", "batch per run", "runs together", "step (s)", "one run alone (s)",
                   "speed-up"], rows)


def run_together(out: Path, steps: int = 10, quick: bool = False) -> dict:
    """Batched fine-tuning against one run at a time, non-linear and linear-only, CPU (and GPU)."""
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    ks = (1, 4) if quick else (1, 4, 8, 16)
    rows = [r for d in devices for p in ("non_linear", "linear_only") for r in measure_together(ks, p, steps=steps,
                                                                                                 device=d)]
    result = {**machine(), "rows": rows}
    atomic_write_json(result, out)
    with atomic_path(out.with_suffix(".md")) as tmp:
        tmp.write_text(together_markdown(result))
    return result


def _lone_steps(paradigm: str, steps: int, batch: int, classes: int = 10) -> tuple[float, float]:
    """Build one run of the shipped tiny model (:func:`_lone_step`), take 2 warm-up training steps,
    then ``steps`` timed ones; returns the loop's (start, end) wall-clock times (``time.time``,
    comparable across processes). Module-level so that a worker process can run it
    (:func:`measure_workers`)."""
    from .models.clip import load_clip

    torch.manual_seed(0)
    step = _lone_step(load_clip("embedded"), paradigm, batch, classes, "cpu")
    for _ in range(2):
        step()
    start = time.time()
    for _ in range(steps):
        step()
    return start, time.time()


def measure_workers(paradigms: tuple[str, ...] = ("non_linear", "linearized", "linear_only"), workers: int = 2,
                    steps: int = 20, batch: int | None = None) -> list[dict]:
    """Runs trained side by side on worker processes (:class:`paperlib.chapters.kit.WorkerPool`, each
    with the cores shared out) against the same runs one after another in this process (all cores):
    per paradigm, ``workers`` lone runs of ``steps`` training steps of the shipped tiny model at the
    embedded protocol's batch. ``speedup`` is the serial seconds over the side-by-side wall time (from
    the first worker's loop start to the last one's end; process start and model building excluded)."""
    from .chapters.kit import WorkerPool, usable_cores
    from .finetune import PROTOCOLS

    batch = PROTOCOLS["embedded"].batch_size if batch is None else batch
    pool = WorkerPool(workers)
    rows = []
    try:
        ex = pool.executor()
        list(ex.map(_lone_steps, ["linear_only"] * workers, [1] * workers, [batch] * workers))  # start the workers
        for paradigm in paradigms:
            serial = sum(end - start for start, end in (_lone_steps(paradigm, steps, batch) for _ in range(workers)))
            spans = list(ex.map(_lone_steps, [paradigm] * workers, [steps] * workers, [batch] * workers))
            side = max(e for _, e in spans) - min(s for s, _ in spans)
            rows.append(dict(paradigm=paradigm, runs=workers, steps=steps, batch=batch, cores=usable_cores(),
                             serial_seconds=serial, side_by_side_seconds=side, speedup=serial / side))
    finally:
        pool.shutdown()
    return rows


def workers_markdown(result: dict) -> str:
    rows = [f"| {r['paradigm']} | {r['runs']} × {r['steps']} steps | {r['serial_seconds']:.1f} | "
            f"{r['side_by_side_seconds']:.1f} | {r['speedup']:.2f}× |" for r in result["rows"]]
    return _table(result, f"; the shipped tiny model at batch {result['rows'][0]['batch']}, lone runs: one after "
                  f"another in one process with all {result['rows'][0]['cores']} cores, or side by side on as many "
                  "worker processes with the cores shared out.",
                  ["paradigm", "runs", "one process (s)", "worker processes (s)", "speed-up"], rows)


def run_workers(out: Path, steps: int = 20, quick: bool = False) -> dict:
    """Worker processes against one process, the three paradigms, CPU."""
    result = {**machine(), "rows": measure_workers(("non_linear",) if quick else
                                                    ("non_linear", "linearized", "linear_only"), steps=steps)}
    atomic_write_json(result, out)
    with atomic_path(out.with_suffix(".md")) as tmp:
        tmp.write_text(workers_markdown(result))
    return result


def run(out: Path, steps: int = 10, quick: bool = False) -> dict:
    from tqdm.auto import tqdm

    from .models.clip import TINY_MODEL
    plans = [(TINY_MODEL, 128, "cpu", steps)]
    if not quick:
        plans.append(("ViT-B-32", 8, "cpu", max(3, steps // 3)))
    if torch.cuda.is_available():
        plans.append(("ViT-B-32", 128, "cuda", steps))
    jobs = [(m, s, b, n, d) for m, b, d, n in plans for s in SETTINGS]
    rows = [measure_isolated(*job) for job in tqdm(jobs, desc="bench")]
    result = {**machine(), "rows": relative(rows + gpu_placeholders(rows))}
    atomic_write_json(result, out)
    with atomic_path(out.with_suffix(".md")) as tmp:
        tmp.write_text(markdown(result))
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Step time and memory of the fine-tuning paradigms (make bench).")
    parser.add_argument("--out", type=Path, default=Path("book/bench/linearization.json"))
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--calibration-out", type=Path, default=Path("book/bench/calibration.json"))
    parser.add_argument("--together-out", type=Path, default=Path("book/bench/together.json"))
    parser.add_argument("--workers-out", type=Path, default=Path("book/bench/workers.json"))
    parser.add_argument("--cost-out", type=Path, default=Path("book/bench/paper_cost.json"))
    parser.add_argument("--only", choices=("paradigms", "calibration", "together", "workers", "cost"),
                        help="run one of the benchmarks")
    parser.add_argument("--quick", action="store_true", help="tiny model only")
    parser.add_argument("--render", action="store_true",
                        help="measure nothing: rewrite each result's Markdown from its JSON (the cost table "
                             "is recomputed from the chapters' configs and the stored speeds)")
    args = parser.parse_args(argv)
    if args.steps < 1:
        raise SystemExit(f"--steps={args.steps} must be at least 1")
    if args.render:
        render(args)
        return
    paradigms = None
    if args.only in (None, "paradigms"):
        paradigms = run(args.out, args.steps, args.quick)
        print(markdown(paradigms))
    if args.only in (None, "calibration"):
        print(calibration_markdown(run_calibration(args.calibration_out, args.steps, args.quick)))
    if args.only in (None, "together"):
        print(together_markdown(run_together(args.together_out, args.steps, args.quick)))
    if args.only in (None, "workers"):
        print(workers_markdown(run_workers(args.workers_out, 2 * args.steps, args.quick)))
    if args.only in (None, "cost"):
        from . import cost
        if paradigms is None and args.out.exists():  # ViT-B/32's speeds: the paradigm benchmark's last result
            paradigms = json.loads(args.out.read_text())
        print(cost.markdown(cost.run(args.cost_out, paradigms, args.quick)))


def render(args) -> None:
    """Rewrite the Markdown of every stored result from its JSON (no measurement); the cost table is rebuilt
    from the stored architecture speeds and the chapters' current paper configs."""
    from . import cost
    for path, md in ((args.out, markdown), (args.calibration_out, calibration_markdown),
                     (args.together_out, together_markdown), (args.workers_out, workers_markdown)):
        if path.exists():
            with atomic_path(path.with_suffix(".md")) as tmp:
                tmp.write_text(md(json.loads(path.read_text())))
    if args.cost_out.exists():
        result = json.loads(args.cost_out.read_text())
        parts = cost.paper_parts()
        result.update(chapters=cost.chapter_costs(parts, result["archs"]), parts=[asdict(p) for p in parts])
        atomic_write_json(cost._finite(result), args.cost_out)
        with atomic_path(args.cost_out.with_suffix(".md")) as tmp:
            tmp.write_text(cost.markdown(result))


if __name__ == "__main__":
    main()
