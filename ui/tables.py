"""Shared table rendering for the gap pages: status cells coloured *and* worded, numbers
with thousands separators, units in the headers."""
from __future__ import annotations

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


STATIC_ROWS = 15  # a short list may be a plain HTML table


def gap_frame(rows: pd.DataFrame, columns: list[str], key: str | None = None, height: int | str = "auto",
              select: bool = False, static: bool = False):
    """st.dataframe of progress rows: the status a label coloured by its code (the word stays).
    A plain HTML table instead when it has at most STATIC_ROWS rows and ``static`` (the overview's
    short lists: read at a glance, no grid script to load) or meeting mode is on: its type grows
    with the page's (the grid's does not)."""
    view = rows[columns].copy()
    for c in ("completion", "time_progress", "gap_pp", "gap_change"):  # shown as the status was decided
        if c in view:
            view[c] = round2(view[c])
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
    if not select and (static or st.session_state.get("meeting")) and len(view) <= STATIC_ROWS:
        labels = {c: config[c]["label"] if isinstance(config[c], dict) else GAP_LABELS.get(c, c) for c in columns}
        formats = {c: _FORMATS[c] for c in columns if c in _FORMATS}
        numeric = [c for c in columns if c in _FORMATS]
        # names and owners wrap at 5 characters, headers between words, numbers and the status never: the table
        # fits a narrow screen in meeting type (what still does not, scrolls sideways in its box)
        fixed = [c for c in columns if c in numeric or c == "status"]
        codes = rows["status_code"].to_numpy()
        styler = view.style.apply(lambda col: [_status_css(c) for c in codes] if col.name == "status" else [""] * len(col))
        html = (styler.format(formats, na_rep="—").set_properties(subset=numeric, **{"text-align": "right"})
                .set_properties(subset=fixed, **{"white-space": "nowrap"})
                .set_properties(subset=[c for c in columns if c not in fixed], **{"min-width": "5em"})
                .hide(axis="index")
                .relabel_index([labels[c] for c in columns], axis="columns")
                .set_table_attributes('class="plain-table"').to_html())
        st.html(f"<div class='plain-table-box'>{html}</div>")
        return None
    kwargs = dict(on_select="rerun", selection_mode="single-row") if select else {}
    return st.dataframe(view, hide_index=True, width="stretch", height=height, column_config=config,
                        placeholder="—", key=key, **kwargs)
