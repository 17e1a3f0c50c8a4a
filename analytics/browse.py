"""What is stored: the 数据浏览 rows (each value with its unit of measure and the upload it
came from) and the choices the selectors offer."""
from __future__ import annotations

import json
import os

import pandas as pd

from . import db

PathLike = str | os.PathLike | None


_RESOLVE = {"unit": "SELECT unit_id FROM units WHERE unit_id = ? OR name = ?",
            "indicator": "SELECT indicator_id FROM indicators WHERE indicator_id = ? OR name = ?"}


def resolve(kind: str, ref: str | None, path: PathLike = None) -> str | None:
    """A unit or indicator given by id or name → its id (None passes through)."""
    if ref is None or ref == "":
        return None
    row = db.query(_RESOLVE[kind], [ref, ref], path)
    if row.empty:
        raise LookupError(f"没有名为「{ref}」的{'单位' if kind == 'unit' else '指标'}")
    return str(row.iloc[0, 0])


def catalog(path: PathLike = None) -> dict:
    """Years and periods with values, units and indicators — for selectors and the CLI default."""
    with db.connect(path) as con:
        # the (year, period) pairs of current_observations, without its window: a pair has a
        # current value exactly when some upload not withdrawn holds one
        periods = con.execute("""SELECT year, max(period) AS latest, list(DISTINCT period ORDER BY period) AS periods
                                 FROM observations JOIN uploads USING (upload_id) WHERE status <> 'withdrawn'
                                 GROUP BY year ORDER BY year""").df()
        units = con.execute("""SELECT unit_id, name, level, parent_id, peer_group, is_home FROM units
                               ORDER BY CASE level WHEN 'city' THEN 0 WHEN 'county' THEN 1
                               WHEN 'township' THEN 2 ELSE 3 END, unit_id""").df()
        indicators = con.execute("""SELECT indicator_id, name, unit_of_measure, kind, category, needs_review
                                    FROM indicators ORDER BY indicator_id""").df()
    return {"years": {int(r.year): [int(p) for p in r.periods] for r in periods.itertuples()},
            "units": units, "indicators": indicators}


def latest_period(path: PathLike = None, year: int | None = None) -> tuple[int, int] | None:
    """(year, period) of the latest reported period (of ``year`` if given), None when empty."""
    row = db.query("""SELECT year, max(period) FROM current_observations
                      WHERE year = coalesce(?, (SELECT max(year) FROM current_observations)) GROUP BY year""",
                   [year], path)
    return None if row.empty else (int(row.iloc[0, 0]), int(row.iloc[0, 1]))


def browse(year: int | None = None, period: int | None = None, unit: str | None = None,
           indicator: str | None = None, path: PathLike = None) -> pd.DataFrame:
    """Current values (latest revision, withdrawn uploads excluded) with their unit of
    measure, the annual target of the same measure, and the upload each came from."""
    return db.query("""
        SELECT o.year, o.period, u.name AS unit, o.unit_id, i.name AS indicator, o.indicator_id,
               o.measure, o.value, CASE WHEN o.measure IN ('growth_pct', 'published_completion_pct')
                   THEN '%' WHEN o.measure = 'published_rank' THEN '位' ELSE i.unit_of_measure END AS unit_of_measure,
               t.target, o.approx, o.upload_id, up.file_name, up.uploaded_by, up.uploaded_at, o.source_row,
               r.revisions
        FROM current_observations o
        JOIN (SELECT year, period, unit_id, indicator_id, measure, count(*) AS revisions FROM observations
              GROUP BY ALL) r USING (year, period, unit_id, indicator_id, measure)
        JOIN units u USING (unit_id) JOIN indicators i USING (indicator_id) JOIN uploads up USING (upload_id)
        LEFT JOIN current_targets t ON t.year = o.year AND t.unit_id = o.unit_id
             AND t.indicator_id = o.indicator_id AND t.measure = o.measure
        WHERE ($year IS NULL OR o.year = $year) AND ($period IS NULL OR o.period = $period)
          AND ($unit IS NULL OR o.unit_id = $unit) AND ($indicator IS NULL OR o.indicator_id = $indicator)
        ORDER BY o.year, o.period, o.unit_id, o.indicator_id, o.measure""",
                    {"year": year, "period": period, "unit": unit, "indicator": indicator}, path)


def uploads(path: PathLike = None) -> pd.DataFrame:
    """The upload history, newest first."""
    return db.query("""SELECT upload_id, file_name, layout, uploaded_by, uploaded_at, rows_read, rows_stored,
                              rows_rejected, status, message FROM uploads ORDER BY upload_id DESC""", None, path)


def upload_report(upload_id: int, path: PathLike = None) -> dict | None:
    """The validation report stored with an upload (as the page showed it then)."""
    row = db.query("SELECT report FROM uploads WHERE upload_id = ?", [upload_id], path)
    return None if row.empty or row.iloc[0, 0] is None else json.loads(row.iloc[0, 0])
