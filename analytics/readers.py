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
        raise IngestError("文件含有二进制内容，不是文本表格（CSV）；若是 Excel 文件请使用 .xlsx 扩展名上传", file)
    candidates = ["utf-8", "gbk", "gb18030"]
    try:
        from charset_normalizer import from_bytes
        best = from_bytes(data[:65536]).best()
        if best is not None and best.encoding not in candidates and best.encoding.startswith(("utf", "gb", "big5")):
            candidates.append(best.encoding)
    except ImportError:  # pragma: no cover - charset-normalizer is a pinned dependency
        pass
    for enc in candidates:
        try:
            return data.decode(enc), {"utf-8": "UTF-8", "gbk": "GBK", "gb18030": "GB18030"}.get(enc, enc)
        except UnicodeDecodeError:
            continue
    raise IngestError("无法确定文件编码：按 UTF-8、GBK、GB18030 均不能完整解码（可能混用了多种编码或文件已损坏）。"
                      "请在 Excel/WPS 中打开后“另存为 → CSV UTF-8（逗号分隔）”再上传", file)


def _delimiter(text: str) -> str:
    sample = [line for line in text[:20000].splitlines() if line.strip()][:30]
    counts = {d: sum(line.count(d) for line in sample) for d in (",", "\t", ";")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_csv_text(text: str, file: str, encoding: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as e:
        raise IngestError(f"CSV 格式错误：{e}", file, start) from None
    return Table(file, rows, encoding)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(data: bytes, file: str, sheet: str | None = None) -> Table:
    """Read one sheet (the first visible non-empty one by default) with cached formula values."""
    import openpyxl
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise IngestError(f"不是有效的 Excel（.xlsx）工作簿：{e}", file) from None
    try:
        names = wb.sheetnames
        if sheet is not None and sheet not in names:
            raise IngestError(f"工作簿中没有名为「{sheet}」的工作表（有：{'、'.join(names)}）", file)
        ws = wb[sheet] if sheet else wb[names[0]]
        rows = []
        for r, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            rows.append((r, cells))
        return Table(file, rows, "xlsx", ws.title, names)
    finally:
        wb.close()


def read_table(data: bytes, file: str, sheet: str | None = None) -> Table:
    """Dispatch on content (zip magic → XLSX), not only on the name."""
    if not data:
        raise IngestError("文件为空", file)
    if len(data) > MAX_BYTES:
        raise IngestError(f"文件过大（{len(data) / 1e6:,.0f} MB，上限 {MAX_BYTES / 1e6:,.0f} MB）", file)
    if data[:4] == b"PK\x03\x04":
        return read_xlsx(data, file, sheet)
    if file.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise IngestError("扩展名是 Excel，但内容不是 .xlsx 工作簿（旧版 .xls 请另存为 .xlsx）", file)
    text, encoding = decode(data, file)
    return read_csv_text(text, file, encoding)
