"""Shared table rendering for the gap pages: status cells coloured *and* worded, numbers
with thousands separators, units in the headers."""
from __future__ import annotations

import contextlib
import threading
from html import escape

import pandas as pd
import streamlit as st

from analytics.progress import STATUS, round2
from ui.text import GAP_HELP, GAP_LABELS, STATUS_COLORS, STATUS_PILL_COLORS, STATUS_TEXT_COLORS


_FORMATS = {**{c: "{:.2f}%" for c in ("completion", "time_progress", "yoy_pct", "growth", "growth_target")},
            **{c: "{:+.2f}" for c in ("gap_pp", "gap_change")},
            **{c: "{:,.2f}" for c in ("target", "ytd", "arrears", "required_pace", "avg_pace")},
            "acceleration": "{:.2f} 倍"}


def _status_css(code: str) -> str:
    return f"background-color: {STATUS_COLORS.get(code, '#fff')}; color: {STATUS_TEXT_COLORS.get(code, '#000')}; font-weight: 600"


def _html_table(view: pd.DataFrame, labels: list[str], codes) -> str:
    """A plain HTML table of ``view`` (headers ``labels``): numbers formatted and right-aligned,
    the status cell coloured by its code (``codes``, per row) with its word; names and owners
    wrap at 5 characters, numbers and the status never (the table fits a narrow screen in
    meeting type; what still does not, scrolls sideways in its box). Every text is escaped."""
    head = "".join(f"<th>{escape(label)}</th>" for label in labels)
    body = []
    for code, values in zip(codes, view.itertuples(index=False, name=None)):
        cells = []
        for column, value in zip(view.columns, values):
            if column in _FORMATS:
                text = "—" if pd.isna(value) else _FORMATS[column].format(value)
                cells.append(f"<td style='text-align: right; white-space: nowrap'>{escape(text)}</td>")
            elif column == "status":
                cells.append(f"<td style='{_status_css(code)}; white-space: nowrap'>{escape(str(value))}</td>")
            else:
                text = "—" if pd.api.types.is_scalar(value) and pd.isna(value) else str(value)
                cells.append(f"<td style='min-width: 5em'>{escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table class='plain-table'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


STATIC_ROWS = 15  # a short list may be a plain HTML table
BIG_ROWS = 10_000  # a table this long is converted for the browser by one run at a time
_converting = threading.Lock()


def gap_frame(rows: pd.DataFrame, columns: list[str], key: str | None = None, height: int | str = "auto",
              select: bool = False, static: bool = False):
    """st.dataframe of progress rows: the status a label coloured by its code (the word stays).
    A plain HTML table instead when it has at most STATIC_ROWS rows and ``static`` (the overview's
    short lists: read at a glance, no grid script to load) or meeting mode is on: its type grows
    with the page's (the grid's does not). A table of BIG_ROWS rows or more is copied and converted
    by one run at a time: twenty leaders opening 进度差距 at once (a meeting starting) converted the
    90,000-row table together, and the server kept up to 20 MB of that peak (the script runs hold
    the GIL for that work anyway, so together was no faster)."""
    with _converting if len(rows) >= BIG_ROWS else contextlib.nullcontext():
        return _gap_frame(rows, columns, key, height, select, static)


def _gap_frame(rows, columns, key, height, select, static):
    view = rows[columns].copy()
    for c in ("completion", "time_progress", "gap_pp", "gap_change"):  # shown as the status was decided
        if c in view:
            view[c] = round2(view[c])
    if not select and (static or st.session_state.get("meeting")) and len(view) <= STATIC_ROWS:
        labels = [GAP_LABELS.get(c, c) for c in columns]  # the grid's headers (its column settings below)
        st.html(f"<div class='plain-table-box'>{_html_table(view, labels, rows['status_code'].to_numpy())}</div>")
        return None
    config = {c: st.column_config.Column(GAP_LABELS.get(c, c), help=GAP_HELP.get(c)) for c in columns}
    for c in ("completion", "time_progress", "yoy_pct", "growth", "growth_target"):
        if c in columns:
            config[c] = st.column_config.NumberColumn(GAP_LABELS[c], format="%.2f%%", help=GAP_HELP.get(c))
    for c in ("gap_pp", "gap_change"):
        if c in columns:
            config[c] = st.column_config.NumberColumn(GAP_LABELS[c], format="%+.2f", help=GAP_HELP.get(c))
    for c in ("target", "ytd", "arrears", "required_pace", "avg_pace"):
        if c in columns:
            config[c] = st.column_config.NumberColumn(GAP_LABELS[c], format="%,.2f", help=GAP_HELP.get(c))
    if "quality" in columns:  # "⚑ 1 条待核实": sized by the first rows (mostly blank) it was cut to "⚑ 1 条待核"
        config["quality"] = st.column_config.TextColumn(GAP_LABELS["quality"], width=130, help=GAP_HELP.get("quality"))
    if "acceleration" in columns:
        config["acceleration"] = st.column_config.NumberColumn(GAP_LABELS["acceleration"], format="%.2f 倍",
                                                                help=GAP_HELP["acceleration"])
    if "status" in columns:  # a coloured label: a column setting, not a pandas Styler (which formats every cell
        # of the table on every run, 0.3 s for 700 rows, and is capped on big tables): colour at any size
        config["status"] = st.column_config.MultiselectColumn(
            GAP_LABELS["status"], help=GAP_HELP["status"], options=list(STATUS.values()),
            color=[STATUS_PILL_COLORS[c] for c in STATUS])
    kwargs = dict(on_select="rerun", selection_mode="single-row") if select else {}
    return st.dataframe(view, hide_index=True, width="stretch", height=height, column_config=config,
                        placeholder="—", key=key, **kwargs)
