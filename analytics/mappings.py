"""Saved column mappings: what an analyst confirmed for one table shape, reused for next
month's file of the same shape (upload page and ``ingest --mapping``).

A mapping is JSON: ``{"columns": {header label: {"role", "measure", "period", "year", "uom",
"indicator"}}, "year": Y, "period": M, "uom": U}`` — any part may be left out. Shapes are
identified by the signature of their header labels; files live next to the database in
``mappings/<signature>.json``.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from . import db
from .errors import Actor, AnalyticsError
from .layouts import Shape
from .parse import MEASURES
from .roles import require

ALLOWED = {"columns", "year", "period", "uom", "name"}
COLUMN_KEYS = {"role", "measure", "period", "year", "uom", "indicator"}
ROLES = ("indicator", "unit", "uom", "year", "period", "measure", "remark", "ignore", "value", "target")


def signature(shape: Shape) -> str:
    """Same header labels (in order) → same signature, whatever the period in the labels."""
    labels = [c.label for c in shape.columns]
    return hashlib.sha1(json.dumps([shape.layout, labels], ensure_ascii=False).encode()).hexdigest()[:16]


def directory(path: str | os.PathLike | None = None) -> Path:
    return db.db_path(path).parent / "mappings"


def validate(mapping: dict, source: str = "映射") -> dict:
    """Refuse unknown keys and roles, with the key named."""
    if not isinstance(mapping, dict):
        raise AnalyticsError(f"{source}：应为 JSON 对象")
    unknown = set(mapping) - ALLOWED
    if unknown:
        raise AnalyticsError(f"{source}：未知的键 {sorted(unknown)}（允许 {sorted(ALLOWED)}）")
    for label, spec in (mapping.get("columns") or {}).items():
        bad = set(spec) - COLUMN_KEYS
        if bad:
            raise AnalyticsError(f"{source}：列「{label}」含未知的键 {sorted(bad)}")
        if "role" in spec and spec["role"] not in ROLES:
            raise AnalyticsError(f"{source}：列「{label}」的角色「{spec['role']}」无效（可选 {'/'.join(ROLES)}）")
        if spec.get("measure") not in (None, *MEASURES):
            raise AnalyticsError(f"{source}：列「{label}」的口径「{spec['measure']}」无效（可选 {'/'.join(MEASURES)}）")
        for key in ("period", "year"):
            if spec.get(key) is not None and not isinstance(spec[key], int):
                raise AnalyticsError(f"{source}：列「{label}」的 {key} 应为整数")
    return mapping


def read(file: str | os.PathLike) -> dict:
    try:
        return validate(json.loads(Path(file).read_text(encoding="utf-8")), str(file))
    except json.JSONDecodeError as e:
        raise AnalyticsError(f"{file}：不是有效的 JSON（第 {e.lineno} 行：{e.msg}）") from None


def saved(sig: str, path: str | os.PathLike | None = None) -> dict | None:
    f = directory(path) / f"{sig}.json"
    return read(f) if f.exists() else None


def save(sig: str, mapping: dict, actor: Actor, path: str | os.PathLike | None = None) -> Path:
    """Store the mapping for this table shape (audited: who saved what)."""
    require(actor, "upload")
    validate(mapping)
    target = directory(path) / f"{sig}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    before = saved(sig, path)
    with db.connect(path) as con, db.transaction(con, actor, "save_mapping",
                                                  {"signature": sig, "before": before, "after": mapping}):
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(mapping, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, target)
    return target


def _plain(value, key: str):
    """Editor cells → JSON values: NaN/blank → None, whole floats of period/year → int."""
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return None
    if key in ("period", "year"):
        return int(value)
    return value


def from_columns(edited: list[dict], detected: list[dict], **overrides) -> dict:
    """The mapping an analyst confirmed: the column specs that differ from what was
    detected, plus year/period/uom overrides that were set."""
    auto = {c["label"]: c for c in detected}
    columns = {}
    for col in edited:
        spec = {k: _plain(col.get(k), k) for k in COLUMN_KEYS}
        if any(spec[k] != auto.get(col["label"], {}).get(k) for k in COLUMN_KEYS):
            columns[col["label"]] = {k: v for k, v in spec.items() if v not in (None, "")}
    mapping = {"columns": columns} if columns else {}
    mapping.update({k: v for k, v in overrides.items() if v not in (None, "")})
    return validate(mapping)
