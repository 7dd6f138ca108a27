"""Meta periods and the standard windows the refresh precomputes for every format.

:func:`load_periods` reads the meta periods of the format definitions (``metas.json``);
:func:`standard_windows` cuts, from each format's latest event date, the current meta period
and the rolling windows (:data:`pipelines.core.vocabulary.STANDARD_WINDOW_KEYS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipelines.core.vocabulary import CURRENT_WINDOW, ROLLING_WINDOW_DAYS
from pipelines.stats.windows import parse_metas, rolling_window

__all__ = ["Periods", "WindowSpec", "load_periods", "standard_windows"]

Periods = Mapping[str, Sequence[tuple[date, str]]]


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """One window of one format: ``[start, end]``, both ends inclusive.

    ``key`` names it (``"current"``, ``"last7"``…, or ``"custom"``); ``latest`` is the format's
    latest event date it was cut from; ``period_name`` the meta period of ``"current"``.
    """

    format: str
    key: str
    start: date
    end: date
    latest: date
    period_name: str | None = None


def load_periods(formats_root: Path | str) -> dict[str, list[tuple[date, str]]]:
    """Meta periods of every ``<formats_root>/<Format>/metas.json`` (MTGOFormatData layout).

    Parsed leniently (trailing commas exist in the wild) by the classifier's loader. Returns
    ``{format folder name: [(start date, name), ...]}``; a missing root gives ``{}``.
    """
    from pipelines.classify.definitions import parse_lenient_json
    from pipelines.classify.definitions import parse_metas as parse_metas_file

    root = Path(formats_root)
    if not root.is_dir():
        return {}
    periods: dict[str, list[tuple[date, str]]] = {}
    for folder in sorted(p for p in root.iterdir() if (p / "metas.json").is_file()):
        path = folder / "metas.json"
        data = parse_lenient_json(path.read_bytes(), path)
        periods[folder.name] = list(parse_metas_file(data, path))
    return periods


def _periods_for(fmt: str, periods: Periods | None) -> Sequence[tuple[date, str]] | None:
    if not periods:
        return None
    if fmt in periods:
        return periods[fmt]
    folded = {key.casefold(): value for key, value in periods.items()}
    return folded.get(fmt.casefold())


def standard_windows(
    latest: Mapping[str, date], periods: Periods | None = None
) -> list[WindowSpec]:
    """The standard windows of each format given its latest event date.

    * ``current``: the last meta period of the format (when ``periods`` has the format), from
      its start to ``latest`` (:meth:`MetaPeriod.window`; a period starting after the data
      gives a one-day window with no data);
    * ``lastN`` for N in 7, 14, 30, 90: ``[latest − (N − 1) days, latest]`` — counted back from
      the latest event date in the data, not from today.
    """
    specs: list[WindowSpec] = []
    for fmt in sorted(latest):
        day = latest[fmt]
        entries = _periods_for(fmt, periods)
        if entries:
            metas = parse_metas(
                {"Metas": [{"StartDate": d.isoformat(), "Name": name} for d, name in entries]}
            )
            current = metas[-1]
            window = current.window(day)
            specs.append(
                WindowSpec(fmt, CURRENT_WINDOW, window.start, window.end, day, current.name)
            )
        for days in ROLLING_WINDOW_DAYS:
            window = rolling_window(day, days)
            specs.append(WindowSpec(fmt, f"last{days}", window.start, window.end, day))
    return specs
