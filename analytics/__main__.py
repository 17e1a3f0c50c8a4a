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
from . import mappings, progress
from . import scoring as scoring_mod
from . import simulation as simulation_mod
from .ingest import IngestOptions, ingest_path, withdraw_upload
from .roles import CLI_ROLE


GAP_HIDDEN = ("curve_end", "parent_id", "is_home")  # internal columns of progress.gap_table


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


def _jsonable_doc(doc):
    """Nested dicts/lists with numpy scalars and NaN → JSON-ready values."""
    if isinstance(doc, dict):
        return {str(k): _jsonable_doc(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [_jsonable_doc(v) for v in doc]
    return _jsonable(doc)


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
    for name, help_text in (("gap", "进度差距：完成率、时间进度、差距、欠账、所需月均进度、状态"),
                            ("owners", "责任落实：按分管领导/办事机构/单位汇总目标与欠进度"),
                            ("warnings", "早报告、早预警：重点、难点目标的预警清单")):
        p = sub.add_parser(name, help=help_text)
        _period_args(p)
        p.add_argument("--basis", choices=["linear", "seasonal", "plan"],
                       help="时间进度口径（默认：各指标自身设定）")
        if name == "owners":
            p.add_argument("--by", choices=["owner_leader", "owner_office", "owner_staff", "unit"],
                           default="owner_leader", help="汇总维度")
    p = sub.add_parser("score", help="考核得分与排名（现状：累计值对比按时间折算的目标；--projected：预计年末）")
    _period_args(p, unit=False)
    p.add_argument("--level", choices=["city", "county"], default="city",
                   help="city＝全市对县考核（同组排名）；county＝县内乡镇、县直部门（含整改承诺等后果）")
    p.add_argument("--projected", action="store_true", help="按预计年末值计分")
    p = sub.add_parser("simulate", help="保二争一：排名蒙特卡洛模拟（P(第一)、P(前二)、名次分布、杠杆）")
    _period_args(p, unit=False)
    p.add_argument("--draws", type=int, default=10000, help="模拟次数（默认 10000）")
    p.add_argument("--seed", type=int, default=20261127, help="随机数种子（固定，保证可复现）")
    p.add_argument("--scenario", help='情景 JSON，如 {"completion": {"I03": 100}, "honours": 1, '
                   '"deductions_avoided": 0.5, "rho": 0.5}')
    p = sub.add_parser("rules", help="计分规则文件")
    rsub = p.add_subparsers(dest="rules_command", required=True)
    rp = rsub.add_parser("check", help="校验规则文件（TOML）：未知方法、缺少分值、负数上限等")
    rp.add_argument("file")
    p = sub.add_parser("project", help="年终预测：预计年末值、80%%区间、完成目标概率 p_meet（0-1）、所需月均进度")
    _period_args(p)
    p.add_argument("--method", choices=["share", "trend", "combo"], default="combo", help="预测方法（默认 combo）")
    p = sub.add_parser("backtest", help="预测方法回测：按方法与月份的 MASE（对季节朴素法）与 80%%区间覆盖率")
    p.add_argument("--method", choices=["share", "trend", "combo"], action="append",
                   help="只回测该方法（可重复；默认全部）")
    p.add_argument("--months", default="3-11", help="回测月份，如 3-11 或 6,9（默认 3-11）")
    p = sub.add_parser("check", help="数据质量检查：漏报、累计关系、冒报/虚报、瞒报、公布值核对、修订（预警清单）")
    _period_args(p)
    p.add_argument("--rule", help="只看该规则（规则编号，如 cum_decrease）")
    p.add_argument("--format", choices=["json", "table"], default=argparse.SUPPRESS, help="输出格式")
    p = sub.add_parser("browse", help="数据浏览：当前数值及其来源")
    _period_args(p)
    p = sub.add_parser("lock", help="锁定报告期（该期通报发布后；之后涉及该期的上传被拒绝）")
    p.add_argument("--year", type=int, required=True, help="年份")
    p.add_argument("--period", type=int, required=True, help="期间，即截至月份 1-12")
    p.add_argument("--reason", default="", help="原因（如通报文号；记入审计日志）")
    p = sub.add_parser("unlock", help="解锁报告期以便更正（须填写原因，记入审计日志）")
    p.add_argument("--year", type=int, required=True, help="年份")
    p.add_argument("--period", type=int, required=True, help="期间，即截至月份 1-12")
    p.add_argument("--reason", required=True, help="解锁原因（必填，记入审计日志）")
    p = sub.add_parser("rollover", help="开始新年度：沿用单位、指标、责任人和计分规则，目标待导入（新年度已有数据则拒绝）")
    p.add_argument("--from", dest="from_year", type=int, required=True, help="上一年度")
    p.add_argument("--to", dest="to_year", type=int, required=True, help="新年度")
    p = sub.add_parser("bulletin", help="定期通报：生成 Word（.docx）或 Excel（.xlsx）通报，可另出预警通知单")
    _period_args(p, unit=False)
    p.add_argument("--out", required=True, help="输出文件：FILE.docx 或 FILE.xlsx")
    p.add_argument("--notices", help="另存各责任单位的预警通知单（FILE.docx）")
    p.add_argument("--template", help="参考 .docx 模板（沿用其样式与页面设置）")
    p.add_argument("--no-charts", action="store_true", help="不生成图表（仅表格）")
    p.add_argument("--draws", type=int, help="排名模拟次数（默认与“保二争一”页相同）")
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
        if args.command not in ("init", "ingest", "rules") and not path.exists():
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
        if args.command in ("gap", "owners", "warnings"):
            _default_period(args, path)
            unit = browse_mod.resolve("unit", args.unit, path)
            indicator = browse_mod.resolve("indicator", args.indicator, path)
            table = progress.gap_table(args.year, args.period, path, [unit] if unit else None,
                                       [indicator] if indicator else None, args.basis)
            if args.command == "owners":
                table = progress.owners_view(table, args.by)
            elif args.command == "warnings":
                table = progress.warnings(table).drop(columns="rules")
            emit(records(table.drop(columns=[c for c in GAP_HIDDEN if c in table])), args.format)
            return 0
        if args.command == "rules":
            emit(scoring_mod.check_rules(args.file), args.format)
            return 0
        if args.command in ("score", "simulate"):
            _default_period(args, path)
            if args.command == "score":
                scored = simulation_mod.standing(args.year, args.period, args.level, args.projected, path)
                doc = {"year": args.year, "period": args.period, "level": args.level,
                       "basis": "projected" if args.projected else "current",
                       "units": records(scored.units), "scores": records(scored.detail)}
                if args.level == "county":
                    city = simulation_mod.standing(args.year, args.period, "city", args.projected, path)
                    doc["consequences"] = records(scoring_mod.consequences(scored, city))
                emit(doc, args.format)
                return 0
            try:
                scenario = json.loads(args.scenario) if args.scenario else None
                doc = simulation_mod.simulate(args.year, args.period, args.draws, args.seed, scenario, path=path)
            except (ValueError, TypeError) as e:
                raise AnalyticsError(f"情景无效：{e}") from None
            emit(_jsonable_doc(doc), args.format)
            return 0
        if args.command in ("project", "backtest"):
            from . import projection as projection_mod
            if args.command == "project":
                _default_period(args, path)
                emit(records(projection_mod.project(args.year, args.period, path, args.method, args.unit,
                                                    args.indicator)), args.format)
                return 0
            a, _, b = args.months.partition("-")
            months = range(int(a), int(b) + 1) if b else [int(x) for x in args.months.split(",")]
            emit(records(projection_mod.backtest(path, args.method or projection_mod.METHODS, months)), args.format)
            return 0
        if args.command == "check":
            from . import quality as quality_mod
            _default_period(args, path)
            unit = browse_mod.resolve("unit", args.unit, path)
            indicator = browse_mod.resolve("indicator", args.indicator, path)
            flags = quality_mod.check(args.year, args.period, path)
            keep = ((flags.unit_id == unit) if unit else True) & ((flags.indicator_id == indicator) if indicator else True)
            flags = flags[keep & ((flags.rule == args.rule) if args.rule else True)] if (unit or indicator or args.rule) \
                else flags
            doc = quality_mod.records(flags)
            if args.format == "table":
                doc = [{k: r[k] for k in ("severity", "rule", "unit", "indicator", "period", "explanation", "verified")}
                       for r in doc]
            emit(doc, args.format)
            return 0
        if args.command == "browse":
            _default_period(args, path)
            unit = browse_mod.resolve("unit", args.unit, path)
            indicator = browse_mod.resolve("indicator", args.indicator, path)
            emit(records(browse_mod.browse(args.year, args.period, unit, indicator, path)), args.format)
            return 0
        if args.command in ("lock", "unlock", "rollover"):
            from . import library, locks
            if args.command == "rollover":
                emit(library.rollover(args.from_year, args.to_year, _actor(), path), args.format)
            else:
                fn = locks.lock_period if args.command == "lock" else locks.unlock_period
                emit(fn(args.year, args.period, _actor(), args.reason, path), args.format)
            return 0
        if args.command == "bulletin":
            from pathlib import Path as _Path
            from . import bulletin as bulletin_mod
            _default_period(args, path)
            out = _Path(args.out)
            if out.suffix.lower() not in (".docx", ".xlsx") or (args.notices and not args.notices.lower().endswith(".docx")):
                raise AnalyticsError("输出文件须为 .docx 或 .xlsx（预警通知单须为 .docx）")
            if args.period is None:
                raise AnalyticsError("库中暂无数据，无法生成通报")
            b = bulletin_mod.collect(args.year, args.period, path, charts=not args.no_charts, draws=args.draws)
            doc = {"year": args.year, "period": args.period, "title": b.title, "summary": b.summary, "out": str(out)}
            if out.suffix.lower() == ".docx":
                content, doc["charts_rendered"] = bulletin_mod.to_docx(b, args.template, not args.no_charts)
            else:
                content = bulletin_mod.to_xlsx(b)
            out.write_bytes(content)
            if args.notices:
                _Path(args.notices).write_bytes(bulletin_mod.notices_docx(b, args.template))
                doc["notices"] = args.notices
            doc["sections_missing"] = {s.title: s.missing for s in b.sections if s.missing is not None}
            emit(doc, args.format)
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
