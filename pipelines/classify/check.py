"""``manalytics formats check DIR``: report every problem of a definitions folder.

Unlike the loader (which fails fast like the reference), the checker reads every file and
keeps going, so a curator sees all problems at once. Severities:

* ``error``: the reference (and our loader) would refuse to load the format;
* ``warning``: loads, but probably not what the author meant (entries that can never match,
  duplicate names, skipped conditions, extra cards ignored by single-card types ...).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.classify.definitions import (
    CANONICAL_COLOURS,
    ConditionType,
    DefinitionError,
    parse_lenient_json,
)
from pipelines.classify.definitions_loader import default_card_colors, is_format_dir, json_files

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding; ``file`` is the path of the offending file."""

    file: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        return f"{self.severity}: {self.file}: {self.message}"


class _Checker:
    """Collects problems of one format folder (see :func:`check_format_dir`)."""

    def __init__(self, folder: Path, card_colors: Path) -> None:
        self.folder = folder
        self.card_colors = card_colors
        self.problems: list[Problem] = []
        self.known: set[str] = set()  # names of both colour tables
        # (file, card name) of every card a definition mentions, checked at the end.
        self.mentions: list[tuple[Path, str]] = []

    def add(self, file: Path, message: str, severity: str = ERROR) -> None:
        self.problems.append(Problem(str(file), message, severity))

    def load(self, file: Path, what: str) -> dict[str, Any] | None:
        """The decoded JSON object (lower-cased keys), or None after recording the problem."""
        try:
            raw = parse_lenient_json(file.read_bytes(), file)
        except OSError as exc:
            self.add(file, f"cannot read: {exc.strerror or exc}")
            return None
        except DefinitionError as exc:
            self.add(file, exc.reason)
            return None
        data = _object(raw)
        if data is None:
            self.add(file, f"{what} must be a JSON object")
        return data

    def run(self) -> list[Problem]:
        self.colour_file(self.card_colors, required=True)
        self.colour_file(self.folder / "color_overrides.json", required=False)
        self.metas(self.folder / "metas.json")
        names: list[tuple[str, Path]] = []
        for file in json_files(self.folder / "Archetypes"):
            name = self.archetype(file)
            if name is not None:
                names.append((name, file))
        self.duplicates(names)
        for file in json_files(self.folder / "Fallbacks"):
            self.fallback(file)
        self.suspicious_cards()
        return self.problems

    # -- colour tables and metas ---------------------------------------------------------------

    def colour_file(self, file: Path, required: bool) -> None:
        if not file.is_file():
            if required:
                self.add(file, "missing colour table")
            return
        data = self.load(file, "colour table")
        if data is None:
            return
        for key in ("lands", "nonlands"):
            entries = data.get(key)
            if entries is None:
                continue
            if not isinstance(entries, list):
                self.add(file, f"{key} must be a list or null")
                continue
            seen: Counter[str] = Counter()
            for index, raw in enumerate(entries):
                entry = _object(raw) or {}
                name, colour = entry.get("name"), entry.get("color")
                if not isinstance(name, str):
                    self.add(file, f"{key} entry {index + 1}: Name must be a string")
                    continue
                seen[name] += 1
                self.known.add(name)
                if colour not in CANONICAL_COLOURS:
                    self.add(file, f"{key} {name!r}: invalid colour code {colour!r} (WUBRG order)")
            for name, n in seen.items():
                if n > 1:
                    self.add(file, f"{key} lists {name!r} {n} times (last wins)", WARNING)

    def metas(self, file: Path) -> None:
        if not file.is_file():
            self.add(file, "missing metas.json")
            return
        data = self.load(file, "metas.json")
        if data is None:
            return
        metas = data.get("metas")
        if not isinstance(metas, list):
            self.add(file, "Metas must be a list")
            return
        dates = []
        for index, raw in enumerate(metas):
            entry = _object(raw) or {}
            start, name = entry.get("startdate"), entry.get("name")
            if not isinstance(start, str) or not isinstance(name, str):
                self.add(file, f"meta {index + 1}: StartDate and Name must be strings")
                continue
            dates.append(start.strip()[:10])
        if dates != sorted(dates):
            self.add(file, "StartDate values are not in ascending order", WARNING)

    # -- archetypes and fallbacks --------------------------------------------------------------

    def archetype(self, file: Path) -> str | None:
        data = self._definition(file, "archetype")
        if data is None:
            return None
        name = data.get("name")
        conditions = data.get("conditions")
        if not conditions:
            self.add(file, "archetype has no Conditions")
        else:
            self.conditions(file, conditions, "")
        variants = data.get("variants")
        if variants is not None and not isinstance(variants, list):
            self.add(file, "Variants must be a list")
        for index, raw in enumerate(variants or () if isinstance(variants, list) else ()):
            variant = _object(raw)
            if variant is None:
                self.add(file, f"variant {index + 1} must be a JSON object")
                continue
            label = f"variant {variant.get('name')!r}: "
            if not isinstance(variant.get("name"), str):
                self.add(file, f"variant {index + 1}: Name must be a string")
            if not variant.get("conditions"):
                self.add(file, label + "no Conditions: matches whenever the parent does", WARNING)
            else:
                self.conditions(file, variant["conditions"], label)
        return name if isinstance(name, str) else None

    def fallback(self, file: Path) -> None:
        data = self._definition(file, "fallback")
        if data is None:
            return
        cards = data.get("commoncards")
        if not cards:
            self.add(file, "fallback has no CommonCards")
        elif not isinstance(cards, list) or not all(isinstance(c, str) for c in cards):
            self.add(file, "CommonCards must be a list of card names")
        else:
            self.mentions.extend((file, c) for c in cards)
            for card, n in Counter(cards).items():
                if n > 1:
                    self.add(file, f"CommonCards lists {card!r} {n} times", WARNING)

    def _definition(self, file: Path, what: str) -> dict[str, Any] | None:
        data = self.load(file, what)
        if data is None:
            return None
        if not isinstance(data.get("name"), str):
            self.add(file, f"{what}: Name must be a string")
        flag = data.get("includecolorinname")
        if flag is not None and not isinstance(flag, bool):
            self.add(file, "IncludeColorInName must be true or false")
        return data

    def conditions(self, file: Path, conditions: Any, label: str) -> None:
        if not isinstance(conditions, list):
            self.add(file, label + "Conditions must be a list")
            return
        for index, raw in enumerate(conditions, start=1):
            cond = _object(raw)
            if cond is None:
                self.add(file, f"{label}condition {index} must be a JSON object")
                continue
            ctype = ConditionType.parse(cond.get("type"))
            if ctype is None:
                self.add(file, f"{label}condition {index}: unknown Type {cond.get('type')!r}")
            cards = cond.get("cards")
            if not cards:
                self.add(file, f"{label}condition {index}: empty Cards (skipped: holds)", WARNING)
                continue
            if not isinstance(cards, list) or not all(isinstance(c, str) for c in cards):
                self.add(file, f"{label}condition {index}: Cards must be a list of card names")
                continue
            self.mentions.extend((file, c) for c in cards)
            if ctype is not None and ctype.single_card and len(cards) > 1:
                self.add(
                    file,
                    f"{label}condition {index}: {ctype.value} only checks {cards[0]!r}; "
                    f"{len(cards) - 1} more card(s) ignored",
                    WARNING,
                )

    def duplicates(self, names: list[tuple[str, Path]]) -> None:
        counts = Counter(name for name, _ in names)
        for name, file in names:
            if counts[name] > 1:
                others = sorted(f.name for n, f in names if n == name and f != file)
                self.add(file, f"archetype name {name!r} also used by {', '.join(others)}", WARNING)

    # -- card names ----------------------------------------------------------------------------

    def suspicious_cards(self) -> None:
        """Unknown names that look like typos of the data's conventions (§2.9)."""
        if not self.known:
            return  # no colour table: nothing to compare with
        reported: set[tuple[Path, str]] = set()
        for file, card in self.mentions:
            if card in self.known or (file, card) in reported:
                continue
            reason = suspicious_reason(card, self.known)
            if reason:
                reported.add((file, card))
                self.add(file, f"card {card!r} {reason}: it can never match", WARNING)


def suspicious_reason(card: str, known: set[str] | frozenset[str]) -> str | None:
    """Why an unknown card name looks wrong, or None when it is merely unknown (colourless)."""
    if card != card.strip():
        return "has leading/trailing whitespace"
    if "  " in card:
        return "contains repeated spaces"
    if " // " in card and card.split(" // ", 1)[0] in known:
        return "is a full double-faced/adventure name (decks list the front face only)"
    if "\u2019" in card:
        return "contains a curly apostrophe"
    return None


def _object(raw: Any) -> dict[str, Any] | None:
    """A JSON object with lower-cased keys (names are case-insensitive), else None."""
    if not isinstance(raw, dict):
        return None
    return {str(k).lower(): v for k, v in raw.items()}


def check_format_dir(path: Path | str, card_colors: Path | str | None = None) -> list[Problem]:
    """All problems of one format folder, or of every format of a ``Formats`` root folder.

    ``card_colors`` defaults to ``card_colors.json`` of the format folder's parent.
    """
    root = Path(path)
    if not root.is_dir():
        return [Problem(str(root), "not a folder")]
    if is_format_dir(root):
        colours = Path(card_colors) if card_colors else default_card_colors(root)
        return _Checker(root, colours).run()
    formats = sorted((p for p in root.iterdir() if is_format_dir(p)), key=lambda p: p.name)
    if not formats:
        return [Problem(str(root), "no format folder (a folder with Archetypes/) found")]
    colours = Path(card_colors) if card_colors else root / "card_colors.json"
    problems: list[Problem] = []
    for folder in formats:
        problems.extend(_Checker(folder, colours).run())
    # The shared card_colors.json is checked once per format: report its problems once.
    return list(dict.fromkeys(problems))


def has_errors(problems: list[Problem]) -> bool:
    """True when at least one problem has severity ``error``."""
    return any(p.severity == ERROR for p in problems)


__all__ = ["ERROR", "WARNING", "Problem", "check_format_dir", "has_errors", "suspicious_reason"]
