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
KEY_ROLES = ("indicator", "unit", "uom", "year", "period", "measure")
_DICTIONARY = pa.dictionary(pa.int32(), pa.string())
_SPECIAL_NAME = re.compile(r"^\s|^(其中|#|＃)|[（(]\s*\S+\s*[)）]\s*$")


def _line_numbers(data: bytes, skip: int, rows: int) -> np.ndarray | None:
    """1-based line numbers of the non-empty lines after the first ``skip`` lines (those of the
    ``rows`` records pyarrow read); None when a quoted field spans lines (then record ≠ line
    and the general path must count)."""
    # Without quotes, and with lines ending in "\n" or "\r\n" only (pyarrow also ends one at a
    # lone "\r"), a record on every line after the header means no empty line was skipped.
    if b'"' not in data and (b"\r" not in data or data.count(b"\r") == data.count(b"\r\n")):
        last = data.count(b"\n") + 1 - data.endswith(b"\n")  # a final line break ends the last line
        if rows == last - skip:
            return np.arange(skip + 1, last + 1, dtype=np.int32)
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
    numbers = np.arange(1, len(starts) + 1, dtype=np.int32)
    keep = ~empty
    keep[:skip] = False
    return numbers[keep]


def load(con: duckdb.DuckDBPyConnection, utf8: bytes, shape: Shape, header_line: int, delimiter: str,
         width: int) -> dict | None:
    """Create the temp view ``_recs`` from a long-layout CSV (``utf8``: the file in UTF-8, valid:
    the bytes read_table decoded, or its text encoded); return its key texts (what
    :func:`validate.distinct_keys` returns; ``rows``: the data rows read), or None when the
    general path must take the file."""
    if shape.layout != "long" or len(shape.header_rows) != 1:
        return None
    key = {c.role: c for c in shape.columns if c.role in KEY_ROLES}
    names = [f"c{i}" for i in range(width)]
    # key columns have few distinct texts: read as dictionaries, their texts are trimmed once
    # per distinct text (not per row) and their distinct texts come without a scan
    keyed = {f"c{c.index}" for c in key.values()}
    types = {n: _DICTIONARY if n in keyed else pa.string() for n in names}
    table = _read(utf8, header_line, names, delimiter, types, 1 << 22)
    if table is None or table.num_rows < MIN_ROWS:
        return None
    lines = _line_numbers(utf8, header_line, table.num_rows)
    if lines is None or table.num_rows != len(lines):
        return None
    table = table.append_column("row", pa.array(lines))
    blank = _blank_rows(table, names, f"c{key['indicator'].index}")
    if blank is not None:  # skipped, as the general path does
        table = table.filter(pc.invert(blank))
    if any(_SPECIAL_NAME.search(v) for v in _distinct(table[f"c{key['indicator'].index}"])):
        return None
    table = _trim_keys(con, table, keyed)
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
        return f"r.c{key[role].index}" if role in key else "''"  # trimmed by _trim_keys

    # one record per data row × value/target column, read from the arrow table on each use
    con.register("_raw", table)  # stays registered while the connection lives: _recs reads it
    keys = {"rows": int(table.num_rows)}  # validate.distinct_keys of _recs, from the rows' columns
    for name in validate.KEY_FIELDS:
        values = {g[name] for g in given if g[name] is not None}
        if any(g[name] is None for g in given):
            values |= set(_distinct(table[f"c{key[name].index}"]) if name in key else [""])
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


def _read(utf8: bytes, skip: int, names: list[str], delimiter: str, types: dict, block: int) -> pa.Table | None:
    """The rows after the first ``skip`` lines, in blocks of ``block`` bytes (4 MB: the fastest
    here; a row longer than a block is read again in 16 MB blocks). None for a ragged row: the
    general path reports it with its line. The bytes are UTF-8 already checked (readers decodes
    every file first): pyarrow does not check them again."""
    try:
        return pcsv.read_csv(
            io.BytesIO(utf8), read_options=pcsv.ReadOptions(skip_rows=skip, column_names=names, block_size=block),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
            convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                                quoted_strings_can_be_null=False, check_utf8=False))
    except pa.ArrowInvalid as e:
        if "straddl" in str(e) and block < 1 << 24:
            return _read(utf8, skip, names, delimiter, types, 1 << 24)
        return None


def _distinct(column: pa.ChunkedArray) -> list[str]:
    """The distinct texts of a dictionary column's rows (a filtered chunk may keep unused entries)."""
    return list({v for chunk in column.chunks for v in chunk.dictionary.take(pc.unique(chunk.indices)).to_pylist()})


def _trim_keys(con: duckdb.DuckDBPyConnection, table: pa.Table, keyed: set[str]) -> pa.Table:
    """The key columns with their dictionaries trimmed by DuckDB's own ``trim`` (the one the
    validation uses): one query for every dictionary entry of every chunk, not one per row."""
    columns = {name: table[name].chunks for name in keyed}
    texts = [v for chunks in columns.values() for c in chunks for v in c.dictionary.to_pylist()]
    trimmed = iter(con.execute("SELECT list_transform(?::VARCHAR[], lambda t: trim(t))", [texts]).fetchone()[0])
    for name, chunks in columns.items():
        column = pa.chunked_array([pa.DictionaryArray.from_arrays(c.indices, pa.array(
            [next(trimmed) for _ in range(len(c.dictionary))], pa.string())) for c in chunks], _DICTIONARY)
        table = table.set_column(table.schema.get_field_index(name), name, column)
    return table


def _blank_rows(table: pa.Table, names: list[str], first: str) -> pa.ChunkedArray | None:
    """Rows whose every cell is blank, or None when there is none: the dictionary column
    ``first`` is looked at first (once per distinct text), the others only if some are blank."""
    column = table[first]
    blank = [pc.equal(pc.utf8_trim_whitespace(c.dictionary), "") for c in column.chunks]
    if not any(pc.any(b).as_py() for b in blank):
        return None
    mask = pa.chunked_array([b.take(c.indices) for b, c in zip(blank, column.chunks)], pa.bool_())
    for name in names:
        if name != first:
            values = table[name]
            if pa.types.is_dictionary(values.type):
                values = values.cast(pa.string())
            mask = pc.and_(mask, pc.equal(pc.utf8_trim_whitespace(values), ""))
    return mask
