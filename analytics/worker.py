"""Heavy one-off computations in a child process, for the app server (:data:`ENABLED`).

The data-quality checks at 300 units × 300 indicators build ~100,000 flags as Python dicts and
texts (~8 s, a peak of ~450 MB). Done in the server, the memory they churned stayed resident
(freed objects scattered among live ones: glibc and Python keep such pages), and the server
held the GIL for the 8 s, so every other session waited. In a child the server only reads the
inputs with SQL (DuckDB locks its file to one process: the child never opens it), hands them
over as Arrow files, and keeps the child's result file (db.cached_frame), reading back only the
columns it needs; the child's memory goes with it.

The exchange is a private temporary folder: ``job.json`` (the task's name and its JSON
arguments), one Arrow IPC file per input table, and ``result.arrow`` written by the child —
no pickles, and the task is one of :data:`TASKS` by name. The CLI and the tests compute in
their own process (``ENABLED`` False); :func:`run` is also what a test calls to compare the
two routes.
"""
from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

import pandas as pd
import pyarrow as pa

from . import db

log = logging.getLogger(__name__)
ENABLED = False  # the app server sets it (ui/data)
MIN_ROWS = 50_000  # smaller inputs are computed in the process: starting a child takes ~0.7 s

# task name → (module, function): the function takes ({name: pa.Table}, **arguments) → DataFrame
TASKS = {"quality": ("analytics.quality", "flags_from_tables"),
         "gap": ("analytics.progress", "gap_from_tables")}
NAMES = {"quality": "数据质量检查", "gap": "进度差距表"}  # for the log


def wanted(rows: int) -> bool:
    """Whether a computation whose main input has ``rows`` rows goes to a child process."""
    return ENABLED and rows >= MIN_ROWS


def compute(task: str, tables: dict[str, pa.Table], arguments: dict, rows: int, here: Callable[[], pd.DataFrame]
            ) -> pd.DataFrame | Path:
    """The result of ``task``: computed by a child process (:func:`run`) if :func:`wanted` for
    ``rows``, else — and when the child fails (logged) — ``here()`` in this process."""
    if wanted(rows):
        try:
            return run(task, tables, arguments)
        except (WorkerFailed, OSError) as e:
            log.warning("%s的子进程失败，改在本进程计算：%s", NAMES.get(task, task), e)
    return here()


class WorkerFailed(RuntimeError):
    """The child process failed (its exit status and the end of what it wrote to stderr)."""


def run(task: str, tables: dict[str, pa.Table], arguments: dict) -> Path:
    """``TASKS[task](tables, **arguments)`` computed in a child process (the same Python, this
    package): the file :func:`db.write_frame` wrote of its frame, in the temporary directory,
    for the caller to move (db.cached_frame keeps it) or delete."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}")
    with tempfile.TemporaryDirectory(prefix="mubiao-worker-") as name:
        folder = Path(name)
        for table_name, table in tables.items():
            with pa.OSFile(str(folder / f"{table_name}.arrow"), "wb") as sink, \
                    pa.ipc.new_file(sink, table.schema) as out:
                out.write_table(table)
        (folder / "job.json").write_text(json.dumps({"task": task, "tables": list(tables), "arguments": arguments}),
                                         encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "analytics.worker", str(folder)], cwd=db.ROOT,
                              capture_output=True, text=True, errors="replace")
        if done.returncode != 0 or not (folder / "result.arrow").exists():
            raise WorkerFailed(f"{task}: exit status {done.returncode}: {done.stderr[-2000:]}")
        handle, result = tempfile.mkstemp(prefix="mubiao-result-", suffix=".arrow")
        os.close(handle)
        shutil.move(folder / "result.arrow", result)
        return Path(result)


def main(folder: Path) -> int:
    job = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    module, function = TASKS[job["task"]]
    fn = getattr(importlib.import_module(module), function)
    tables = {}
    for table_name in job["tables"]:
        with pa.OSFile(str(folder / f"{table_name}.arrow"), "rb") as source:
            tables[table_name] = pa.ipc.open_file(source).read_all()
    db.write_frame(folder / "result.arrow", fn(tables, **job["arguments"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
