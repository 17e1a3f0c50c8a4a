"""Numbers for people: thousands separators and units, never silently rounded in data."""
from __future__ import annotations

import math


def number(value: float | None, decimals: int = 2, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = f"{value:,.{decimals}f}"
    return f"{text} {unit}".strip() if unit and unit != "%" else f"{text}{unit}"
