"""Shared by the benchmarks: timing and the one-JSON-line-per-figure output."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs (the least disturbed by a noisy machine)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def figure(name: str, value: float, unit: str, baseline: str, baseline_value: float) -> dict:
    doc = {"name": name, "value": round(value, 4), "unit": unit, "baseline": baseline,
           "baseline_value": round(baseline_value, 4), "ratio": round(value / baseline_value, 3)}
    print(json.dumps(doc, ensure_ascii=False), flush=True)
    return doc
