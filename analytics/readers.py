"""Bytes → a table of text cells with their row numbers in the file.

Encodings are detected, then verified by strictly decoding the **whole** file; if no
candidate decodes cleanly the file is refused with what to do. There is no latin-1
fallback (it would turn GBK into mojibake silently).
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from .errors import IngestError

MAX_BYTES = 200 * 1024 * 1024
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_BOM_NAMES = {"utf-8-sig": "UTF-8 (BOM)", "utf-16": "UTF-16", "utf-32": "UTF-32"}
# Formats recognised by their first bytes: named in the refusal, instead of a guess at an encoding.
_MAGIC = (
    (b"%PDF-", "PDF 文档"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "旧版 Excel（.xls）或加密的 Office 文件"),
    (b"PK\x05\x06", "空的压缩包"), (b"\x89PNG", "PNG 图片"), (b"\xff\xd8\xff", "JPEG 图片"), (b"GIF8", "GIF 图片"),
    (b"\x1f\x8b", "gzip 压缩文件"), (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"), (b"Rar!\x1a\x07", "RAR 压缩包"),
    (b"\x7fELF", "可执行程序"), (b"MZ\x90\x00", "Windows 可执行程序"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # never in a text table (tab, CR, LF are)
# every byte but those characters: in the encodings read here other than UTF-16/32 they are single
# bytes, never part of a multi-byte character, so a file without them has none in its text
_NOT_CONTROL = bytes(b for b in range(256) if not _CONTROL.match(chr(b)))
_NAME_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # + direction overrides
MAX_NAME = 255


def upload_name(name: str) -> tuple[str, str | None]:
    """(the name a file is known by, why that name is refused or None). Only the last path
    component is kept: a browser sends no more, and a folder in the name ("../../etc/x.csv",
    "C:\\x\\2024\\报表.csv") says nothing about the table (nor lends it a year). Control
    characters (NUL, line breaks) and text-direction overrides are refused, shown escaped."""
    base = re.split(r"[\\/]", name)[-1]
    shown = _NAME_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", base)
    if shown != base:
        return shown, "文件名含有控制字符（如 NUL、换行或改变文字方向的字符），请重命名后再上传"
    if not base.strip(" ."):
        return name.strip() or "（无文件名）", "文件名无效（为空或只有路径），请重命名后再上传"
    if len(base) > MAX_NAME:
        return base[:60] + "…", f"文件名过长（{len(base):,} 个字符，上限 {MAX_NAME}），请重命名后再上传"
    return base, None


def _line_of(text: str, index: int) -> int:
    """1-based line of a character offset (CRLF, LF and a lone CR each end a line)."""
    prefix = text[:index]
    return prefix.count("\n") + prefix.count("\r") - prefix.count("\r\n") + 1


def _not_a_table(data: bytes, file: str) -> None:
    """Refuse, naming what it is, a file whose first bytes say it is no table: a PDF, an old
    .xls, an image, an archive, a web page saved as .xls."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            hint = ("请在 Excel/WPS 中打开后另存为 .xlsx（不设密码）再上传" if "Excel" in what
                    else "请上传 CSV 或 Excel（.xlsx）表格")
            raise IngestError(f"文件内容是{what}（二进制），不是 CSV 或 Excel（.xlsx）表格；{hint}", file)
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<table")) or (
            head.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head):
        raise IngestError("文件内容是网页（HTML）或 XML 表格（常见于系统导出的“.xls”），不是 CSV 或 .xlsx 工作簿；"
                          "请在 Excel/WPS 中打开后另存为 .xlsx 再上传", file)


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
    text: str | None = None  # CSV: the decoded text (None after a first look at a big UTF-8 file)
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


_BLOCK = 1 << 20  # bytes of whole lines _mixed_line looks at a time (its arrays stay in the cache)


def _mixed_line(data: bytes) -> int | None:
    """The first line whose encoding differs from the others' (some lines strict UTF-8 with
    Chinese, others not) — a file pasted together from two sources."""
    # Each line is looked at as it would decode alone (a line break is never inside a UTF-8
    # sequence): a line whose decoding holds U+FFFD is not UTF-8. Most such lines have a byte
    # that cannot be UTF-8 where it stands, found by numpy a block of whole lines at a time;
    # a block is decoded only for its other lines with non-ASCII bytes.
    import numpy as np  # here, as the other heavy imports: readers is imported by light modules too
    utf8 = other = None
    first = 0  # the block's first line, 0-based
    for start, end in _blocks(data, _BLOCK):
        count, broken, candidates = _line_bytes(np.frombuffer(data, np.uint8, end - start, start))
        text = data[start:end].decode("utf-8", errors="replace") if len(candidates) else ""
        if utf8 is not None:  # (other is None) only the first line holding U+FFFD is still wanted
            at = text.find("\ufffd")
            if at >= 0 or len(broken):
                other = first + (text.count("\n", 0, at) if at >= 0 else int(broken[0]))
        else:
            if other is None and len(broken):
                other = first + int(broken[0])
            lines = text.split("\n")
            for i in candidates.tolist():
                if utf8 is not None and other is not None and first + i > other:
                    break  # nothing from here on can change either first line
                if "\ufffd" in lines[i]:
                    other = first + i if other is None else min(other, first + i)
                elif utf8 is None and sum(not ch.isascii() for ch in lines[i]) >= 2:
                    utf8 = first + i
        if utf8 is not None and other is not None:
            break  # both first lines are in this block or before
        first += count
    return max(utf8, other) + 1 if utf8 is not None and other is not None else None


def _line_bytes(a):
    """The lines of the numpy bytes ``a`` (whole lines): how many; those with a byte that cannot
    be UTF-8 where it stands; the others with a byte ≥ 0x80 (0-based, ascending)."""
    import numpy as np
    starts = np.concatenate(([0], np.flatnonzero(a[:-1] == 10) + 1))
    high = a >= 0x80
    cont = (a & 0xC0) == 0x80
    broken = (a == 0xC0) | (a == 0xC1) | (a >= 0xF5)  # never in UTF-8
    broken[0] |= cont[0]
    broken[1:] |= cont[1:] & ~high[:-1]  # a continuation byte after an ASCII one
    lead = high & ~cont
    broken[:-1] |= lead[:-1] & ~cont[1:]  # a lead byte without a continuation byte
    broken[-1] |= lead[-1]
    line_broken = np.logical_or.reduceat(broken, starts)
    return len(starts), np.flatnonzero(line_broken), np.flatnonzero(np.logical_or.reduceat(high, starts) & ~line_broken)


def _blocks(data: bytes, size: int):
    """(start, end) of consecutive blocks of whole lines, each about ``size`` bytes."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", start + size) + 1 or len(data)
        yield start, end
        start = end


def decode(data: bytes, file: str) -> tuple[str, str]:
    """Return (text, encoding name). Candidates: BOM, UTF-8, then GBK/GB18030 (and whatever
    charset-normalizer ranks first); each verified by a strict decode of all bytes."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), _BOM_NAMES[enc]
            except UnicodeDecodeError as e:
                line = data[len(bom):len(bom) + e.start].count(b"\n") + 1 if enc == "utf-8-sig" else None
                why = "可能是 GBK 等编码的内容前加了标记" if enc == "utf-8-sig" else "文件可能被截断或已损坏"
                raise IngestError(f"文件以 {_BOM_NAMES[enc]} 标记开头，但内容不是该编码（{why}）；"
                                  "请在 Excel/WPS 中另存为“CSV UTF-8”后重新上传", file, line) from None
    if b"\x00" in data[:4096]:
        head = data[:4096]  # UTF-16 without a byte-order mark: ASCII puts its zero byte second (LE) or first (BE)
        order = ("utf-16-be", "utf-16-le") if head[0::2].count(0) > head[1::2].count(0) else ("utf-16-le", "utf-16-be")
        for enc in order:
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            start = text[:4096]  # a table has line breaks; other bytes read as UTF-16 give none
            if ("\n" in start or "\r" in start) and not any(ord(ch) < 32 and ch not in "\t\r\n" for ch in start):
                return text, "UTF-16"
        controls = sum(head.count(b) for b in (*range(9), *range(14, 32)))
        if controls > max(2, len(head) // 100):  # a stray NUL in a text is refused below, naming its line
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


HEAD_CHARS = 1 << 20  # a first look at a big CSV parses about this much of its text


def _records(text: str, delimiter: str, limit: int | None) -> list[tuple[int, list[str]]]:
    """(first line, cells) of each record, at most ``limit``; a csv.Error gets the ``line``
    of the record it stopped in."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as e:
        e.line = start
        raise
    return rows


def _first_records(start: str, delimiter: str, head: int) -> list[tuple[int, list[str]]] | None:
    """The first ``head`` records of a text whose first whole lines are ``start`` (io.StringIO
    copies its text: a big file's first look is parsed from its start). None when record
    head + 1 does not begin in it: the last of them could then run past its end."""
    try:
        rows = _records(start, delimiter, head + 1)
    except csv.Error:
        return None  # the whole text is parsed, and reports it
    return rows[:head] if len(rows) > head else None


def read_csv_text(text: str, file: str, encoding: str, head: int | None = None) -> Table:
    """Parse CSV text into rows numbered by their first line in the file; ``head`` stops after
    that many records (for a first look at a big file; ``Table.complete`` is then False)."""
    delimiter = _delimiter(text)
    cut = text.find("\n", HEAD_CHARS) + 1 if head is not None and len(text) > HEAD_CHARS else 0
    rows = _first_records(text[:cut], delimiter, head) if cut else None
    if rows is None:
        try:
            rows = _records(text, delimiter, head)
        except csv.Error as e:
            if "field larger than field limit" in str(e):
                raise IngestError(f"有单元格超过 {csv.field_size_limit() // 1024:,} KB（单元格内容过大，或引号不成对使大段文字"
                                  "被当成一个单元格），已拒绝", file, e.line) from None
            raise IngestError("CSV 格式错误：从这一行起无法解析，请检查引号是否成对", file, e.line) from None
    complete = head is None or len(rows) < head
    if complete and rows and any("\n" in c or "\r" in c for c in rows[-1][1]):
        _refuse_open_quote(text, rows[-1][0], delimiter, file)
    return _refuse_wide(Table(file, rows, encoding, text=text, delimiter=delimiter, complete=complete))


def _first_look(data: bytes, file: str, head: int) -> Table | None:
    """The first ``head`` records of a big file that :func:`decode` takes as UTF-8 (no
    byte-order mark, valid UTF-8, checked by pyarrow) and that holds no control character,
    decoding only its start (``Table.text`` is None); None when the usual way must read it."""
    cut = data.find(b"\n", HEAD_CHARS) + 1  # whole lines (over 20,000 characters, as _delimiter reads)
    if not cut or data.startswith(tuple(bom for bom, _ in _BOMS)):
        return None
    import pyarrow as pa
    try:  # (a GBK file fails at its first Chinese character)
        pa.Array.from_buffers(pa.large_string(), 1, [None, pa.array([0, len(data)], pa.int64()).buffers()[1],
                                                    pa.py_buffer(data)]).validate(full=True)
    except pa.ArrowInvalid:  # not UTF-8
        return None
    if data.translate(None, _NOT_CONTROL):
        return None
    start = data[:cut].decode("utf-8")
    delimiter = _delimiter(start)
    rows = _first_records(start, delimiter, head)
    if rows is None:
        return None
    return _refuse_wide(Table(file, rows, "UTF-8", delimiter=delimiter, complete=False))


def _refuse_open_quote(text: str, line: int, delimiter: str, file: str) -> None:
    """A quote opened and never closed swallows every later line into one cell, silently (the
    csv module ends the cell at the end of the file): the last record, when it spans lines,
    is parsed again strictly from its first line."""
    lines = io.StringIO(text, newline="")
    offset = sum(len(lines.readline()) for _ in range(line - 1))
    try:
        for _ in csv.reader(io.StringIO(text[offset:], newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error:
        raise IngestError("从这一行起引号不成对：其后直到文件末尾的内容都会被读成一个单元格，已拒绝；"
                          "请检查该行的双引号", file, line) from None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


MAX_UNZIPPED = 300 * 1024 * 1024
MAX_RATIO = 200
MAX_MEMBERS = 2000  # a workbook has tens of parts; hundreds with many sheets or pictures
MAX_CELLS = 2_000_000  # rows × columns of the area read from one sheet
MAX_CELL_CHARS = 32_767  # Excel's own limit for the text of one cell
MAX_COLUMNS = 1000  # the widest bureau tables (months × measures, counties × measures) have a few hundred


def _refuse_wide(table: Table) -> Table:
    """A row of more than MAX_COLUMNS cells is no statistics table (a wrong delimiter, a stray
    cell far to the right): refused at once, before every header cell is classified."""
    for number, cells in table.rows:
        if len(cells) > MAX_COLUMNS:
            raise IngestError(f"该行有 {len(cells):,} 列，超过 {MAX_COLUMNS:,} 列的上限（统计报表不会这么宽）；"
                              "请检查分隔符，或删除多余的列后再上传", table.file, number)
    return table


def _check_zip(data: bytes, file: str) -> None:
    """Refuse archives that are not workbooks or that inflate far beyond their size (zip bombs)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            if len(infos) > MAX_MEMBERS:
                raise IngestError(f"压缩包内有 {len(infos):,} 个文件（正常的工作簿只有几十个），疑似恶意构造，已拒绝", file)
            if "xl/workbook.xml" not in names:
                if "mimetype" in names and z.read("mimetype").startswith(b"application/vnd.oasis.opendocument"):
                    raise IngestError("这是 OpenDocument 文档（.ods 等），不是 Excel（.xlsx）工作簿；"
                                      "请在 WPS/Excel 中另存为 .xlsx 后上传", file)
                raise IngestError("这是一个压缩包，但不是 Excel（.xlsx）工作簿", file)
            total = sum(i.file_size for i in infos)
            if total > MAX_UNZIPPED or total > MAX_RATIO * max(len(data), 1) + 50 * 1024 * 1024:
                raise IngestError(f"工作簿解压后达 {total / 1e6:,.0f} MB（压缩包仅 {len(data) / 1e6:,.1f} MB），"
                                  "疑似压缩炸弹，已拒绝", file)
            if any(i.flag_bits & 0x1 for i in infos):
                raise IngestError("工作簿的内容已加密（设置了密码），无法读取；请取消密码后另存为 .xlsx 再上传", file)
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                raise IngestError("工作簿含有宏（VBA 代码），为安全起见不读取；请在 Excel/WPS 中另存为不含宏的 .xlsx"
                                  "（Excel 本身也不会打开改了扩展名的含宏工作簿）", file)
            for info in infos:  # no workbook declares a DTD: entity expansion and external entities are attacks
                if info.filename.endswith((".xml", ".rels")):
                    with z.open(info) as f:
                        head = f.read(65536)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        raise IngestError(f"工作簿中的「{info.filename[:60]}」含有 DTD/实体声明（正常的 Excel 文件不会有），"
                                          "疑似恶意构造，已拒绝", file)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError):
        raise IngestError("文件已损坏或被截断，无法作为 Excel 工作簿打开", file) from None


def _load(data: bytes, file: str, formulas: bool):
    import openpyxl
    try:
        return openpyxl.load_workbook(io.BytesIO(data), data_only=not formulas)
    except Exception:  # openpyxl raises many types for broken files; their (English) text is no help here
        raise IngestError("不是有效的 Excel（.xlsx）工作簿：内容已损坏或不符合格式，无法读取；"
                          "请在 Excel/WPS 中打开后另存为 .xlsx 再上传", file) from None


def sheet_list(data: bytes, file: str) -> list[dict]:
    """Every sheet with its state (visible/hidden/veryHidden) and size, for the upload page."""
    file = upload_name(file)[0]
    _check_zip(data, file)
    wb = _load(data, file, formulas=False)
    return [{"name": ws.title, "state": ws.sheet_state, "rows": ws.max_row if ws.max_row > 1 or ws["A1"].value else 0}
            for ws in wb.worksheets]


def _cells(ws) -> list:
    """The cells the sheet's XML defines with a value (openpyxl keeps them in ``_cells``; its
    public iterators walk the whole rectangle up to the farthest cell: A1 and XFD1048576 would
    be 17 billion cells)."""
    return [c for c in ws._cells.values() if c.value is not None and str(c.value).strip()]


def _is_empty(ws) -> bool:
    return not _cells(ws)


def _extent(ws, file: str) -> tuple[int, int]:
    """(rows, columns) of the area holding values; refused beyond MAX_CELLS."""
    cells = _cells(ws)
    rows, cols = max((c.row for c in cells), default=0), max((c.column for c in cells), default=0)
    if cols > MAX_COLUMNS:
        far = max(cells, key=lambda c: c.column)
        raise IngestError(f"工作表「{ws.title}」有单元格远在第 {cols:,} 列（{far.coordinate}），超过 {MAX_COLUMNS:,} 列的上限"
                          "（统计报表不会这么宽）；请删除多余的列后另存再上传", file, far.row)
    if rows * cols > MAX_CELLS:
        far = max(cells, key=lambda c: (c.row, c.column) if rows > cols else (c.column, c.row))
        raise IngestError(f"工作表「{ws.title}」的数据区域达 {rows:,} 行 × {cols:,} 列（最远的单元格 {far.coordinate}），"
                          f"超过 {MAX_CELLS:,} 个单元格的上限；请删除多余的行列后另存再上传", file, far.row)
    return rows, cols


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
    n_rows, n_cols = _extent(ws_f, file)
    ws_v = _load(data, file, formulas=False)[ws_f.title]
    grid = [list(r) for r in ws_v.iter_rows(min_row=1, max_row=n_rows, min_col=1, max_col=n_cols, values_only=True)]
    for cell in ws_v._cells.values():
        if isinstance(cell.value, str) and len(cell.value) > MAX_CELL_CHARS:
            raise IngestError(f"单元格 {cell.coordinate} 有 {len(cell.value):,} 个字符，超过 Excel 单元格的上限 "
                              f"{MAX_CELL_CHARS:,}（单元格内容过大），已拒绝", file, cell.row)
    uncached = sorted((cell.row, cell.column, cell.coordinate, cell.value) for cell in _cells(ws_f)
                      if isinstance(cell.value, str) and cell.value.startswith("=")
                      and grid[cell.row - 1][cell.column - 1] is None)
    rows = [(r, [_cell_text(v) for v in values]) for r, values in enumerate(grid, start=1)]
    merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws_f.merged_cells.ranges]
    return _refuse_wide(Table(file, rows, "xlsx", ws_f.title, list(states), merged, uncached))


def read_table(data: bytes, file: str, sheet: str | None = None, head: int | None = None) -> Table:
    """Dispatch on content (zip magic → XLSX), not only on the name. ``head``: CSV only,
    parse just the first records (the caller parses the rest when it needs them)."""
    if not data:
        raise IngestError("文件为空", file)
    if len(data) > MAX_BYTES:
        raise IngestError(f"文件过大（{len(data) / 1e6:,.0f} MB，上限 {MAX_BYTES / 1e6:,.0f} MB）", file)
    if data[:4] == b"PK\x03\x04":
        return read_xlsx(data, file, sheet)
    _not_a_table(data, file)
    if file.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise IngestError("扩展名是 Excel，但内容不是 .xlsx 工作簿（旧版 .xls 请另存为 .xlsx）", file)
    first = _first_look(data, file, head) if head is not None else None
    if first is not None:
        return first
    text, encoding = decode(data, file)
    if text.endswith("\x1a"):  # the end-of-file mark of old DOS exports
        text = text[:-1]
    maybe = encoding in ("UTF-16", "UTF-32") or data.translate(None, _NOT_CONTROL)  # a fast look first
    bad = _CONTROL.search(text) if maybe else None
    if bad:
        raise IngestError(f"含有控制字符 U+{ord(bad.group()):04X}（正常的文本表格中不会出现），文件可能已损坏；"
                          "请在 Excel/WPS 中打开后另存为“CSV UTF-8”再上传", file, _line_of(text, bad.start()))
    return read_csv_text(text, file, encoding, head)
