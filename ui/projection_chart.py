"""The year-end projection figure: this year's line (solid), its continuation to December
(dashed) with the 80 % band, the year-end requirement, previous years faint."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ui.charts import FONT, readable
from ui.text import period_label

MONTHS = list(range(1, 13))


def projection_figure(row: pd.Series, history: pd.DataFrame, year: int, title: str) -> go.Figure:
    """``row``: one row of projection.project; ``history``: projection.history of the series."""
    uom = row.unit_of_measure or ""
    fig = go.Figure()
    for y, g in history[history.year < year].groupby("year"):
        g = g.sort_values("period")
        fig.add_scatter(x=g.period, y=g.value, mode="lines", name=f"{y}年", line=dict(color="#b0b7bf", width=1.5),
                        opacity=0.6, hovertemplate=f"{y}年 %{{x}}月：%{{y:,.2f}} {uom}<extra></extra>")
    now = history[(history.year == year) & (history.period <= row.period)].sort_values("period")
    fig.add_scatter(x=now.period, y=now.value, mode="lines+markers", name=f"{year}年实际",
                    line=dict(color="#c62828", width=3.5),
                    hovertemplate=f"{year}年 %{{x}}月：%{{y:,.2f}} {uom}<extra></extra>")
    m = int(row.period)
    if m < 12 and row.projected == row.projected:
        xs = [m, 12]
        fig.add_scatter(x=xs + xs[::-1], y=[row.ytd, row.high, row.low, row.ytd], fill="toself", mode="lines",
                        fillcolor="rgba(198,40,40,0.15)", line=dict(width=0), name="80%区间", hoverinfo="skip")
        fig.add_scatter(x=xs, y=[row.ytd, row.projected], mode="lines+markers", name="预计（至12月）",
                        line=dict(color="#c62828", width=3, dash="dash"),
                        hovertemplate="预计 %{x}月：%{y:,.2f} " + uom + "<extra></extra>")
    if row.required == row.required:
        fig.add_hline(y=row.required, line=dict(color="#1565c0", width=2, dash="dot"),
                      annotation_text=f"全年目标 {row.required:,.2f}{uom}", annotation_position="top left")
    fig.update_xaxes(title="月份（1-N月累计；1-2月合并报送）", tickmode="array", tickvals=MONTHS,
                     ticktext=[period_label(p) if p > 1 else "1月" for p in MONTHS], range=[1.5, 12.3],
                     gridcolor="#eeeeee")
    fig.update_yaxes(title=f"{'累计' if row.measure == 'ytd' else '累计增速/水平'}（{uom}）", gridcolor="#eeeeee")
    fig.update_layout(title=dict(text=title, font=dict(size=20)), height=520, font=FONT, plot_bgcolor="white",
                      margin=dict(l=10, r=30, t=60, b=40), legend=dict(orientation="h", y=-0.2))
    return readable(fig)
