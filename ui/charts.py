"""Charts for the gap pages (plotly; the gap bars a Vega-Lite spec): every figure has a title with units; colours follow the
status (always with the word beside them, never colour alone)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics.progress import STATUS
from ui.text import STATUS_COLORS, period_label

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


def gap_bars(table: pd.DataFrame, title: str, projector: bool = False) -> tuple[pd.DataFrame, dict]:
    """Completion % per indicator as bars coloured by status, the time-progress line as a
    black tick on each bar (the "time account" against the "task account"), value and status
    word beside each bar: (data, Vega-Lite spec) for st.vega_lite_chart. Vega-Lite: the page
    leaders open first draws in a fraction of plotly's first-chart time (plotly.js loads only
    when a detail chart is opened); a plain spec, not altair, whose schema validation costs
    more than the rest of the page's run. ``projector``: type and rows a third larger."""
    k = 4 / 3 if projector else 1.0
    small, text_size = round(14 * k), round(15 * k)
    t = table.dropna(subset=["completion"]).sort_values("gap_pp", kind="stable")  # worst at the top
    several = t.unit.nunique() > 1
    right = t[["completion", "time_progress"]].max(axis=1)
    xmax = max(110.0, float(right.max() if len(t) else 100) * 1.15)
    data = pd.DataFrame({
        "label": (t.indicator + "\n" + t.unit) if several else t.indicator,  # two lines: the unit under the name
        "completion": t.completion, "time_progress": t.time_progress, "status": t.status,
        # the value and status word right of the bar end *and* of the tick, so the tick never crosses them
        "text_at": right + xmax * 0.02, "text": [f"{c:,.1f}%  {s}" for c, s in zip(t.completion, t.status)]})
    grey = "#31333f"
    y = {"field": "label", "type": "nominal", "sort": list(data.label), "title": None,
         "axis": {"labelLimit": 0, "labelFontSize": small, "labelColor": grey, "labelExpr": "split(datum.label, '\\n')"}}
    shown = [c for c in STATUS_COLORS if STATUS[c] in set(data.status)]
    tips = [{"field": "label", "type": "nominal", "title": "指标"},
            {"field": "completion", "type": "quantitative", "title": "完成率（%）", "format": ",.2f"},
            {"field": "time_progress", "type": "quantitative", "title": "时间进度（%）", "format": ",.2f"},
            {"field": "status", "type": "nominal", "title": "状态"}]
    bars = {"mark": {"type": "bar", "height": {"band": 0.7}}, "encoding": {
        "y": y, "tooltip": tips,
        "x": {"field": "completion", "type": "quantitative", "title": "完成率 / 时间进度（%）",
              "scale": {"domain": [0, xmax], "nice": False},
              "axis": {"labelFontSize": small, "titleFontSize": text_size, "labelColor": grey, "titleColor": grey,
                       "labelExpr": "datum.value + '%'", "tickCount": 10}},
        "color": {"field": "status", "type": "nominal", "title": "状态",
                  "scale": {"domain": [STATUS[c] for c in shown], "range": [STATUS_COLORS[c] for c in shown]},
                  "legend": {"orient": "bottom", "labelFontSize": small, "titleFontSize": small}}}}
    tick = {"mark": {"type": "tick", "color": "#111", "thickness": 4, "size": round(24 * k), "opacity": 1},
            "encoding": {"x": {"field": "time_progress", "type": "quantitative"}, "y": y, "tooltip": tips}}
    text = {"mark": {"type": "text", "align": "left", "baseline": "middle", "fontSize": text_size, "color": grey},
            "encoding": {"x": {"field": "text_at", "type": "quantitative"}, "y": y,
                         "text": {"field": "text", "type": "nominal"}}}
    spec = {"title": {"text": title, "fontSize": round(20 * k), "anchor": "start"},
            "height": max(240, round((44 if several else 34) * k) * len(t)),
            # the labels right of the bars run into the padding (marks are not clipped), as far at 1024 px as at 1920
            "padding": {"left": 5, "top": 5, "bottom": 5, "right": round(130 * k)},
            "layer": [bars, tick, text], "config": {"font": FONT["family"], "view": {"stroke": None}}}
    return data, spec


def detail_lines(series: pd.DataFrame, measure: str, year: int, target: float | None, unit_of_measure: str,
                 time_line: pd.DataFrame, title: str) -> go.Figure:
    """The cumulative line this year (bold) against previous years (faint), the annual target
    and the time line (target × time progress)."""
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
