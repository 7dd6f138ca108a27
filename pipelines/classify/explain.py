"""Why a deck got its label: a structured trace of the reference evaluation plus a renderer.

The trace re-runs the reference rules (:mod:`pipelines.classify.reference`) for every
archetype of the format, recording for each condition whether it held and which cards were
found, the fallback weights and similarity, and how a conflict was resolved. It is meant for
``manalytics classify explain`` and for definition curators, not for bulk classification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.classify import reference
from pipelines.classify.definitions import (
    Archetype,
    Condition,
    ConditionType,
    FormatDefinitions,
)
from pipelines.classify.display import display_name
from pipelines.classify.result import (
    DEFAULT_MODE,
    MIN_SIMILARITY,
    ConflictMode,
    Detection,
    Method,
)

Board = reference.Board
T = ConditionType

_MAIN_TYPES = {T.IN_MAINBOARD, T.ONE_OR_MORE_IN_MAINBOARD, T.TWO_OR_MORE_IN_MAINBOARD}
_SIDE_TYPES = {T.IN_SIDEBOARD, T.ONE_OR_MORE_IN_SIDEBOARD, T.TWO_OR_MORE_IN_SIDEBOARD}
_MINIMUM = {
    T.ONE_OR_MORE_IN_MAINBOARD: 1,
    T.ONE_OR_MORE_IN_SIDEBOARD: 1,
    T.ONE_OR_MORE_IN_MAIN_OR_SIDEBOARD: 1,
    T.TWO_OR_MORE_IN_MAINBOARD: 2,
    T.TWO_OR_MORE_IN_SIDEBOARD: 2,
    T.TWO_OR_MORE_IN_MAIN_OR_SIDEBOARD: 2,
}


@dataclass(frozen=True)
class ConditionTrace:
    """One condition: did it hold, and which of its cards were found where."""

    type: str
    cards: tuple[str, ...]
    held: bool
    found_main: tuple[str, ...]  # entries (duplicate lines repeated) of the checked cards
    found_side: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class DefinitionTrace:
    """An archetype or variant evaluation (variants only when their parent passed)."""

    archetype: str
    variant: str | None
    file: str
    passed: bool
    complexity: int
    display_name: str
    conditions: tuple[ConditionTrace, ...]

    @property
    def failed(self) -> int:
        """Number of conditions that did not hold."""
        return sum(not c.held for c in self.conditions)


@dataclass(frozen=True)
class FallbackTrace:
    """One fallback's weight: copies of its common cards found in the deck."""

    name: str
    file: str
    weight: int
    common_cards: int
    found: tuple[str, ...]


@dataclass(frozen=True)
class Explanation:
    """Everything that went into one detection."""

    format: str
    version: str
    mode: ConflictMode
    detection: Detection
    land_colours: dict[str, int]
    nonland_colours: dict[str, int]
    definitions: tuple[DefinitionTrace, ...]
    fallbacks: tuple[FallbackTrace, ...]
    deck_lines: int
    resolution: str


def _checked_cards(cond: Condition) -> tuple[str, ...]:
    return cond.cards[:1] if cond.type.single_card else cond.cards


def trace_condition(cond: Condition, main: Board, side: Board) -> ConditionTrace:
    """Evaluate one condition with the reference and say why it (did not) hold."""
    held = reference.condition_holds(cond, main, side)
    cards = _checked_cards(cond)
    found_main = tuple(name for name, _ in main if name in cards)
    found_side = tuple(name for name, _ in side if name in cards)
    reason = _reason(cond, held, cards, len(found_main), len(found_side))
    return ConditionTrace(cond.type.value, cond.cards, held, found_main, found_side, reason)


def _reason(cond: Condition, held: bool, cards: tuple[str, ...], n_main: int, n_side: int) -> str:
    if not cond.cards:
        return "no cards listed: skipped (always holds)"
    ignored = len(cond.cards) - len(cards)
    note = f" ({ignored} extra card(s) ignored: only the first is checked)" if ignored else ""
    if cond.type.negative:
        board = {
            T.DOES_NOT_CONTAIN: "either board",
            T.DOES_NOT_CONTAIN_MAINBOARD: "mainboard",
            T.DOES_NOT_CONTAIN_SIDEBOARD: "sideboard",
        }[cond.type]
        return f"{cards[0]!r} {'absent from' if held else 'found in'} {board}{note}"
    minimum = _MINIMUM.get(cond.type)
    if minimum is None:
        board = _board_of(cond.type) or "either board"
        return f"{cards[0]!r} {'found in' if held else 'not in'} {board}{note}"
    board = _board_of(cond.type)
    if board == "mainboard":
        found = n_main
    elif board == "sideboard":
        found = n_side
    else:
        board, found = "main + side", n_main + n_side
    return f"needs >= {minimum} listed line(s) in {board}, found {found}"


def _board_of(ctype: ConditionType) -> str:
    if ctype in _MAIN_TYPES:
        return "mainboard"
    return "sideboard" if ctype in _SIDE_TYPES else ""


def trace_definition(
    arch: Archetype,
    conditions: Sequence[Condition],
    variant: str | None,
    include_colour: bool,
    complexity: int,
    colour: str,
    main: Board,
    side: Board,
) -> DefinitionTrace:
    """Trace every condition of one archetype or variant."""
    traces = tuple(trace_condition(c, main, side) for c in conditions)
    label = display_name(variant if variant is not None else arch.name, include_colour, colour)
    return DefinitionTrace(
        archetype=arch.name,
        variant=variant,
        file=arch.file,
        passed=all(t.held for t in traces),
        complexity=complexity,
        display_name=label,
        conditions=traces,
    )


def _colour_hits(
    main: Board, side: Board, fmt: FormatDefinitions
) -> tuple[dict[str, int], dict[str, int]]:
    lands = dict.fromkeys("WUBRG", 0)
    nonlands = dict.fromkeys("WUBRG", 0)
    for name, count in [*main, *side]:
        for table, hits in ((fmt.lands, lands), (fmt.nonlands, nonlands)):
            for c in table.get(name, ""):
                if c in hits:
                    hits[c] += count
    return lands, nonlands


def explain(
    fmt: FormatDefinitions,
    main: Board,
    side: Board,
    mode: ConflictMode | str = DEFAULT_MODE,
    min_similarity: float = MIN_SIMILARITY,
) -> Explanation:
    """Trace the detection of one deck: every archetype, passing variants, fallbacks."""
    mode = ConflictMode.parse(mode)
    detection = reference.detect(main, side, fmt, mode, min_similarity)
    colour = detection.colour
    traces = []
    for arch in fmt.archetypes:
        complexity = len(arch.conditions)
        parent = trace_definition(
            arch, arch.conditions, None, arch.include_colour, complexity, colour, main, side
        )
        traces.append(parent)
        if not parent.passed:
            continue  # the reference never looks at variants of a failing parent
        for v in arch.variants:
            complexity = len(arch.conditions) + len(v.conditions)
            traces.append(
                trace_definition(
                    arch, v.conditions, v.name, v.include_colour, complexity, colour, main, side
                )
            )
    lands, nonlands = _colour_hits(main, side, fmt)
    return Explanation(
        format=fmt.name,
        version=fmt.version,
        mode=mode,
        detection=detection,
        land_colours=lands,
        nonland_colours=nonlands,
        definitions=tuple(traces),
        fallbacks=_fallback_traces(fmt, main, side),
        deck_lines=len(main) + len(side),
        resolution=_resolution(detection, mode, min_similarity),
    )


def _fallback_traces(fmt: FormatDefinitions, main: Board, side: Board) -> tuple[FallbackTrace, ...]:
    entries = [*main, *side]
    result = []
    for fb in fmt.fallbacks:
        found = tuple(name for name, _ in entries if name in fb.common_cards)
        weight = sum(count for name, count in entries if name in fb.common_cards)
        result.append(FallbackTrace(fb.name, fb.file, weight, len(fb.common_cards), found))
    return tuple(result)


def _resolution(detection: Detection, mode: ConflictMode, min_similarity: float) -> str:
    n = len(detection.candidates)
    if detection.method is Method.CONFLICT:
        return f"{n} specific matches and mode {mode.value}: reported as a conflict"
    if detection.method is Method.RULE and n > 1:
        return f"{n} specific matches; {mode.value} kept the first with the fewest conditions"
    if detection.method is Method.RULE:
        return "exactly one specific match"
    score = detection.fallback_score
    if detection.method is Method.FALLBACK:
        return f"no specific match; best fallback similarity {score:.3f} > {min_similarity}"
    if score is None:
        return "no specific match and no fallback card in the deck"
    return f"no specific match; best fallback similarity {score:.3f} <= {min_similarity}"


def render_text(explanation: Explanation, verbose: bool = False) -> str:
    """Human-readable explanation; without ``verbose`` only matches and near misses (one
    failed condition) are listed, since formats have a hundred archetypes."""
    d = explanation.detection
    e = explanation
    lines = [
        f"Format {e.format} (definitions {e.version}), mode {e.mode.value}",
        f"Label: {d.display_name}   method: {d.method.value}   colour: {d.colour}"
        + (f"   companion: {d.companion}" if d.companion else ""),
        f"Resolution: {explanation.resolution}",
        "Colour hits (lands / non-lands): "
        + " ".join(
            f"{c}={explanation.land_colours[c]}/{explanation.nonland_colours[c]}" for c in "WUBRG"
        ),
    ]
    if d.candidates:
        lines.append("Candidates: " + ", ".join(d.candidates))
    lines.append("")
    for trace in explanation.definitions:
        if not (verbose or trace.passed or trace.failed == 1):
            continue
        name = trace.archetype + (f" / {trace.variant}" if trace.variant else "")
        status = "PASS" if trace.passed else f"fail ({trace.failed} condition(s))"
        lines.append(f"{status:<24} {name} [{trace.file}] -> {trace.display_name!r}")
        for cond in trace.conditions:
            mark = "ok " if cond.held else "NO "
            found = _found_text(cond)
            lines.append(f"    {mark} {cond.type} {list(cond.cards)}: {cond.reason}{found}")
    if explanation.fallbacks:
        lines.append("")
        lines.append(f"Fallbacks (deck lines: {explanation.deck_lines}):")
        for fb in explanation.fallbacks:
            similarity = fb.weight / explanation.deck_lines if explanation.deck_lines else 0.0
            lines.append(
                f"    {fb.name} [{fb.file}] weight {fb.weight} "
                f"({fb.common_cards} common cards) similarity {similarity:.3f}"
            )
    return "\n".join(lines) + "\n"


def _found_text(cond: ConditionTrace) -> str:
    parts = []
    if cond.found_main:
        parts.append("main: " + ", ".join(cond.found_main))
    if cond.found_side:
        parts.append("side: " + ", ".join(cond.found_side))
    return f" [found {'; '.join(parts)}]" if parts else ""


__all__ = [
    "ConditionTrace",
    "DefinitionTrace",
    "Explanation",
    "FallbackTrace",
    "explain",
    "render_text",
    "trace_condition",
    "trace_definition",
]
