"""All benchmarks in one command; each prints one JSON object per figure:
{"name", "value", "unit", "baseline", "baseline_value", "ratio"}, the baseline measured in
the same run (machines here are noisy: only ratios mean anything).

    python benchmarks/run.py           # full sizes (several minutes)
    python benchmarks/run.py --quick   # small sizes, under a minute (without projection, browser)
    python benchmarks/run.py --only ingest,simulation
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# module → (full-size arguments, quick arguments or None: not in --quick); each module's
# run(**kwargs) prints its figures
SUITE = {
    "ingest": ({}, {"rows": 50_000, "repeat": 1}),
    "gap_page": ({}, {"quick": True}),
    "projection": ({}, None),  # the baseline needs statsforecast in its own venv (minutes): full run only
    "simulation": ({}, {"draws": 2_000, "repeat": 1}),
    "browser": ({}, None),     # Chromium and two servers started several times: full run only
    "memory": ({}, {"quick": True}),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (under a minute)")
    ap.add_argument("--only", help="comma-separated subset of: " + ", ".join(SUITE))
    args = ap.parse_args(argv)
    chosen = args.only.split(",") if args.only else list(SUITE)
    failed = []
    for name in chosen:
        full, quick = SUITE[name]
        if args.quick and quick is None:
            print(json.dumps({"name": name, "skipped": "--quick: full run only"}, ensure_ascii=False), flush=True)
            continue
        try:
            module = importlib.import_module(name)
        except ImportError as e:
            print(json.dumps({"name": name, "skipped": f"not available: {e}"}, ensure_ascii=False), flush=True)
            continue
        t0 = time.perf_counter()
        try:
            module.run(**(quick if args.quick else full))
        except Exception as e:  # noqa: BLE001 — one benchmark's failure must not hide the others
            failed.append(name)
            print(json.dumps({"name": name, "error": f"{type(e).__name__}: {e}"}, ensure_ascii=False), flush=True)
        print(f"# {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
