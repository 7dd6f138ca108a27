"""The frozen card-name table of DOMAIN.md §5.7."""

from __future__ import annotations

from pipelines.sources.cardnames import CardNameNormalizer, build_table, default_normalizer


def test_split_spellings_map_to_the_canonical_name() -> None:
    table = build_table(["Fire // Ice", "Plains // Plains", "Wear // Tear", "Wear", "Island"])
    normalize = CardNameNormalizer(table)
    for spelling in ("Fire/Ice", "Fire / Ice", "Fire//Ice", "Fire///Ice", "Fire /// Ice", "Fire"):
        assert normalize(spelling) == "Fire // Ice"
    assert normalize("Wear/Tear") == "Wear // Tear"
    assert normalize("Wear") == "Wear"  # a front name that is a card of its own stays
    assert normalize("Plains") == "Plains"  # "Plains // Plains" is not a split card
    assert normalize("  A-Lightning Bolt ") == "Lightning Bolt"
    assert normalize("A-") == "A-"
    assert normalize("Jotun Grunt") == "Jötun Grunt"


def test_shipped_table_knows_real_split_cards_and_leaves_real_names_alone() -> None:
    normalize = default_normalizer()
    assert normalize("Dead/Gone") == "Dead // Gone"
    assert normalize("Summon: Choco/Mog") == "Summon: Choco/Mog"
    assert normalize("Lórien Revealed") == "Lórien Revealed"
    assert normalize("Bonecrusher Giant") == "Bonecrusher Giant"
