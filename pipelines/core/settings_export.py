"""Settings written back out: a child process's environment and the README table, both
derived from the declarations of :mod:`pipelines.core.settings`."""

from __future__ import annotations

from typing import Any

from pipelines.core.settings import SETTING_FIELDS, Settings


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def settings_environment(settings: Settings) -> dict[str, str | None]:
    """``settings`` written back as environment variables (None: the variable is unset).

    A child process given these reads the same settings (round trip tested).
    """
    return {
        spec.env: None if getattr(settings, f.name) is None else _render(getattr(settings, f.name))
        for f, spec in SETTING_FIELDS
    }


def settings_markdown() -> str:
    """The README table of environment variables."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for f, spec in SETTING_FIELDS:
        default = spec.shown_default if spec.shown_default is not None else _render(f.default)
        rows.append(f"| `{spec.env}` | `{default}` | {spec.help} |")
    return "\n".join(rows)


__all__ = ["settings_environment", "settings_markdown"]
