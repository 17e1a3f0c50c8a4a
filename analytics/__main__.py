"""Command line: ``python -m analytics [--db PATH] COMMAND …`` — the same core the pages call.

Every reporting command prints one JSON document on stdout (``--format table`` for people).
Exit codes: 0 done / stored in full; 1 stored in part; 2 refused or bad request, nothing
stored; 3 database locked; 4 the same file was already stored.
"""
from __future__ import annotations

import argparse
import getpass
import json
import math
import sys
from datetime import date, datetime

import pandas as pd

from . import browse as browse_mod
from . import db, seed
from .errors import Actor, AnalyticsError
from .ingest import IngestOptions, ingest_path
from .roles import CLI_ROLE


def _actor() -> Actor:
    return Actor(f"cli:{getpass.getuser()}", CLI_ROLE)


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    """DataFrame → JSON-ready rows (NaN → null, timestamps ISO)."""
    return [{k: _jsonable(v) for k, v in row.items()} for row in frame.astype(object).where(frame.notna(), None).to_dict("records")]


def emit(doc, fmt: str) -> None:
    if fmt == "table" and isinstance(doc, list):
        print(pd.DataFrame(doc).to_string(index=False) if doc else "（无数据）")
    elif fmt == "table" and isinstance(doc, dict):
        for k, v in doc.items():
            print(f"{k}: {json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (list, dict)) else v}")
    else:
        json.dump(doc, sys.stdout, ensure_ascii=False, indent=1, default=str)
        print()


def _period_args(p: argparse.ArgumentParser, unit=True) -> None:
    p.add_argument("--year", type=int, help="年份（默认：库中最新年份）")
    p.add_argument("--period", type=int, help="期间，即截至月份 1-12（1-2月为 2；默认：最新期间）")
    if unit:
        p.add_argument("--unit", help="单位名称或编码")
        p.add_argument("--indicator", help="指标名称或编码")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m analytics", description="目标督查分析 命令行（输出 JSON）")
    ap.add_argument("--db", help="数据库文件（默认 data/dashboard.duckdb，可用环境变量 TARGETS_DB 覆盖）")
    ap.add_argument("--format", choices=["json", "table"], default="json", help="输出格式")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("init", help="创建数据库（--demo 载入内置演示数据）")
    p.add_argument("--demo", action="store_true", help="载入演示数据（库中已有上传时不重复载入）")
    p = sub.add_parser("ingest", help="上传一个 CSV/XLSX 文件")
    p.add_argument("file")
    p.add_argument("--year", type=int, help="文件未写明年份时使用")
    p.add_argument("--period", type=int, help="文件未写明期间时使用（文件写明不同期间则拒绝）")
    p.add_argument("--sheet", help="XLSX 工作表名称")
    p.add_argument("--mapping", help="列映射文件（JSON）")
    p.add_argument("--create-missing", action="store_true", help="自动创建未知单位/指标（标记“待完善”）")
    p.add_argument("--accept-partial", action="store_true", help="只存合格行，拒绝的行列入报告")
    p = sub.add_parser("browse", help="数据浏览：当前数值及其来源")
    _period_args(p)
    return ap


def _default_period(args, path) -> None:
    if getattr(args, "year", None) is None or getattr(args, "period", None) is None:
        latest = browse_mod.latest_period(path)
        if latest and args.year is None:
            args.year = latest[0]
        if latest and args.period is None and args.year == latest[0]:
            args.period = latest[1]


def run(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    path = db.db_path(args.db)
    try:
        if args.command == "init":
            with db.connect(path) as con:
                version = db.schema_version(con)
            seeded = seed.ensure_database(path, demo=True) if args.demo else False
            emit({"db": str(path), "schema_version": version, "demo_loaded": seeded}, args.format)
            return 0
        if args.command == "ingest":
            if args.mapping:
                raise AnalyticsError("--mapping 列映射将在宽表/公报格式导入中提供，当前版本尚不支持")
            report = ingest_path(args.file, _actor(), IngestOptions(
                args.year, args.period, args.sheet, args.create_missing, args.accept_partial), path)
            emit(report.to_dict(), args.format)
            return report.exit_code
        if args.command == "browse":
            _default_period(args, path)
            unit = browse_mod.resolve("unit", args.unit, path)
            indicator = browse_mod.resolve("indicator", args.indicator, path)
            emit(records(browse_mod.browse(args.year, args.period, unit, indicator, path)), args.format)
            return 0
    except AnalyticsError as e:
        emit(e.to_dict(), args.format)
        return e.exit_code
    except (LookupError, FileNotFoundError) as e:
        emit({"error": type(e).__name__, "reason": str(e).strip("'\"")}, args.format)
        return 2
    return 2


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
