"""Timing helpers shared by the benchmarks (:mod:`paperlib.bench`, :mod:`paperlib.cost`): step times with the
device synchronised, and where and when a measurement was made."""

from __future__ import annotations

import platform
import time

import torch


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_steps(step, steps: int, warmup: int, device: str) -> list[float]:
    """Seconds of each of ``steps`` calls of ``step`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        step()
    sync(device)
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        sync(device)
        times.append(time.perf_counter() - t)
    return times


def measured(result: dict) -> str:
    """The first line of a result table: when, where and with what it was measured."""
    return (f"Measured {result['date']} on {result['machine']} (torch {result['torch']}, {result['threads']} CPU "
            f"threads{', GPU ' + result['gpu'] if result['gpu'] else ', no GPU'})")


def machine() -> dict:
    """Where and when a benchmark ran (the header of every result file)."""
    return {"date": time.strftime("%Y-%m-%d"), "machine": platform.processor() or platform.machine(),
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None}


__all__ = ["machine", "measured", "sync", "time_steps"]
