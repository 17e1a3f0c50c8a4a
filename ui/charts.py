"""Charts for the gap pages (plotly, imported when a detail chart is drawn; the gap bars plain HTML): every figure
has a title with units; colours follow the status (always with the word beside them, never colour alone)."""
from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import pandas as pd

from analytics.progress import STATUS
from ui.text import STATUS_COLORS, period_label

if TYPE_CHECKING:
    import plotly.graph_objects as go

FONT = dict(family="Noto Sans CJK SC, Microsoft YaHei, sans-serif", size=15)


def readable(fig: go.Figure) -> go.Figure:
    """Tick labels, axis titles and the legend at projector size and in dark grey (Streamlit's
    chart theme otherwise sets them to about 12px light grey, below the figure's own font)."""
    for axes in (fig.update_xaxes, fig.update_yaxes):
        axes(tickfont=dict(size=14, color="#31333f"), title_font=dict(size=15, color="#31333f"))
    fig.update_layout(legend_font=dict(size=14, color="#31333f"))
    legend = fig.layout.legend
    if legend.orientation == "h" and legend.y is not None and legend.y < 0:
        # a legend under the plot sits at the bottom edge of the figure, below the axis title: placed
        # relative to the plot it ran into the title once a narrow screen tilted the month labels
        margin = fig.layout.margin
        fig.update_layout(legend=dict(yref="container", y=0, yanchor="bottom"),
                          margin=dict(b=max(margin.b or 0, 120)))
    return fig


def _layout(fig: go.Figure, title: str, height: int, **kw) -> go.Figure:
    """Title (a half-width chart breaks it in two with <br>: SVG text does not wrap), fonts, margins."""
    kw.setdefault("margin", dict(l=10, r=30, t=60 + 26 * title.count("<br>"), b=40))
    fig.update_layout(title=dict(text=title, font=dict(size=20)), height=height, font=FONT,
                      plot_bgcolor="white", **kw)
    return readable(fig)


def _step(top: float) -> float:
    """Grid step of the completion axis: at most 8 lines up to ``top``."""
    return next(s for s in (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2500, 5000) if top / s <= 8) if top <= 40_000 else top / 8


def gap_bars(table: pd.DataFrame, title: str) -> str:
    """Completion % per indicator as bars coloured by status, the time progress as a black
    tick across each bar (the "time account" against the "task account"), value and status
    word beside each bar, worst gap at the top: an HTML figure for st.html. Plain HTML, not a
    chart library: the page leaders open first shows it without loading a charting script, the
    type follows the page (meeting mode enlarges it) and the labels are real, selectable text.
    Each row carries its numbers (data-completion, data-time) unrounded."""
    t = table.dropna(subset=["completion"]).sort_values("gap_pp", kind="stable")
    several = t.unit.nunique() > 1
    right = t[["completion", "time_progress"]].max(axis=1)
    xmax = max(110.0, float(right.max() if len(t) else 100) * 1.15)
    step = _step(xmax)
    pct = lambda v: f"{max(0.0, min(float(v), xmax)) / xmax * 100:.3f}%"  # position on the axis  # noqa: E731
    rows = []
    for r, end in zip(t.itertuples(), right):
        label = escape(r.indicator) + (f"<small>{escape(r.unit)}</small>" if several else "")
        tick = "" if pd.isna(r.time_progress) else f"<i class='gb-tick' style='left:{pct(r.time_progress)}'></i>"
        tip = f"{r.indicator}（{r.unit}）：完成率 {r.completion:,.2f}%，时间进度 " + (
            "—" if pd.isna(r.time_progress) else f"{r.time_progress:,.2f}%") + f"，{r.status}"
        rows.append(
            f"<div class='gb-label'>{label}</div>"
            f"<div class='gb-track' title='{escape(tip)}' data-label='{escape(r.indicator)}' data-unit='{escape(r.unit)}'"
            f" data-completion='{float(r.completion)!r}' data-time='{'' if pd.isna(r.time_progress) else repr(float(r.time_progress))}'"
            f" style='background-size:{step / xmax * 100:.3f}% 100%'>"
            f"<b class='gb-bar' style='width:{pct(r.completion)};background:{STATUS_COLORS[r.status_code]}'></b>{tick}"
            f"<span class='gb-text' style='left:calc({pct(end if pd.notna(end) else r.completion)} + 0.5em)'>"
            f"{r.completion:,.1f}%&ensp;{escape(r.status)}</span></div>")
    ticks = "".join(f"<span style='left:{v / xmax * 100:.3f}%'>{v:,.0f}%</span>"
                    for v in [i * step for i in range(int(xmax // step) + 1)])
    legend = "".join(f"<span><i style='background:{STATUS_COLORS[c]}'></i>{STATUS[c]}</span>"
                     for c in STATUS_COLORS if c in set(t.status_code))
    return (f"<figure class='gap-bars'><figcaption class='chart-title'>{escape(title)}</figcaption>"
            f"<div class='gb-legend'>{legend}<span><i class='gb-key-tick'></i>时间进度</span></div>"
            f"<div class='gb-grid{' gb-two' if several else ''}'>{''.join(rows)}"
            f"<div></div><div class='gb-axis'>{ticks}</div></div>"
            f"<div class='gb-axis-title'>完成率 / 时间进度（%）</div></figure>")


def detail_lines(series: pd.DataFrame, measure: str, year: int, target: float | None, unit_of_measure: str,
                 time_line: pd.DataFrame, title: str) -> go.Figure:
    """The cumulative line this year (bold) against previous years (faint), the annual target
    and the time line (target × time progress)."""
    import plotly.graph_objects as go  # only when a detail chart is drawn
    s = series[series.measure == measure]
    fig = go.Figure()
    for y, grp in s.groupby("year"):
        this = y == year
        fig.add_scatter(x=grp.period, y=grp.value, mode="lines+markers" if this else "lines", name=f"{y}年",
                        line=dict(width=4 if this else 1.5, color="#b71c1c" if this else None),
                        opacity=1 if this else 0.45)
    if target is not None and pd.notna(target):
        fig.add_hline(y=target, line_dash="dash", line_color="#1a237e",
                      annotation_text=f"全年目标 {target:,.2f}{unit_of_measure}", annotation_position="top left")
    if not time_line.empty and target is not None and measure == "ytd":
        fig.add_scatter(x=time_line.period, y=time_line.time_progress / 100 * target, mode="lines", name="序时进度线",
                        line=dict(dash="dot", color="#555", width=2))
    fig.update_xaxes(title="月份（1-N月累计）", tickvals=list(range(1, 13)),
                     ticktext=[period_label(m) for m in range(1, 13)], range=[1.5, 12.5])
    fig.update_yaxes(title=f"累计值（{unit_of_measure}）" if measure == "ytd" else f"数值（{unit_of_measure}）",
                     gridcolor="#e5e5e5", tickformat=",")
    return _layout(fig, title, height=480, legend=dict(orientation="h", y=-0.25))


def increments(series: pd.DataFrame, year: int, unit_of_measure: str, title: str) -> go.Figure:
    """Monthly increments (当月 = this month's ytd − last reported ytd) this year vs last year."""
    import plotly.graph_objects as go  # only when a detail chart is drawn
    s = series[(series.measure == "ytd") & series.year.isin([year, year - 1])].sort_values(["year", "period"])
    s = s.assign(inc=s.groupby("year").value.diff().fillna(s.value))
    fig = go.Figure()
    for y, grp in s.groupby("year"):
        fig.add_bar(x=grp.period, y=grp.inc, name=f"{y}年", marker_color="#b71c1c" if y == year else "#bdbdbd")
    fig.update_xaxes(title="月份", tickvals=list(range(2, 13)), ticktext=[f"{m}月" for m in range(2, 13)])
    fig.update_yaxes(title=f"当月新增（{unit_of_measure}）", gridcolor="#e5e5e5", tickformat=",")
    return _layout(fig, title, height=400, barmode="group", legend=dict(orientation="h", y=-0.3))


def gap_trend(history: pd.DataFrame, title: str) -> go.Figure:
    """How the gap (percentage points) moved over the reported periods — 督办 tracking."""
    import plotly.graph_objects as go  # only when a detail chart is drawn
    # a value where it changed (and the latest), above and below the line in turn: a half-width
    # chart on a 1024px screen puts the points ~30px apart, so a label at every point piled up
    shown = [f"{g:+.2f}" for g in history.gap_pp]
    text = [t if i in (0, len(shown) - 1) or t != shown[i - 1] else "" for i, t in enumerate(shown)]
    fig = go.Figure()
    fig.add_scatter(x=history.period, y=history.gap_pp, mode="lines+markers+text", name="差距", cliponaxis=False,
                    text=text, textposition=["top center" if i % 2 == 0 else "bottom center" for i in range(len(text))],
                    marker=dict(size=12, color=[STATUS_COLORS[c] for c in history.status_code]),
                    line=dict(color="#444"))
    fig.add_hline(y=0, line_color="#111", line_width=1)
    fig.update_xaxes(title="期间", tickvals=list(history.period), ticktext=[period_label(p) for p in history.period])
    fig.update_yaxes(title="差距（百分点）", gridcolor="#e5e5e5", zeroline=False)
    return _layout(fig, title, height=340, showlegend=False)
