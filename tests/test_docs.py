"""Docs are tested: every CLI command is in the README and its --help prints; every scoring
method and status word the code knows is documented."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from analytics.__main__ import parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_cli_command_is_documented_and_has_help(command, capsys):
    assert re.search(rf"`{command}\b", README), f"README does not document the `{command}` command"
    with pytest.raises(SystemExit) as done:
        parser().parse_args([command, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip()


def test_top_level_help_prints(capsys):
    with pytest.raises(SystemExit) as done:
        parser().parse_args(["--help"])
    assert done.value.code == 0 and "python -m analytics" in capsys.readouterr().out


def test_status_words_and_exit_codes_are_documented():
    from analytics.progress import STATUS
    for word in STATUS.values():
        assert word in README, word
    for code in ("0", "1", "2", "3", "4"):
        assert re.search(rf"\b{code}\b", README)
