"""The fast path for big CSVs in the long (template) layout: parse with pyarrow into
columns and build the cell records in DuckDB, without a Python loop over rows.

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
         width: int) -> int | None:
    """Create the temp table ``_recs`` from a long-layout CSV; return the data rows read, or
    None when the general path must take the file."""
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
    blank = None  # rows whose every cell is blank are skipped, as the general path does
    for name in names:
        empty = pc.equal(pc.utf8_trim_whitespace(table[name]), "")
        blank = empty if blank is None else pc.and_(blank, empty)
    table = table.filter(pc.invert(blank))
    con.register("_raw", table)
    key = {c.role: c for c in shape.columns if c.role in ("indicator", "unit", "uom", "year", "period", "measure")}
    indicator = f"c{key['indicator'].index}"
    special = con.execute("SELECT DISTINCT " + indicator + " FROM _raw").fetchall()
    if any(_SPECIAL_NAME.search(v or "") for (v,) in special):
        con.unregister("_raw")
        return None
    ctx = shape.context

    def text(role: str) -> str | None:  # SQL built from generated identifiers only
        return f"trim(c{key[role].index})" if role in key else None

    parts, params = [], []
    for col in shape.columns:
        if col.role not in ("value", "target"):
            continue
        # what the header states is a parameter; what a key column holds is read per row
        fields = {"year": str(col.year) if col.year else None,
                  "period": str(col.period) if col.period else None,
                  "unit": None, "indicator": None,
                  "uom": None if "uom" in key else (col.uom or ctx.uom or ""),
                  "measure": col.measure}
        if fields["year"] is None and "year" not in key:
            fields["year"] = str(ctx.year) if ctx.year else ""
        if fields["period"] is None and "period" not in key:
            fields["period"] = str(ctx.period) if ctx.period and col.role == "value" else ""
        select = ["row", "? AS header", "? AS cell", "? AS kind"]
        params += [col.label, col.index, col.role]
        for name, given in fields.items():
            if given is not None:
                select.append(f"? AS {name}")
                params.append(given)
            else:
                select.append(f"{text(name) or chr(39) * 2} AS {name}")
            if name == "indicator":
                select.append("'' AS parent")
        select.append(f"c{col.index} AS text")
        parts.append("SELECT " + ", ".join(select) + " FROM _raw")
    con.execute("CREATE OR REPLACE TEMP TABLE _recs AS " + " UNION ALL ".join(parts), params)
    con.unregister("_raw")
    return int(table.num_rows)
