"""Builders of the hostile-file corpus (tests/data/hostile/manifest.toml says what each file
is and what ingest must do with it).

- ``SMALL``: file name → builder of a committed file in this folder (each under 200 KB).
  ``python tests/data/hostile/make.py`` rewrites them; ``--check`` says which differ.
- ``LARGE``: generator name → builder of a file too big to commit (zip bombs, a 10 MB cell,
  100,000 columns, 50 MB…). The tests build them at run time into a temporary folder
  (``write(name, folder)``); nothing large is committed.

Everything is deterministic: seeded randomness, fixed zip timestamps and workbook dates.
Unit and indicator names are those of the test library (tests/conftest.py): 清河县, 龙泉县,
城关镇; 固定资产投资 (亿元), 一般公共预算收入 (万元), 地区生产总值增速 (%).
"""
from __future__ import annotations

import datetime
import io
import random
import re
import struct
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
HEADER = "年份,期间,单位,指标,计量单位,口径,目标值,数值"
FIXED = (2025, 1, 1, 0, 0, 0)


# ---------------------------------------------------------------- helpers

def csv_text(*rows: str, header: str = HEADER, newline: str = "\n") -> str:
    return newline.join([header, *rows]) + newline


def csv_bytes(*rows: str, header: str = HEADER, newline: str = "\n", encoding: str = "utf-8") -> bytes:
    return csv_text(*rows, header=header, newline=newline).encode(encoding)


def row(value: object, unit: str = "清河县", indicator: str = "固定资产投资", uom: str = "亿元",
        measure: str = "ytd", period: object = 9, year: object = 2025, target: object = "") -> str:
    return f"{year},{period},{unit},{indicator},{uom},{measure},{target},{value}"


def zip_members(members: list[tuple[str, bytes]], compress: bool = False) -> bytes:
    """A zip of the members in order, fixed timestamps (stored, unless ``compress``)."""
    out = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, "w", method) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, FIXED), data, compress_type=method)
    return out.getvalue()


def unzip(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(n, z.read(n)) for n in z.namelist()]


def workbook_members(rows: list[list], header: list | None = None, setup: Callable | None = None
                     ) -> list[tuple[str, bytes]]:
    """The parts of an openpyxl workbook (first sheet: header + rows), dates fixed."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER.split(",") if header is None else header)
    for r in rows:
        ws.append(r)
    if setup:
        setup(wb)
    buf = io.BytesIO()
    wb.save(buf)
    fixed = b"2025-01-01T00:00:00Z"
    return [(n, re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + fixed, d) if n == "docProps/core.xml"
             else d) for n, d in unzip(buf.getvalue())]


def xlsx(rows: list[list], header: list | None = None, setup: Callable | None = None, compress: bool = True,
         edit: dict[str, Callable[[bytes], bytes]] | None = None, add: list[tuple[str, bytes]] = ()) -> bytes:
    members = [(n, (edit or {}).get(n, lambda d: d)(d)) for n, d in workbook_members(rows, header, setup)]
    return zip_members(members + list(add), compress)


GOOD_ROW = [2025, 9, "清河县", "固定资产投资", "亿元", "ytd", None, 101.36]


def real_xlsx() -> bytes:
    return xlsx([[2025, 9, "清河县", "固定资产投资", "亿元", "ytd", None, 100 + i] for i in range(200)], compress=True)


def _raw_zip(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """[(name, raw deflate data, crc32, declared compressed size, declared size)] → a zip
    archive written by hand (so the member's data need not be compressed here, and the
    sizes in the headers can lie)."""
    out, central = io.BytesIO(), []
    for name, comp, crc, csize, size in members:
        n = name.encode()
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, csize, size, len(n), 0) + n + comp)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, csize, size,
                                   len(n), 0, 0, 0, 0, 0, offset) + n)
    start, cd = out.tell(), b"".join(central)
    out.write(cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(cd), start, 0))
    return out.getvalue()


def _small_member(name: str, text: bytes) -> tuple:
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    comp = co.compress(text) + co.flush()
    return name, comp, zlib.crc32(text), len(comp), len(text)


def bomb(megabytes: int = 1024, lie: bool = False) -> bytes:
    """A ~1 MB .xlsx-looking zip whose sheet inflates to ``megabytes`` MB of zeros. The
    deflate data is one full-flushed 1 MB block repeated (valid: no back-reference crosses a
    block), so building it costs only the CRC. ``lie``: the headers declare 1 KB, and the
    other members are those of a real workbook (so the sheet itself gets opened)."""
    zeros = b"\0" * (1 << 20)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH)
    comp = block * megabytes + b"\x03\x00"  # + an empty final block
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    size = 1024 if lie else megabytes << 20
    if lie:
        others = [_small_member(n, d) for n, d in unzip(real_xlsx()) if n != "xl/worksheets/sheet1.xml"]
        return _raw_zip(others + [("xl/worksheets/sheet1.xml", comp, crc, len(comp), size)])
    return _raw_zip([_small_member("[Content_Types].xml", b"<Types/>"),
                     _small_member("xl/workbook.xml", b"<workbook/>"),
                     _small_member("xl/_rels/workbook.xml.rels", b"<Relationships/>"),
                     ("xl/worksheets/sheet1.xml", comp, crc, len(comp), size)])


def _shared_strings(extra: bytes, count: int) -> Callable[[list], list]:
    """Members edit: the sheet's text cells become references into a sharedStrings part
    holding first the sheet's own texts, then ``count`` more items (``extra``: their <si> XML)."""
    def edit(members: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        out, own = [], []
        for name, data in members:
            if name == "xl/worksheets/sheet1.xml":
                def ref(m: re.Match) -> bytes:
                    own.append(m.group(2))
                    return m.group(1).replace(b'"inlineStr"', b'"s"') + b"<v>" + str(len(own) - 1).encode() + b"</v></c>"
                data = re.sub(rb'(<c r="[A-Z]+\d+" t="inlineStr">)<is><t>(.*?)</t></is></c>', ref, data)
            elif name == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            elif name == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdSS" Target="sharedStrings.xml" Type="'
                                    b'http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
                                    b"</Relationships>")
            out.append((name, data))
        body = b"".join(b"<si><t>" + s + b"</t></si>" for s in own) + extra
        n = len(own) + count
        sst = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'
               % (n, n) + body + b"</sst>")
        return out + [("xl/sharedStrings.xml", sst)]
    return edit


# ---------------------------------------------------------------- encodings

def mixed_encodings() -> bytes:
    return csv_bytes(row(101.36)) + (row(88.7, "龙泉县") + "\n").encode("gbk")


def utf16(encoding: str, value: float) -> bytes:
    return csv_text(row(value)).encode(encoding)


def gb18030_rare() -> bytes:
    """Characters outside GBK (䶮 is 4 bytes in GB18030, 𠀀 is CJK Extension B), in a file whose
    name says GBK: decoding as GBK fails, GB18030 reads every character exactly."""
    return csv_bytes(row(11.5, "䶮山镇"), row(12.5, "𠀀乡")).decode().encode("gb18030")


def bom_gbk() -> bytes:
    return b"\xef\xbb\xbf" + csv_bytes(row(101.36), encoding="gbk")


def cp1252() -> bytes:
    return "year,period,unit,indicator,value\n2025,9,Café,Crème brûlée,1\n".encode("cp1252")


def utf8_corrupt_byte() -> bytes:
    return csv_bytes(row(101.36), row(88.7, "龙泉县")).replace("龙泉县".encode(), b"\xff\xfe\xfd")


def big5() -> bytes:
    return csv_bytes("2025,9,清河縣,固定資產投資,億元,ytd,,1", header="年份,期間,單位,指標,計量單位,口徑,目標值,數值",
                     encoding="big5")


def utf16_bom_truncated() -> bytes:
    return "\ufeff".encode("utf-16-le") + csv_text(row(1)).encode("utf-16-le") + b"\x31"


def nul_late() -> bytes:
    rows = [row(100 + i, "清河县", "固定资产投资", period=p) for i, p in enumerate(range(1, 10))]
    filler = "\n".join(f"注：第{i}条说明文字，与数据无关。" for i in range(200))
    return (csv_text(*rows) + filler + "\n" + row("1\x002", "龙泉县") + "\n").encode()


# ---------------------------------------------------------------- CSV structure

INDICATOR_ROWS = ["清河县主要经济指标完成情况（2025年1-9月）,,,", "单位：亿元,,,", "指标名称,全年目标,1-9月累计,备注"]


def unbalanced_remark() -> bytes:
    """The quote opened in a remark is never closed: the csv module would read every later row
    into that remark and the file would be stored without them."""
    return "\n".join(INDICATOR_ROWS + ['固定资产投资,152,101.36,"增速目标6.5%', "一般公共预算收入（万元）,98000,71264,",
                                       "地区生产总值增速（%）,6.5,5.9,"]).encode() + b"\n"


def line_ends(newline: str, values: tuple) -> bytes:
    return csv_bytes(row(values[0]), row(values[1], "龙泉县"), newline=newline)


def mixed_line_ends() -> bytes:
    return (HEADER + "\r\n" + row(303.1) + "\n" + row(303.2, "龙泉县") + "\r" + row(303.3, "城关镇") + "\r\n").encode()


def png() -> bytes:
    rnd = random.Random(7)
    return b"\x89PNG\r\n\x1a\n" + bytes(rnd.randrange(256) for _ in range(8000))


def gzip_csv() -> bytes:
    import gzip
    return gzip.compress(csv_bytes(row(1)), mtime=0)


def plain_zip() -> bytes:
    return zip_members([("说明.txt", "这不是工作簿".encode()),
                        ("data/数据.csv", (HEADER + "\n2025,9,清河县,固定资产投资,亿元,ytd,,1\n").encode())], True)


# ---------------------------------------------------------------- XLSX structure

def corrupt_xlsx() -> bytes:
    rnd = random.Random(4)
    return b"PK\x03\x04" + bytes(rnd.randrange(256) for _ in range(20000))


def truncated_xlsx() -> bytes:
    data = xlsx([[2025, 9, "清河县", "固定资产投资", "亿元", "ytd", None, 100 + i] for i in range(200)], compress=False)
    return data[:len(data) // 2]  # stored, not deflated: the same bytes whatever the zlib build


def hidden_only() -> bytes:
    def setup(wb):
        wb.active.sheet_state = "hidden"
        wb.create_sheet("说明")
    return xlsx([GOOD_ROW], setup=setup)


def all_hidden() -> bytes:
    return xlsx([GOOD_ROW], edit={"xl/workbook.xml": lambda d: d.replace(b'state="visible"', b'state="hidden"')})


def xlsm_renamed() -> bytes:
    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    def types(d: bytes) -> bytes:
        return (d.replace(b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml")
                .replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'))
    return xlsx([[2025, 9, "清河县", "固定资产投资", "亿元", "ytd", None, 404.4]], edit={"[Content_Types].xml": types},
                add=[("xl/vbaProject.bin", vba)])


def ole2() -> bytes:
    rnd = random.Random(11)
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(rnd.randrange(256) for _ in range(4000))


def ods() -> bytes:
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
               '<table:table table:name="Sheet1"><table:table-row>'
               + "".join(f"<table:table-cell><text:p>{h}</text:p></table:table-cell>" for h in HEADER.split(","))
               + "</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>")
    return zip_members([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
                        ("content.xml", content.encode()),
                        ("META-INF/manifest.xml", b'<?xml version="1.0"?><manifest:manifest '
                                                  b'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')])


def pdf() -> bytes:
    return (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")


def html_xls() -> bytes:
    cells = "".join(f"<td>{h}</td>" for h in HEADER.split(","))
    return ('<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head><meta charset="utf-8"></head><body>'
            f"<table><tr>{cells}</tr><tr><td>2025</td><td>9</td><td>清河县</td><td>固定资产投资</td><td>亿元</td>"
            "<td>ytd</td><td></td><td>101.36</td></tr></table></body></html>").encode()


def formula_no_cache() -> bytes:
    return xlsx([[2025, 9, "清河县", "固定资产投资", "亿元", "ytd", None, "=100+1.36"]])


def xlsx_values(*values: object, period: object = 9) -> bytes:
    return xlsx([[2025, period, "清河县", "固定资产投资", "亿元", "ytd", None, v] for v in values])


def ten_mb_cell_xlsx() -> bytes:
    """A 10 MB text cell (written into the XML: openpyxl itself cuts strings at 32,767)."""
    return xlsx([[2025, 9, "清河县", "固定资产投资", "亿元", "ytd", None, "TEN_MB"]], edit={
        "xl/worksheets/sheet1.xml": lambda d: d.replace(b"TEN_MB", b"1" * (10 << 20))})


def far_cell(ref: str = "XFD1048576") -> bytes:
    """A1…H2 and one more cell far away (XFD1048576: 17 billion cells for a reader that walks
    the rectangle)."""
    r = re.sub(r"[A-Z]+", "", ref).encode()
    return xlsx([GOOD_ROW], edit={"xl/worksheets/sheet1.xml": lambda d: d.replace(
        b"</sheetData>", b'<row r="%s"><c r="%s" t="n"><v>1</v></c></row></sheetData>' % (r, ref.encode())).replace(
        b'<dimension ref="A1:H2"/>', b'<dimension ref="A1:%s"/>' % ref.encode())})


def malformed_xml() -> bytes:
    return xlsx([GOOD_ROW], edit={"xl/worksheets/sheet1.xml": lambda d: d[:len(d) // 2]})


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY l0 "lol">'
          + b"".join(b'<!ENTITY l%d "%s">' % (i, (b"&l%d;" % (i - 1)) * 10) for i in range(1, 10)) + b"]>")


def billion_laughs() -> bytes:
    return xlsx([GOOD_ROW], edit={"xl/worksheets/sheet1.xml": lambda d: LAUGHS + d.replace(b"ytd", b"&l9;")})


def xxe() -> bytes:
    decl = b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    return xlsx([GOOD_ROW], edit={"xl/worksheets/sheet1.xml": lambda d: decl + d.replace(b"ytd", b"&x;")})


def encrypted_member() -> bytes:
    """A real workbook whose members carry the zip 'encrypted' flag (a password-protected zip)."""
    data = bytearray(xlsx([GOOD_ROW]))
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(sig, start)) >= 0:
            data[start + at] |= 0x1
            start += 4
    return bytes(data)


def no_sheets() -> bytes:
    return xlsx([GOOD_ROW], edit={"xl/workbook.xml": lambda d: re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", d)})


# ---------------------------------------------------------------- large (generated at test time)

def ten_mb_cell() -> bytes:
    return csv_bytes(row('"' + "1" * (10 << 20) + '"'))


def big_cell(chars: int = 100_000) -> bytes:
    """Under the CSV reader's 128 KB cell limit: the cell is read, and refused as a number;
    the message quotes only its start."""
    return csv_bytes(row("9" * chars))


def hundred_thousand_columns() -> bytes:
    header = ",".join(f"列{i}" for i in range(100_000))
    values = ",".join(str(i % 10) for i in range(100_000))
    return (header + "\n" + values + "\n").encode("utf-8")


def fifty_mb_duplicates() -> bytes:
    """~50 MB: the same key on every row (a paste gone wrong)."""
    line = row(101.36) + "\n"
    return (HEADER + "\n" + line * (50_000_000 // len(line.encode()))).encode("utf-8")


def many_unknown_names(n: int = 50_000) -> bytes:
    return csv_bytes(*(row(f"{i}.5", f"乡镇{i}") for i in range(n)))


def many_members(n: int = 10_000) -> bytes:
    """A real workbook plus 10,000 one-byte parts."""
    return zip_members(workbook_members([GOOD_ROW]) + [(f"xl/media/x{i}.bin", b"x") for i in range(n)], True)


def shared_strings_bomb(megabytes: int = 400) -> bytes:
    """A workbook whose shared-strings part inflates to ~400 MB of one repeated string: a 1 MB
    run of items deflated once after a full flush and repeated, as in ``bomb``."""
    item = "<si><t>重复</t></si>".encode()
    chunk = item * ((1 << 20) // len(item))
    members = _shared_strings(b"", 0)(workbook_members([GOOD_ROW]))
    sst = dict(members)["xl/sharedStrings.xml"]
    prefix, suffix = sst[:-len(b"</sst>")], b"</sst>"
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = co.compress(prefix) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
    tail = co.compress(suffix) + co.flush()
    crc = zlib.crc32(prefix)
    for _ in range(megabytes):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(suffix, crc)
    comp, size = head + block * megabytes + tail, len(prefix) + len(chunk) * megabytes + len(suffix)
    return _raw_zip([_small_member(n, d) for n, d in members if n != "xl/sharedStrings.xml"]
                    + [("xl/sharedStrings.xml", comp, crc, len(comp), size)])


def huge_shared_strings(n: int = 20_000) -> bytes:
    """An honest workbook (one data row) carrying 20,000 distinct unused shared strings."""
    rnd = random.Random(5)
    extra = "".join(f"<si><t>说明{i}-{rnd.randrange(10**9)}</t></si>" for i in range(n)).encode()
    return zip_members(_shared_strings(extra, n)(workbook_members([[2025, 9, "城关镇", "固定资产投资", "亿元", "ytd",
                                                                   None, 77.7]])), True)


def wide_header(columns: int = 1500) -> bytes:
    """A header of 1,500 columns above one ordinary row (the width is the point, not the size:
    the reader's limit is 1,000; XFD1048576 in xlsx-far-cell is Excel's last column)."""
    return xlsx([GOOD_ROW], header=[f"列{i}" for i in range(columns)])


# ---------------------------------------------------------------- the corpus

SMALL: dict[str, Callable[[], bytes]] = {
    # encodings
    "enc-mixed-utf8-gbk.csv": mixed_encodings,
    "enc-utf16le-nobom.csv": lambda: utf16("utf-16-le", 201.1),
    "enc-utf16be-nobom.csv": lambda: utf16("utf-16-be", 202.2),
    "enc-utf32-bom.csv": lambda: utf16("utf-32", 203.3),
    "enc-gb18030-rare-chars.csv": gb18030_rare,
    "enc-bom-gbk-body.csv": bom_gbk,
    "enc-cp1252.csv": cp1252,
    "enc-utf8-corrupt-byte.csv": utf8_corrupt_byte,
    "enc-big5-traditional.csv": big5,
    "enc-utf16-bom-truncated.csv": utf16_bom_truncated,
    "enc-nul-in-text.csv": nul_late,
    # CSV structure
    "csv-empty.csv": lambda: b"",
    "csv-bom-only.csv": lambda: b"\xef\xbb\xbf",
    "csv-whitespace-only.csv": lambda: b"  \n\n\t \r\n   \n",
    "csv-only-delimiters.csv": lambda: b",,,,,,,\n,,,,,,,\n,,,\n;;;;\n",
    "csv-header-only.csv": lambda: csv_bytes(),
    "csv-unbalanced-quote-value.csv": lambda: csv_bytes(row('"101.36'), row(88.7, "龙泉县")),
    "csv-unbalanced-quote-remark.csv": unbalanced_remark,
    "csv-crlf.csv": lambda: line_ends("\r\n", (301.1, 301.2)),
    "csv-cr-only.csv": lambda: line_ends("\r", (302.1, 302.2)),
    "csv-mixed-line-ends.csv": mixed_line_ends,
    "csv-dos-eof-mark.csv": lambda: csv_bytes(row(304.4)) + b"\x1a",
    "csv-ragged-unquoted-thousands.csv": lambda: csv_bytes(row("1,234.5")),
    "csv-semicolon-decimal-comma.csv": lambda: csv_bytes("2025;9;清河县;固定资产投资;亿元;ytd;;101,36",
                                                         header=HEADER.replace(",", ";")),
    "csv-duplicate-header-value.csv": lambda: csv_bytes(row(1) + ",", header=HEADER + ",数值"),
    "csv-duplicate-header-unit.csv": lambda: csv_bytes(row(1) + ",龙泉县", header=HEADER + ",单位"),
    "csv-binary-png.csv": png,
    "csv-gzip.csv": gzip_csv,
    "zip-renamed.csv": plain_zip,
    # values
    "val-duplicate-keys.csv": lambda: csv_bytes(row(101.36), row(99.0)),
    "val-text-in-numbers.csv": lambda: csv_bytes(row("12abc"), row("N/A", "龙泉县")),
    "val-chinese-numerals.csv": lambda: csv_bytes(row("一千二百"), row("壹佰", "龙泉县")),
    "val-hex.csv": lambda: csv_bytes(row("0x1F")),
    "val-underscore-digits.csv": lambda: csv_bytes(row("1_000")),
    "val-arabic-indic-digits.csv": lambda: csv_bytes(row("١٢٣")),
    "val-formula-in-number.csv": lambda: csv_bytes(row("=1+2"), row("@SUM(A1:A9)", "龙泉县"),
                                                   row("+1-1", "城关镇")),
    "val-negative-target.csv": lambda: csv_bytes(row("", target=-152)),
    "val-zero-target.csv": lambda: csv_bytes(row("", "城关镇", target=0), row(5.5, "城关镇")),
    "val-negative-cumulative.csv": lambda: csv_bytes(row(-5, "城关镇", "一般公共预算收入", "万元")),
    "val-percent-in-amount.csv": lambda: csv_bytes(row("85%")),
    "val-percent-in-growth.csv": lambda: csv_bytes(row("6.5%", "龙泉县", uom="%", measure="growth_pct")),
    "val-fullwidth-digits.csv": lambda: csv_bytes(row("１２３．４", "龙泉县")),
    "val-thousands-quoted.csv": lambda: csv_bytes(row('"1,234.5"', "龙泉县", "一般公共预算收入", "万元")),
    "val-unit-in-cell.csv": lambda: csv_bytes(row("1万亿元", "城关镇")),
    "val-placeholders.csv": lambda: csv_bytes(row(12.25, "城关镇", "一般公共预算收入", "万元"), row("—", "龙泉县"),
                                              row("-", "清河县"), row("/", "城关镇")),
    "val-all-placeholders.csv": lambda: csv_bytes(row("—"), row("-", "龙泉县"), row("", "城关镇")),
    "val-nan-inf.csv": lambda: csv_bytes(row("nan"), row("inf", "龙泉县"),
                                         row("-Infinity", "清河县", "一般公共预算收入", "万元"),
                                         row("1e999", "龙泉县", "一般公共预算收入", "万元")),
    "val-huge-magnitude.csv": lambda: csv_bytes(row("1e308", "城关镇", period=8)),
    "val-overflow-after-conversion.csv": lambda: csv_bytes(row("1e306", "城关镇", "一般公共预算收入", "亿元", period=7)),
    # periods and years
    "per-year-1900.csv": lambda: csv_bytes(row(1, year=1900)),
    "per-year-2999.csv": lambda: csv_bytes(row(1, year=2999)),
    "per-period-0-13.csv": lambda: csv_bytes(row(1, period=0), row(1, "龙泉县", period=13)),
    "per-period-excel-serial.csv": lambda: csv_bytes(row(1, period=45930)),
    "per-period-iso-date.csv": lambda: csv_bytes(row(1, period="2025-09-30")),
    "per-mixed-1-2.csv": lambda: csv_bytes(row(10, period="1-2月"), row(12, period=2)),
    "per-range-3-5.csv": lambda: csv_bytes(row(10, period="3-5月")),
    "per-future-2099.csv": lambda: csv_bytes(row(1, year=2099)),
    "per-stated-year-differs.csv": lambda: csv_bytes(row(1)),
    # names
    "name-html-js.csv": lambda: csv_bytes(row(21.5, "<script>alert(1)</script>"),
                                          row(22.5, "<img src=x onerror=alert(1)>")),
    "name-markdown.csv": lambda: csv_bytes(row(23.5, "![追踪](http://127.0.0.1:9/t.png)"), row(24.5, "**加粗**县")),
    "name-formula.csv": lambda: csv_bytes(row(25.5, "\"=cmd|' /C calc'!A0\""), row(26.5, "@SUM(1+1)"),
                                          row(27.5, "+1+2")),
    "name-formula-unknown.csv": lambda: csv_bytes(row(1, "\"=HYPERLINK(\"\"http://x\"\",\"\"点击\"\")\"")),
    "name-very-long.csv": lambda: csv_bytes(row(1, "长" * 10_000)),
    "name-zero-width.csv": lambda: csv_bytes(row(305.5, "清\u200b河县\u00a0")),
    # upload names (the file's content is an ordinary table)
    "fname-traversal.csv": lambda: csv_bytes(row(306.6)),
    "fname-windows-path.csv": lambda: csv_bytes(row(307.7)),
    "fname-control.csv": lambda: csv_bytes(row(308.8)),
    # XLSX and other containers
    "xlsx-corrupt.xlsx": corrupt_xlsx,
    "xlsx-truncated.xlsx": truncated_xlsx,
    "xlsx-zip-not-workbook.xlsx": plain_zip,
    "xlsx-empty-zip.xlsx": lambda: b"PK\x05\x06" + bytes(18),
    "xlsx-header-only.xlsx": lambda: xlsx([]),
    "xlsx-hidden-sheet-only.xlsx": hidden_only,
    "xlsx-all-sheets-hidden.xlsx": all_hidden,
    "xlsx-no-sheets.xlsx": no_sheets,
    "xlsx-formula-no-cache.xlsx": formula_no_cache,
    "xlsx-xlsm-renamed.xlsx": xlsm_renamed,
    "xlsx-xls-ole2-renamed.xlsx": ole2,
    "xlsx-pdf-renamed.xlsx": pdf,
    "xls-html-table.xls": html_xls,
    "ods-spreadsheet.ods": ods,
    "xlsx-error-values.xlsx": lambda: xlsx_values("#DIV/0!", "#N/A"),
    "xlsx-dates.xlsx": lambda: xlsx_values(1.5, period=datetime.datetime(2025, 9, 30)),
    "xlsx-date-as-value.xlsx": lambda: xlsx_values(datetime.date(2025, 9, 30)),
    "xlsx-bool-in-number.xlsx": lambda: xlsx_values(True),
    "xlsx-ten-mb-cell.xlsx": ten_mb_cell_xlsx,
    "xlsx-far-cell.xlsx": far_cell,
    "xlsx-far-row.xlsx": lambda: far_cell("H1048576"),
    "xlsx-wide-header.xlsx": wide_header,
    "xlsx-malformed-xml.xlsx": malformed_xml,
    "xlsx-billion-laughs.xlsx": billion_laughs,
    "xlsx-xxe.xlsx": xxe,
    "xlsx-encrypted-member.xlsx": encrypted_member,
}

LARGE: dict[str, Callable[[], bytes]] = {
    "bomb-1gb": bomb,
    "bomb-lying-sizes": lambda: bomb(lie=True),
    "csv-ten-mb-cell": ten_mb_cell,
    "csv-100kb-cell": big_cell,
    "csv-hundred-thousand-columns": hundred_thousand_columns,
    "csv-fifty-mb-duplicates": fifty_mb_duplicates,
    "csv-many-unknown-names": many_unknown_names,
    "xlsx-10000-members": many_members,
    "xlsx-shared-strings-bomb": shared_strings_bomb,
    "xlsx-huge-shared-strings": huge_shared_strings,
}


def write(name: str, folder: Path) -> Path:
    """Build generator ``name`` into ``folder`` (once) and return the file's path."""
    path = Path(folder) / name
    if not path.exists():
        path.write_bytes(LARGE[name]())
    return path


def _same(a: bytes, b: bytes) -> bool:
    """Equal bytes, or (zips) equal members: compressed bytes may differ between zlib builds."""
    if a == b:
        return True
    try:
        return unzip(a) == unzip(b)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def main(argv: list[str]) -> int:
    check = "--check" in argv
    differ = []
    for name, build in SMALL.items():
        data, path = build(), HERE / name
        if check:
            if not path.exists() or not _same(path.read_bytes(), data):
                differ.append(name)
        else:
            path.write_bytes(data)
    for name in differ:
        print(f"differs: {name}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
