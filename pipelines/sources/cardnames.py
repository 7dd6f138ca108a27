"""The scrapers' card-name normaliser (DOMAIN.md §5.7), from a frozen table shipped with the code.

The reference builds its table from Scryfall searches at start-up; we must not call Scryfall
(no network in tests, one less moving part at night), so the table is generated offline and
shipped as ``card_names.json`` beside this module. Lookup: strip whitespace, drop the Alchemy
``A-`` prefix, then map through the table (identity for names it does not know).

What the frozen table covers: every spelling of the split / room / aftermath cards (``A/B``,
``A / B``, ``A//B``, ``A///B``, ``A /// B`` and the bare front name) mapped to ``A // B``, and
the reference's fixed corrections (capitalisation, ``Jotun Grunt``, ``Full Art`` basics,
``_____ Goblin``). The split names come from the community ``card_colors.json`` (regenerate with
``python -m pipelines.sources.cardnames path/to/card_colors.json``). What it does not cover: the
Scryfall-only parts (double-faced / adventure / flip full names to the front face, flavour
names); such names pass through unchanged, and the ingestion's canonical layer
(:func:`pipelines.ingest.normalize.normalize_card_name`) still reduces them for statistics.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

TABLE_PATH = Path(__file__).with_name("card_names.json")

# The reference's hand-written corrections (DOMAIN.md §5.7).
FIXED = {
    "Altar Of Dementia": "Altar of Dementia",
    "Rain Of Tears": "Rain of Tears",
    "Furnace Of Rath": "Furnace of Rath",
    "Jotun Grunt": "Jötun Grunt",
    "Sol'kanar the Tainted": "Sol'Kanar the Tainted",
    '"Name Sticker" Goblin': "_____ Goblin",
    "Goblin": "_____ Goblin",
    **{f"Full Art {basic}": basic for basic in ("Plains", "Island", "Swamp", "Mountain", "Forest")},
}
_SPELLINGS = ("{a}/{b}", "{a} / {b}", "{a}//{b}", "{a} // {b}", "{a}///{b}", "{a} /// {b}")


def build_table(card_names: Iterable[str]) -> dict[str, str]:
    """Spelling -> canonical name, from every card name of a list (split names ``A // B``)."""
    names = set(card_names)
    table: dict[str, str] = {}
    for name in sorted(names):
        front, sep, back = name.partition(" // ")
        if not sep or front == back or " // " in back:
            continue  # not a two-part split card ("Plains // Plains" is a basic's art card)
        for spelling in _SPELLINGS:
            table[spelling.format(a=front, b=back)] = name
        if front not in names:  # a front name that is a card of its own stays itself
            table[front] = name
    table.update(FIXED)
    return table


class CardNameNormalizer:
    """Maps the names a site writes to the names the cache uses (see the module docstring)."""

    def __init__(self, table: Mapping[str, str] | None = None) -> None:
        self._table = dict(table) if table is not None else dict(_frozen_table())
        self._seen: dict[str, str] = {}  # answers so far: a few thousand distinct names a run

    def __call__(self, name: str) -> str:
        try:
            return self._seen[name]
        except KeyError:
            pass
        text = name.strip()
        if text.startswith("A-") and len(text) > 2 and text[2].isupper():
            text = text[2:]
        self._seen[name] = result = self._table.get(text, text)
        return result


@functools.cache
def _frozen_table() -> dict[str, str]:
    table: dict[str, str] = json.loads(TABLE_PATH.read_text(encoding="utf-8"))
    return table


@functools.cache
def default_normalizer() -> CardNameNormalizer:
    """One normaliser per process, built once (the reference rebuilt it for every deck)."""
    return CardNameNormalizer()


def main(argv: list[str]) -> int:
    """Regenerate ``card_names.json`` from a ``card_colors.json`` (community format data)."""
    if len(argv) != 1:
        print("usage: python -m pipelines.sources.cardnames path/to/card_colors.json")
        return 2
    colors = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    names = (card["Name"] for group in colors.values() for card in group)
    table = build_table(names)
    TABLE_PATH.write_text(
        json.dumps(table, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"{len(table)} spellings written to {TABLE_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
