"""Bytes → a table of text cells with their row numbers in the file.

Encodings are detected, then verified by strictly decoding the **whole** file; if no
candidate decodes cleanly the file is refused with what to do. There is no latin-1
fallback (it would turn GBK into mojibake silently).
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field

from .errors import IngestError

MAX_BYTES = 200 * 1024 * 1024
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


@dataclass
class Table:
    """A decoded file: ``rows`` are (row number in the file, cells as text)."""

    file: str
    rows: list[tuple[int, list[str]]]
    encoding: str = ""
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (row1, col1, row2, col2), 1-based
    uncached: list[tuple[int, int, str, str]] = field(default_factory=list)  # formulas without a cached value
    text: str | None = None  # CSV: the decoded text
    delimiter: str = ","
    complete: bool = True  # False: only the first rows were parsed (see read_csv_text's head)


def refuse_uncached(table: Table, header: list[str]) -> None:
    """A formula with no cached value is refused (never read as empty), naming its column
    by the header text above it."""
    if table.uncached:
        row, col, coordinate, formula = table.uncached[0]
        label = header[col - 1] if col - 1 < len(header) and header[col - 1] else coordinate
        raise IngestError(f"单元格 {coordinate} 是公式（{formula[:60]}）但没有缓存的计算结果；请在 Excel/WPS 中"
                          f"打开并保存后再上传（不会把它当作空值）；共 {len(table.uncached)} 个这样的单元格",
                          table.file, row, label)


def _mixed_line(data: bytes) -> int | None:
    """The first line whose encoding differs from the others' (some lines strict UTF-8 with
    Chinese, others not) — a file pasted together from two sources."""
    utf8_line = other_line = None
    for number, line in enumerate(data.split(b"\n"), start=1):
        if max(line, default=0) < 0x80:
            continue
        try:
            text = line.decode("utf-8")
            if sum(ord(ch) > 0x7F for ch in text) >= 2 and utf8_line is None:
                utf8_line = number
        except UnicodeDecodeError:
            other_line = other_line or number
        if utf8_line and other_line:
            return max(utf8_line, other_line)
    return None


def decode(data: bytes, file: str) -> tuple[str, str]:
    """Return (text, encoding name). Candidates: BOM, UTF-8, then GBK/GB18030 (and whatever
    charset-normalizer ranks first); each verified by a strict decode of all bytes."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), {"utf-8-sig": "UTF-8 (BOM)"}.get(enc, "UTF-16")
            except UnicodeDecodeError as e:
                raise IngestError(f"文件以 {enc} 标记开头，但第 {e.start} 字节处无法按该编码解码；"
                                  "请在 Excel/WPS 中另存为“CSV UTF-8”后重新上传", file) from None
    if b"\x00" in data[:4096]:
        for enc in ("utf-16-le", "utf-16-be"):  # UTF-16 without a byte-order mark
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            if text and not any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text[:4096]):
                return text, "UTF-16"
        raise IngestError("文件含有二进制内容，不是文本表格（CSV）；若是 Excel 文件请使用 .xlsx 扩展名上传", file)
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        line = _mixed_line(data)
        if line is not None:
            raise IngestError("文件混用了多种编码（部分行是 UTF-8，部分行是 GBK 等），无法可靠解码；"
                              "请在 Excel/WPS 中统一另存为“CSV UTF-8”后再上传", file, line) from None
    candidates = ["gbk", "gb18030"]
    from charset_normalizer import from_bytes  # ranks the double-byte candidates (Big5 vs GBK)
    best = from_bytes(data[:65536]).best()
    if best is not None and best.encoding.startswith(("big5", "gb", "hz")) and best.encoding not in candidates:
        candidates.insert(0, best.encoding)
    for enc in candidates:
        try:
            return data.decode(enc), {"gbk": "GBK", "gb18030": "GB18030"}.get(enc, enc.upper())
        except UnicodeDecodeError:
            continue
    raise IngestError("无法确定文件编码：按 UTF-8、GBK、GB18030 均不能完整解码（可能混用了多种编码或文件已损坏）。"
                      "请在 Excel/WPS 中打开后“另存为 → CSV UTF-8（逗号分隔）”再上传", file)


def _delimiter(text: str) -> str:
    sample = [line for line in text[:20000].splitlines() if line.strip()][:30]
    counts = {d: sum(line.count(d) for line in sample) for d in (",", "\t", ";")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_csv_text(text: str, file: str, encoding: str, head: int | None = None) -> Table:
    """Parse CSV text into rows numbered by their first line in the file; ``head`` stops after
    that many records (for a first look at a big file; ``Table.complete`` is then False)."""
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    complete = True
    try:
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
            if head is not None and len(rows) >= head:
                complete = False
                break
    except csv.Error as e:
        if "field larger than field limit" in str(e):
            raise IngestError(f"有单元格超过 {csv.field_size_limit() // 1024:,} KB（单元格内容过大，或引号不成对使大段文字"
                              "被当成一个单元格），已拒绝", file, start) from None
        raise IngestError(f"CSV 格式错误（{e}），请检查引号是否成对", file, start) from None
    return Table(file, rows, encoding, text=text, delimiter=delimiter, complete=complete)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


MAX_UNZIPPED = 300 * 1024 * 1024
MAX_RATIO = 200


def _check_zip(data: bytes, file: str) -> None:
    """Refuse archives that are not workbooks or that inflate far beyond their size (zip bombs)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise IngestError(f"文件已损坏或被截断，无法作为 Excel 工作簿打开（{e}）", file) from None
    if "xl/workbook.xml" not in names:
        raise IngestError("这是一个压缩包，但不是 Excel（.xlsx）工作簿", file)
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED or total > MAX_RATIO * max(len(data), 1) + 50 * 1024 * 1024:
        raise IngestError(f"工作簿解压后达 {total / 1e6:,.0f} MB（压缩包仅 {len(data) / 1e6:,.1f} MB），"
                          "疑似压缩炸弹，已拒绝", file)


def _load(data: bytes, file: str, formulas: bool):
    import openpyxl
    try:
        return openpyxl.load_workbook(io.BytesIO(data), data_only=not formulas)
    except Exception as e:  # openpyxl raises many types for broken files
        raise IngestError(f"不是有效的 Excel（.xlsx）工作簿：{type(e).__name__}: {str(e)[:200]}", file) from None


def sheet_list(data: bytes, file: str) -> list[dict]:
    """Every sheet with its state (visible/hidden/veryHidden) and size, for the upload page."""
    _check_zip(data, file)
    wb = _load(data, file, formulas=False)
    return [{"name": ws.title, "state": ws.sheet_state, "rows": ws.max_row if ws.max_row > 1 or ws["A1"].value else 0}
            for ws in wb.worksheets]


def _is_empty(ws) -> bool:
    return not any(v is not None and str(v).strip() for row in ws.iter_rows(values_only=True) for v in row)


def read_xlsx(data: bytes, file: str, sheet: str | None = None) -> Table:
    """One sheet as text, formulas as their cached values (a formula without a cached value
    is refused, never read as empty). Without a chosen sheet: the first visible sheet that
    holds data; an empty visible sheet is never read silently. Merged ranges are kept in
    ``Table.merged`` (the layout code spreads vertical merges down data rows)."""
    _check_zip(data, file)
    formulas = _load(data, file, formulas=True)
    states = {ws.title: ws.sheet_state for ws in formulas.worksheets}
    listing = "、".join(f"{n}{'' if st == 'visible' else '（隐藏）'}" for n, st in states.items())
    if sheet is not None:
        if sheet not in states:
            raise IngestError(f"工作簿中没有名为「{sheet}」的工作表（有：{listing}）", file)
        ws_f = formulas[sheet]
        if _is_empty(ws_f):
            raise IngestError(f"工作表「{sheet}」是空的（工作表：{listing}）", file)
    else:
        filled = [ws for ws in formulas.worksheets if not _is_empty(ws)]
        visible = [ws for ws in filled if ws.sheet_state == "visible"]
        if not visible:
            hidden = [ws.title for ws in filled]
            raise IngestError("没有含数据的可见工作表" + (f"；隐藏工作表「{'、'.join(hidden)}」含有数据，如需读取请选择该工作表"
                                                     if hidden else "") + f"（工作表：{listing}）", file)
        ws_f = visible[0]
    ws_v = _load(data, file, formulas=False)[ws_f.title]
    grid = [list(r) for r in ws_v.iter_rows(values_only=True)]
    uncached = [(cell.row, cell.column, cell.coordinate, cell.value) for row in ws_f.iter_rows() for cell in row
                if isinstance(cell.value, str) and cell.value.startswith("=") and grid[cell.row - 1][cell.column - 1] is None]
    rows = [(r, [_cell_text(v) for v in values]) for r, values in enumerate(grid, start=1)]
    merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws_f.merged_cells.ranges]
    return Table(file, rows, "xlsx", ws_f.title, list(states), merged, uncached)


def read_table(data: bytes, file: str, sheet: str | None = None, head: int | None = None) -> Table:
    """Dispatch on content (zip magic → XLSX), not only on the name. ``head``: CSV only,
    parse just the first records (the caller parses the rest when it needs them)."""
    if not data:
        raise IngestError("文件为空", file)
    if len(data) > MAX_BYTES:
        raise IngestError(f"文件过大（{len(data) / 1e6:,.0f} MB，上限 {MAX_BYTES / 1e6:,.0f} MB）", file)
    if data[:4] == b"PK\x03\x04":
        return read_xlsx(data, file, sheet)
    if file.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise IngestError("扩展名是 Excel，但内容不是 .xlsx 工作簿（旧版 .xls 请另存为 .xlsx）", file)
    text, encoding = decode(data, file)
    return read_csv_text(text, file, encoding, head)
