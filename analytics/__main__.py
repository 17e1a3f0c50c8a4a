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
import signal
import sys
from datetime import date, datetime

import pandas as pd

from . import audit as audit_mod
from . import browse as browse_mod
from . import db, seed
from .errors import Actor, AnalyticsError
from . import mappings
from .ingest import IngestOptions, ingest_path, withdraw_upload
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
    p = sub.add_parser("withdraw", help="撤回一次上传（其数值不再为当前值，之前的修订恢复；不删除任何数据）")
    p.add_argument("upload_id", type=int)
    p.add_argument("--reason", default="", help="撤回原因（记入审计日志）")
    p = sub.add_parser("browse", help="数据浏览：当前数值及其来源")
    _period_args(p)
    p = sub.add_parser("audit", help="审计日志：谁在何时做了什么（最新在前）")
    p.add_argument("--user", help="只看该用户名")
    p.add_argument("--action", help="只看该操作（如 upload、user_add、login_failed）")
    p.add_argument("--since", help="起始时间（含），YYYY-MM-DD 或 YYYY-MM-DDTHH:MM")
    p.add_argument("--until", help="截止时间：日期含当天，时间不含该时刻")
    p.add_argument("--limit", type=int, help="最多输出条数")
    return ap


def _default_period(args, path) -> None:
    """--year/--period default to the latest period in the database (of --year if given)."""
    if args.period is None:
        latest = browse_mod.latest_period(path, args.year)
        if latest:
            args.year, args.period = latest


def run(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    path = db.db_path(args.db)
    try:
        if args.command not in ("init", "ingest") and not path.exists():
            raise AnalyticsError(f"数据库文件不存在：{path}（先运行 python -m analytics init --demo）")
        if args.command == "init":
            with db.connect(path) as con:
                version = db.schema_version(con)
            seeded = seed.ensure_database(path, demo=True) if args.demo else False
            emit({"db": str(path), "schema_version": version, "demo_loaded": seeded}, args.format)
            return 0
        if args.command == "ingest":
            mapping = mappings.read(args.mapping) if args.mapping else None
            report = ingest_path(args.file, _actor(), IngestOptions(
                args.year, args.period, args.sheet, args.create_missing, args.accept_partial), path, mapping)
            emit(report.to_dict(), args.format)
            return report.exit_code
        if args.command == "withdraw":
            emit(withdraw_upload(args.upload_id, _actor(), args.reason, path), args.format)
            return 0
        if args.command == "browse":
            _default_period(args, path)
            unit = browse_mod.resolve("unit", args.unit, path)
            indicator = browse_mod.resolve("indicator", args.indicator, path)
            emit(records(browse_mod.browse(args.year, args.period, unit, indicator, path)), args.format)
            return 0
        if args.command == "audit":
            try:
                frame = audit_mod.query(args.user, args.action, args.since, args.until, args.limit, path)
            except ValueError as e:
                raise AnalyticsError(f"时间格式无效（应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM）：{e}") from None
            emit(audit_mod.records(frame), args.format)
            return 0
    except AnalyticsError as e:
        emit(e.to_dict(), args.format)
        return e.exit_code
    except FileNotFoundError as e:
        emit({"error": "FileNotFoundError", "reason": f"文件不存在：{e.filename}"}, args.format)
        return 2
    except LookupError as e:
        emit({"error": type(e).__name__, "reason": e.args[0] if e.args else str(e)}, args.format)
        return 2
    return 2


def main() -> None:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `… | head` ends quietly
    sys.exit(run())


if __name__ == "__main__":
    main()
