"""Reading back what the pages draw as HTML — ui/tables' short tables and ui/charts.gap_bars —
as data, for the page tests (AppTest's ``at.html`` bodies, or the deltas a websocket session
receives). Only the standard library's parser: what a browser would show as text."""
from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []  # each table: rows of cell texts (header row first)
        self.bars: list[dict] = []  # each .gb-track: its data-* attributes and its text
        self.title: str | None = None
        self._cell: list[str] | None = None
        self._in: str | None = None  # "caption" or "bar" while inside one

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("th", "td") and self.tables:
            self._cell = []
        elif tag == "figcaption":
            self._in, self.title = "caption", ""
        elif tag == "div" and "gb-track" in (a.get("class") or "").split():
            self.bars.append({k[5:]: v for k, v in a.items() if k.startswith("data-")} | {"text": ""})
            self._in = "bar"

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "figcaption" or (tag == "div" and self._in == "bar"):
            self._in = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif self._in == "caption":
            self.title += data
        elif self._in == "bar":
            self.bars[-1]["text"] += data


def tables(html: str) -> list[pd.DataFrame]:
    """Each <table> as a frame of the texts shown (columns: the header row)."""
    reader = _Reader()
    reader.feed(html)
    return [pd.DataFrame(rows[1:], columns=rows[0]) for rows in reader.tables if rows]


def gap_bars(html: str) -> tuple[str, pd.DataFrame]:
    """The gap chart's title and one row per bar: label, unit, completion and time (the
    unrounded numbers the row carries), text (value and status word shown beside the bar)."""
    reader = _Reader()
    reader.feed(html)
    bars = pd.DataFrame(reader.bars, columns=["label", "unit", "completion", "time", "text"])
    for c in ("completion", "time"):
        bars[c] = pd.to_numeric(bars[c].replace("", None)).astype(float)
    return reader.title, bars
