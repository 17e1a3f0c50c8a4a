"""ui/data: the big frames the app server caches are held packed in files between runs (not in
memory), unpacked for the runs that use them, and their files go when the cache lets them go."""
from __future__ import annotations

import gc
from pathlib import Path

import pandas as pd

from ui import data

FRAME = pd.DataFrame({"unit": ["清河县", "石门县", None] * 40, "gap_pp": [-12.5, 3.0, float("nan")] * 40})


def test_a_packed_frame_lives_in_a_file_between_runs():
    held = data._Held(FRAME.copy(), lambda: FRAME.copy())
    held.pack()
    file = held.packed
    assert isinstance(file, Path) and file.exists() and held.frame is None  # no run under way: nothing in memory
    pd.testing.assert_frame_equal(held.frame_for_run(), FRAME)
    assert held.frame is None
    with data.script_run():  # runs under way share one unpacked copy
        first = held.frame_for_run()
        assert held.frame_for_run() is first and held.frame is first
    assert held.frame is None  # the last run to end dropped it
    del held, first
    gc.collect()
    assert not file.exists()  # the cache let it go: its file with it


def test_a_frame_whose_file_is_gone_is_computed_again():
    calls = []
    held = data._Held(FRAME.copy(), lambda: calls.append(1) or FRAME.copy())
    held.pack()
    held.packed.unlink()  # a temp-folder cleaner
    pd.testing.assert_frame_equal(held.frame_for_run(), FRAME)
    pd.testing.assert_frame_equal(held.frame_for_run(), FRAME)
    assert calls == [1]  # then held as computed


def test_a_frame_arrow_cannot_carry_is_held_as_computed():
    frame = pd.DataFrame({"numbers": [{"value": 1.5}, {"row": 3}]})
    held = data._Held(frame, lambda: frame)
    held.pack()
    assert held.packed is None and held.frame_for_run() is frame


def test_memory_is_released_again_after_the_last_run_ended(monkeypatch):
    """The end of the last run releases memory, then again at each of SEND_SECONDS (the event loop
    sends that run's messages after it, slower to a slow client); a run under way stops the
    repeats, and its end starts them anew."""
    import time
    calls, freezes = [], []
    monkeypatch.setattr(data, "release_memory", lambda: calls.append(time.monotonic()))
    monkeypatch.setattr(data, "_collect_and_freeze", lambda quiet: freezes.append(quiet))
    monkeypatch.setattr(data, "SEND_SECONDS", (0.05, 0.05, 0.05))
    with data.script_run():
        pass
    time.sleep(0.5)
    assert len(calls) == 1 + 3
    assert freezes == [False, False, True]  # after each repeat; the last one ends the quiet spell
    calls.clear()
    with data.script_run():
        pass
    time.sleep(0.07)  # the end, and the first repeat
    with data.script_run():  # a run starts: the repeat pending now is the last of that chain
        time.sleep(0.3)
        assert len(calls) == 3
    time.sleep(0.5)
    assert len(calls) == 3 + 1 + 3  # this run's end, and its repeats


class _Cycle:
    def __init__(self):
        self.me = self  # only the cycle collector frees it


def test_survivors_are_frozen_between_runs_and_collected_in_a_later_quiet_spell(monkeypatch):
    """The full collection between runs freezes what survived, so Streamlit's collection after
    each run walks only what was made since; an object frozen while in use and dropped later is
    freed in the next quiet spell once the freeze is FREEZE_SECONDS old, and not before."""
    import weakref
    monkeypatch.setattr(data, "release_memory", lambda: None)
    monkeypatch.setattr(data, "_frozen_at", float("-inf"))  # restored after the test
    monkeypatch.setattr(data, "FREEZE_GROWTH", 0)
    data._collect_and_freeze(quiet=True)  # the test process is no server (AppTest's Runtime is a stand-in)
    assert gc.get_freeze_count() == 0
    server = object.__new__(data.runtime.Runtime)
    monkeypatch.setattr(data.runtime, "exists", lambda: True)
    monkeypatch.setattr(data.runtime, "get_instance", lambda: server)
    try:
        kept = _Cycle()
        data._collect_and_freeze(quiet=False)
        assert gc.get_freeze_count() > 0 and gc.is_tracked(kept)
        assert len(gc.get_objects()) < 1_000  # what the collection after a run walks now
        alive = weakref.ref(kept)
        del kept
        gc.collect()
        assert alive() is not None  # frozen: the collection after a run leaves it
        monkeypatch.setattr(data, "FREEZE_GROWTH", 10**9)
        data._collect_and_freeze(quiet=False)  # few new objects, not quiet: nothing done
        data._collect_and_freeze(quiet=True)  # quiet, but frozen just now
        assert alive() is not None
        monkeypatch.setattr(data, "FREEZE_SECONDS", 0.0)
        data._collect_and_freeze(quiet=True)
        assert alive() is None
    finally:
        gc.unfreeze()
