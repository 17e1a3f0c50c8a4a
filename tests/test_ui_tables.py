"""ui/tables: a long table is converted for the browser by one script run at a time (twenty
leaders opening 进度差距 at once each copied and converted the 90,000-row table together: the
server's memory grew by up to 20 MB more, and stayed there); short ones are not held up."""
from __future__ import annotations

import threading

import pandas as pd

from ui import tables


def _rows(n: int) -> pd.DataFrame:
    return pd.DataFrame({"indicator": ["地区生产总值"] * n, "gap_pp": [-1.235] * n, "status": ["滞后"] * n,
                         "status_code": ["behind"] * n})


def _show_together(monkeypatch, n: int, runs: int = 4, wait=None) -> tuple[int, list[pd.DataFrame]]:
    """``runs`` threads each show an ``n``-row table; the most conversions under way at once, and the views."""
    count, most, views, guard = [0], [0], [], threading.Lock()

    def dataframe(view, **kwargs):
        with guard:
            count[0] += 1
            most[0] = max(most[0], count[0])
            views.append(view)
        wait()
        with guard:
            count[0] -= 1

    monkeypatch.setattr(tables.st, "dataframe", dataframe)
    threads = [threading.Thread(target=tables.gap_frame, args=(_rows(n), ["indicator", "gap_pp", "status"]),
                                kwargs={"select": True}) for _ in range(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    return most[0], views


def test_long_tables_are_converted_one_run_at_a_time(monkeypatch):
    most, views = _show_together(monkeypatch, tables.BIG_ROWS, wait=lambda: threading.Event().wait(0.05))
    assert most == 1 and len(views) == 4
    assert views[0].gap_pp.iloc[0] == -1.24  # shown as rounded for the status (half away from zero)


def test_short_tables_are_shown_together(monkeypatch):
    barrier = threading.Barrier(4, timeout=5)  # breaks (and the test fails) unless all four are inside at once
    most, views = _show_together(monkeypatch, 10, wait=barrier.wait)
    assert most == 4 and not barrier.broken
