"""ingest_utf8 / ingest_gbk: the whole ingest of a generated long-layout CSV (decode, hash,
parse, validate, store in one transaction) ÷ DuckDB's bare
``CREATE TABLE … AS SELECT * FROM read_csv(…)`` of the same UTF-8 file, same run.

    python benchmarks/ingest.py [--rows 1000000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import duckdb

from common import best_of, figure

from analytics.demo import generate_long_csv, generate_reference
from analytics.errors import Actor
from analytics.ingest import ingest_bytes, ingest_path

BENCH = Actor("bench", "admin")


def run(rows: int = 1_000_000, repeat: int = 3) -> list[dict]:
    work = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    try:
        n_units, n_months = 300, 11
        n_indicators = max(1, -(-rows // (n_units * n_months)))
        refs = generate_reference(work, n_units, n_indicators)
        utf8 = work / "long_utf8.csv"
        written = generate_long_csv(utf8, n_units, n_indicators, n_months)
        gbk = work / "long_gbk.csv"
        gbk.write_bytes(utf8.read_text(encoding="utf-8").encode("gbk"))
        template = work / "ref.duckdb"
        for f in refs:
            assert ingest_path(f, BENCH, path=template).status == "stored"

        def bare():
            con = duckdb.connect(str(work / "bare.duckdb"))
            con.execute("DROP TABLE IF EXISTS t")
            con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [str(utf8)])
            con.close()

        def ours(source: Path):
            def go():
                target = work / "ours.duckdb"
                for suffix in ("", ".wal", ".version"):
                    Path(str(target) + suffix).unlink(missing_ok=True)
                shutil.copy(template, target)
                report = ingest_bytes(source.read_bytes(), source.name, BENCH, path=target)
                assert report.status == "stored" and report.rows_stored == written, report.message
            return go

        baseline = best_of(bare, repeat)
        out = [figure("ingest_utf8", best_of(ours(utf8), repeat), "s", f"duckdb read_csv CTAS {written:,} rows", baseline),
               figure("ingest_gbk", best_of(ours(gbk), repeat), "s", f"duckdb read_csv CTAS {written:,} rows (UTF-8)", baseline)]
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    run(a.rows, a.repeat)
