"""The architecture as tests: analytics/ never loads streamlit (not even indirectly), and
pages/ hold no SQL and no duckdb import."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_importing_analytics_never_loads_streamlit():
    modules = [p.stem for p in (ROOT / "analytics").glob("*.py") if p.stem != "__init__"]
    code = ("import importlib, sys\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module('analytics.' + m)\n"
            "print('streamlit' in sys.modules, any(k.startswith('streamlit') for k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr


SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP)\b\s+[\w*(]|\bexecute\(|\bimport duckdb|from duckdb")


def test_pages_hold_no_sql_and_no_duckdb():
    offenders = {p.name: m.group(0) for p in (ROOT / "pages").glob("*.py")
                 for m in [SQL.search(p.read_text(encoding="utf-8"))] if m}
    assert not offenders, offenders
    assert list((ROOT / "pages").glob("*.py")), "no pages found: the check would pass vacuously"


def test_no_fstring_sql_with_execute():
    """SQL is parameterised; the few f-strings that build SQL from our own constants say so."""
    for p in list((ROOT / "analytics").glob("*.py")) + list((ROOT / "ui").glob("*.py")):
        text = p.read_text(encoding="utf-8")
        for m in re.finditer(r"execute\(f[\"']", text):
            before = text[:m.start()].splitlines()[-3:]
            assert any("never from" in line for line in before), f"{p.name}: f-string SQL without justification"
