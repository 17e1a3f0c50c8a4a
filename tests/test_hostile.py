"""Hostile files (issue 4, "Done means" 3): each is refused with a clear Chinese message
naming the problem — no traceback, no exception out of ``ingest_bytes`` — within a few
seconds, and the database content is unchanged (``content()`` before == after).
Formula-like and HTML text in names is stored as literal text and shown as text by the
数据浏览 page.
"""
from __future__ import annotations

import io
import random
import re
import struct
import time
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
from conftest import ADMIN, content

from analytics import auth, db
from analytics.ingest import IngestOptions, ingest_bytes

HEADER = "年份,期间,单位,指标,计量单位,口径,目标值,数值"
SECONDS = 10.0  # "within seconds", generously
CJK = re.compile(r"[\u4e00-\u9fff]")


# ---------------------------------------------------------------- builders

def real_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER.split(","))
    for i in range(200):
        ws.append([2025, 9, "清河县", "固定资产投资", "亿元", "ytd", None, 100 + i])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


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
        with zipfile.ZipFile(io.BytesIO(real_xlsx())) as z:
            others = [_small_member(n, z.read(n)) for n in z.namelist() if n != "xl/worksheets/sheet1.xml"]
        return _raw_zip(others + [("xl/worksheets/sheet1.xml", comp, crc, len(comp), size)])
    return _raw_zip([_small_member("[Content_Types].xml", b"<Types/>"),
                     _small_member("xl/workbook.xml", b"<workbook/>"),
                     _small_member("xl/_rels/workbook.xml.rels", b"<Relationships/>"),
                     ("xl/worksheets/sheet1.xml", comp, crc, len(comp), size)])


def corrupt_xlsx() -> bytes:
    rnd = random.Random(4)
    return b"PK\x03\x04" + bytes(rnd.randrange(256) for _ in range(20000))


def truncated_xlsx() -> bytes:
    data = real_xlsx()
    return data[:len(data) // 2]


def plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("说明.txt", "这不是工作簿")
        z.writestr("data/数据.csv", HEADER + "\n2025,9,清河县,固定资产投资,亿元,ytd,,1\n")
    return buf.getvalue()


def binary() -> bytes:
    rnd = random.Random(7)
    return b"\x89PNG\r\n\x1a\n" + bytes(rnd.randrange(256) for _ in range(8000))


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def mixed_encodings() -> bytes:
    return (csv_bytes("2025,9,清河县,固定资产投资,亿元,ytd,,101.36")
            + "2025,9,龙泉县,固定资产投资,亿元,ytd,,88.7\n".encode("gbk"))


def hundred_thousand_columns() -> bytes:
    header = ",".join(f"列{i}" for i in range(100_000))
    row = ",".join(str(i % 10) for i in range(100_000))
    return (header + "\n" + row + "\n").encode("utf-8")


def ten_mb_cell() -> bytes:
    return csv_bytes("2025,9,清河县,固定资产投资,亿元,ytd,,\"" + "1" * (10 << 20) + "\"")


def fifty_mb_duplicates() -> bytes:
    """~50 MB: the same key on every row (a paste gone wrong)."""
    line = "2025,9,清河县,固定资产投资,亿元,ytd,,101.36\n"
    return (HEADER + "\n" + line * (50_000_000 // len(line.encode()))).encode("utf-8")


def many_unknown_names(n: int = 50_000) -> bytes:
    return csv_bytes(*(f"2025,9,乡镇{i},固定资产投资,亿元,ytd,,{i}.5" for i in range(n)))


# id, file name, builder, words the message must contain
CASES = [
    ("corrupt-xlsx", "报表.xlsx", corrupt_xlsx, ["损坏"]),
    ("truncated-xlsx", "报表.xlsx", truncated_xlsx, ["截断"]),
    ("zip-not-workbook", "报表.xlsx", plain_zip, ["压缩包", "不是"]),
    ("zip-renamed-csv", "报表.csv", plain_zip, ["压缩包", "不是"]),
    ("decompression-bomb", "报表.xlsx", bomb, ["压缩炸弹"]),
    ("binary-renamed-csv", "报表.csv", binary, ["二进制"]),
    ("empty-file", "报表.csv", lambda: b"", ["文件为空"]),
    ("header-only", "报表.csv", lambda: csv_bytes(), ["没有数据行"]),
    ("mixed-encodings", "报表.csv", mixed_encodings, ["编码", "第3行"]),
    ("nan-inf", "报表.csv", lambda: csv_bytes("2025,9,清河县,固定资产投资,亿元,ytd,,nan",
                                             "2025,9,龙泉县,固定资产投资,亿元,ytd,,inf",
                                             "2025,9,清河县,一般公共预算收入,万元,ytd,,-Infinity",
                                             "2025,9,龙泉县,一般公共预算收入,万元,ytd,,1e999"),
     ["4 行未通过校验"]),
]


def refused_quickly(path, data: bytes, name: str, options: IngestOptions | None = None):
    before = content(path)
    start = time.monotonic()
    report = ingest_bytes(data, name, ADMIN, options, path=path)
    elapsed = time.monotonic() - start
    assert report.status == "refused", report.message
    assert CJK.search(report.message), report.message
    assert "Traceback" not in report.message, report.message
    assert report.upload_id is None and report.rows_stored == 0
    assert elapsed < SECONDS, f"{elapsed:.1f} s"
    assert content(path) == before
    return report


@pytest.mark.parametrize("name, build, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_file_is_refused_clearly(small_db, name, build, words):
    report = refused_quickly(small_db, build(), name)
    for w in words:
        assert w in report.message, report.message


def test_bomb_is_small_and_really_inflates():
    """The bomb is what it claims: a ~1 MB archive whose sheet is 1 GB (declared)."""
    data = bomb()
    assert len(data) < 2 << 20
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.getinfo("xl/worksheets/sheet1.xml").file_size == 1 << 30
        with z.open("xl/worksheets/sheet1.xml") as f:
            assert f.read(1 << 20) == b"\0" * (1 << 20)


def test_bomb_with_lying_sizes_is_refused(small_db):
    """Headers claim 1 KB, the data inflates to 1 GB: never inflated in full."""
    report = refused_quickly(small_db, bomb(lie=True), "报表.xlsx")
    assert "工作簿" in report.message or "Excel" in report.message, report.message


def test_nan_and_inf_name_each_row(small_db):
    data = CASES[[c[0] for c in CASES].index("nan-inf")][2]()
    report = refused_quickly(small_db, data, "报表.csv")
    assert sorted((p.row, p.column) for p in report.errors) == [(2, "数值"), (3, "数值"), (4, "数值"), (5, "数值")]
    assert all(("不是数字" in p.reason or "不是有限数值" in p.reason) for p in report.errors)


def test_mixed_encodings_name_the_line(small_db):
    report = refused_quickly(small_db, mixed_encodings(), "报表.csv")
    assert report.problems[0].row == 3
    assert "UTF-8" in report.message and "GBK" in report.message


def test_ten_megabyte_cell_is_refused_in_chinese(small_db):
    report = refused_quickly(small_db, ten_mb_cell(), "报表.csv")
    assert report.problems[0].row == 2
    assert "field larger" not in report.message  # not the csv module's English
    assert "单元格" in report.message, report.message


@pytest.mark.slow
def test_hundred_thousand_columns(small_db):
    report = refused_quickly(small_db, hundred_thousand_columns(), "报表.csv")
    assert "无法识别表格格式" in report.message


@pytest.mark.slow
def test_fifty_megabyte_csv_is_refused_within_seconds(small_db):
    data = fifty_mb_duplicates()
    assert len(data) >= 49_000_000
    report = refused_quickly(small_db, data, "报表.csv")
    assert "重复" in str(report.problems[0])


@pytest.mark.slow
@pytest.mark.timeout(45)  # quadratic: without a cap it ran for the whole 600 s session timeout
def test_many_unknown_names_are_refused_within_seconds(small_db):
    report = refused_quickly(small_db, many_unknown_names(), "报表.csv")
    assert "未知单位名称 50000 个" in report.message
    assert len(report.message) < 2000  # the list is cut after 20 names


# ---------------------------------------------------------------- formula-like text and HTML stay text

FORMULA = "=cmd|' /C calc'!A0"
HTML = "<script>alert(1)</script>"


def test_formula_and_html_names_stored_as_literal_text(small_db):
    data = csv_bytes(f"2025,9,\"{FORMULA}\",{HTML},亿元,ytd,,12.5",
                     f"2025,9,清河县,\"{FORMULA}\",亿元,ytd,,7")
    report = ingest_bytes(data, "报表.csv", ADMIN, IngestOptions(create_missing=True), path=small_db)
    assert report.status == "stored", report.message
    assert report.created == {"units": [FORMULA], "indicators": sorted([HTML, FORMULA])} or (
        report.created["units"] == [FORMULA] and sorted(report.created["indicators"]) == sorted([HTML, FORMULA]))
    with db.connect(small_db) as con:
        unit = con.execute("SELECT unit_id, name FROM units WHERE unit_id NOT IN ('QC','C01','C02','T01')").fetchall()
        inds = dict(con.execute("SELECT name, indicator_id FROM indicators WHERE needs_review").fetchall())
        obs = con.execute("""SELECT u.name, i.name, o.value FROM observations o JOIN units u USING (unit_id)
                             JOIN indicators i USING (indicator_id) WHERE o.upload_id = ? ORDER BY o.value""",
                          [report.upload_id]).fetchall()
    assert [n for _, n in unit] == [FORMULA]
    assert sorted(inds) == sorted([FORMULA, HTML])
    assert obs == [("清河县", FORMULA, 7.0), (FORMULA, HTML, 12.5)]


@pytest.mark.slow
def test_browse_page_shows_formula_and_html_as_text(small_db):
    from streamlit.testing.v1 import AppTest

    data = csv_bytes(f"2025,9,\"{FORMULA}\",{HTML},亿元,ytd,,12.5")
    report = ingest_bytes(data, "报表.csv", ADMIN, IngestOptions(create_missing=True), path=small_db)
    assert report.status == "stored", report.message
    auth.add_user(ADMIN, "leader1", "测试领导", "viewer", "Leader-pass-1", path=small_db)
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "pages" / "browse.py"), default_timeout=30)
    at.session_state["authentication_status"], at.session_state["username"] = True, "leader1"
    at.session_state["year"], at.session_state["period"], at.session_state["unit"] = 2025, 9, None
    at.run()
    assert not at.exception, at.exception
    frame = at.dataframe[0].value
    row = frame[frame["unit"] == FORMULA]
    assert len(row) == 1
    assert row["indicator"].iloc[0] == HTML
    assert row["value"].iloc[0] == 12.5
    # nowhere rendered as markup: no markdown/html element carries the script
    assert not any(HTML in (m.value or "") for m in at.markdown)
