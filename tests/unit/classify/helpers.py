"""Helpers shared by the classification tests (paths, in-memory formats, dual evaluation)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipelines.classify import reference
from pipelines.classify.definitions import (
    Archetype,
    Condition,
    ConditionType,
    Fallback,
    FormatDefinitions,
    Variant,
)
from pipelines.classify.matcher import compile_format
from pipelines.classify.result import DEFAULT_MODE, ConflictMode, Detection

CLASSIFY_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "classify"
FORMATS = CLASSIFY_FIXTURES / "formats"
BROKEN = CLASSIFY_FIXTURES / "broken"
TOURNAMENTS = CLASSIFY_FIXTURES / "tournaments"

Board = Sequence[tuple[str, int]]


def detect_both(
    fmt: FormatDefinitions,
    main: Board,
    side: Board = (),
    mode: ConflictMode = DEFAULT_MODE,
) -> Detection:
    """Run the reference and a freshly compiled matcher; fail unless they agree."""
    expected = reference.detect(main, side, fmt, mode)
    got = compile_format(fmt, mode).detect(main, side)
    assert got == expected, f"matcher {got} != reference {expected}"
    return expected


def make_format(
    archetypes: Sequence[Archetype] = (),
    fallbacks: Sequence[Fallback] = (),
    lands: dict[str, str] | None = None,
    nonlands: dict[str, str] | None = None,
) -> FormatDefinitions:
    """An in-memory format for small hand-computed cases."""
    return FormatDefinitions(
        name="Test",
        archetypes=tuple(archetypes),
        fallbacks=tuple(fallbacks),
        lands=lands or {},
        nonlands=nonlands or {},
        metas=(),
        version="test",
    )


def conditions(*specs: tuple[str, list[str]]) -> tuple[Condition, ...]:
    """``("InMainboard", ["Card"])`` pairs -> conditions."""
    return tuple(Condition(ConditionType(t), tuple(cards)) for t, cards in specs)


def variant(name: str, *specs: tuple[str, list[str]], colour: bool = False) -> Variant:
    """Shorthand for a variant."""
    return Variant(name, colour, conditions(*specs))


def arch(
    name: str,
    *specs: tuple[str, list[str]],
    variants: Sequence[Variant] = (),
    colour: bool = False,
) -> Archetype:
    """Shorthand: ``arch("X", ("InMainboard", ["Card"]))``."""
    return Archetype(name, colour, conditions(*specs), tuple(variants), f"{name}.json")


def fallback(name: str, cards: list[str], colour: bool = False) -> Fallback:
    """Shorthand for a fallback definition."""
    return Fallback(name, colour, tuple(cards), f"{name}.json")
