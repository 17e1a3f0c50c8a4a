"""The fast path for big CSVs in the long (template) layout: parse with pyarrow into
columns and read the cell records from them through a DuckDB view, without a Python loop
over rows and without copying every cell.

It gives exactly the records the general path (``layouts.records``) gives, and steps
aside (returns None) for anything that path handles specially: quoted line breaks,
ragged rows (notes, unquoted thousands separators), "其中"/indented sub-rows or units
written in indicator names. Row numbers are the file's line numbers.
"""
from __future__ import annotations

import io
import re

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from . import validate
from .layouts import Shape

MIN_ROWS = 20_000  # below this the general path is fast enough and simpler to reason about
_SPECIAL_NAME = re.compile(r"^\s|^(其中|#|＃)|[（(]\s*\S+\s*[)）]\s*$")


def _line_numbers(data: bytes, skip: int) -> np.ndarray | None:
    """1-based line numbers of the non-empty lines after the first ``skip`` lines; None when a
    quoted field spans lines (then record ≠ line and the general path must count)."""
    a = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(a == 10)
    if (a == 34).any():
        quotes_before = np.cumsum(a == 34)[newlines]
        if (quotes_before % 2).any():
            return None
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(a)]))
    length = ends - starts
    cr = np.zeros(len(starts), dtype=bool)
    has = length > 0
    cr[has] = a[ends[has] - 1] == 13
    empty = (length - cr) == 0
    numbers = np.arange(1, len(starts) + 1)
    keep = ~empty
    keep[:skip] = False
    return numbers[keep]


def load(con: duckdb.DuckDBPyConnection, utf8: bytes, shape: Shape, header_line: int, delimiter: str,
         width: int) -> dict | None:
    """Create the temp view ``_recs`` from a long-layout CSV; return its key texts (what
    :func:`validate.distinct_keys` returns; ``rows``: the data rows read), or None when the
    general path must take the file."""
    if shape.layout != "long" or len(shape.header_rows) != 1:
        return None
    lines = _line_numbers(utf8, header_line)
    if lines is None or len(lines) < MIN_ROWS:
        return None
    names = [f"c{i}" for i in range(width)]
    try:
        table = pcsv.read_csv(
            io.BytesIO(utf8),
            read_options=pcsv.ReadOptions(skip_rows=header_line, column_names=names, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
            convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid:  # a ragged row: the general path reports it with its line
        return None
    if table.num_rows != len(lines):
        return None
    table = table.append_column("row", pa.array(lines.astype(np.int32)))
    table = table.filter(pc.invert(_blank_rows(table, names)))  # skipped, as the general path does
    key = {c.role: c for c in shape.columns if c.role in ("indicator", "unit", "uom", "year", "period", "measure")}
    special = pc.unique(table[f"c{key['indicator'].index}"]).to_pylist()
    if any(_SPECIAL_NAME.search(v or "") for v in special):
        return None
    ctx = shape.context
    # what the header states about each value/target column; None: read from the row's key column
    cells = [c for c in shape.columns if c.role in ("value", "target")]
    given = []
    for col in cells:
        year = str(col.year) if col.year else None
        if year is None and "year" not in key:
            year = str(ctx.year) if ctx.year else ""
        period = str(col.period) if col.period else None
        if period is None and "period" not in key:
            period = str(ctx.period) if ctx.period and col.role == "value" else ""
        uom = None if "uom" in key else (col.uom or ctx.uom or "")
        given.append({"year": year, "period": period, "uom": uom, "measure": col.measure, "unit": None,
                      "indicator": None})
    con.execute("CREATE OR REPLACE TEMP TABLE _cells(cell INTEGER, header VARCHAR, kind VARCHAR, year VARCHAR, "
                "period VARCHAR, uom VARCHAR, measure VARCHAR)")
    con.executemany("INSERT INTO _cells VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [[col.index, col.label, col.role, g["year"], g["period"], g["uom"], g["measure"]]
                     for col, g in zip(cells, given)])

    def text(role: str) -> str:  # SQL built from generated identifiers only
        return f"trim(r.c{key[role].index})" if role in key else "''"

    # one record per data row × value/target column, read from the arrow table on each use
    con.register("_raw", table)  # stays registered while the connection lives: _recs reads it
    keys = {"rows": int(table.num_rows)}  # validate.distinct_keys of _recs, from the rows' columns
    for name in validate.KEY_FIELDS:
        values = {g[name] for g in given if g[name] is not None}
        if any(g[name] is None for g in given):  # column names generated (c0…cN), never from the file
            values |= {v for (v,) in con.execute(f"SELECT DISTINCT {text(name)} FROM _raw r").fetchall()}
        keys[name] = list(values)
    keys["no_unit"] = all(v == "" for v in keys["unit"])  # unit texts are trimmed
    # the view's SQL holds generated column names and numbers only, never from the file (header texts are in _cells)
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _recs AS
        SELECT r.row, c.header, c.cell, c.kind, coalesce(c.year, {text("year")}) AS year,
               coalesce(c.period, {text("period")}) AS period, {text("unit")} AS unit,
               {text("indicator")} AS indicator, '' AS parent, coalesce(c.uom, {text("uom")}) AS uom,
               coalesce(c.measure, {text("measure")}) AS measure,
               CASE c.cell {" ".join(f"WHEN {col.index} THEN r.c{col.index}" for col in cells)} END AS text
        FROM _raw r CROSS JOIN _cells c""")
    return keys


def _blank_rows(table: pa.Table, names: list[str]) -> pa.ChunkedArray:
    """Rows whose every cell is blank; only rows with a blank first cell are looked at further."""
    blank = pc.equal(pc.utf8_trim_whitespace(table[names[0]]), "")
    if not pc.any(blank).as_py():
        return blank
    for name in names[1:]:
        blank = pc.and_(blank, pc.equal(pc.utf8_trim_whitespace(table[name]), ""))
    return blank
