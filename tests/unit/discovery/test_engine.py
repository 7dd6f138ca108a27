"""Discovery on small synthetic decks: clusters, minimal exclusive rules, stable ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.classify.definitions_loader import load_format
from pipelines.classify.matcher import compile_format
from pipelines.classify.result import Method
from pipelines.discovery.clusters import stable_ids
from pipelines.discovery.engine import discover, with_draft
from pipelines.discovery.rules import draft_rule
from tests.unit.discovery.synthetic import RULED, archetype, deck_of, definitions, window


def test_the_unnamed_archetype_is_found_as_one_cluster() -> None:
    decks, gamma = window()
    result = discover(RULED, decks)
    assert result.unknown == len(gamma) + 4
    assert len(result.suggestions) == 1
    found = result.suggestions[0]
    assert set(found.members) == gamma  # the brews stay noise: below the minimum size
    assert all(card.startswith("Gamma Core") for card in found.cards[:2])
    assert found.precision == 1.0 and found.recall == 1.0


def test_clusters_below_the_minimum_size_are_dropped() -> None:
    decks, _gamma = window(new_size=3)
    assert discover(RULED, decks).suggestions == ()


def test_draft_is_one_condition_when_one_card_separates_the_cluster() -> None:
    decks, gamma = window()
    draft = discover(RULED, decks).suggestions[0].draft
    assert len(draft.conditions) == 1
    assert draft.conditions[0].type == "InMainboard"
    assert draft.conditions[0].cards[0].startswith("Gamma Core")
    assert draft.exclusive and draft.covered == len(gamma)


def test_draft_excludes_decks_of_other_archetypes_with_a_negative_condition() -> None:
    # The cluster plays Alpha's cards minus Alpha's own signature: only what it lacks tells
    # it apart, so the draft needs a positive and a negative condition.
    decks, _gamma = window()
    alpha = [d for d in decks if any(n == "Alpha Core 0" for n, _ in d.main)]
    cluster = [type(d)(d.id + 1000, d.main[1:], d.side) for d in alpha]
    draft = draft_rule("Gamma", cluster, alpha, [])
    kinds = sorted(c.type for c in draft.conditions)
    assert draft.exclusive and draft.covered == len(cluster)
    assert kinds == ["DoesNotContain", "InMainboard"]
    assert draft.conditions[1].cards == ("Alpha Core 0",)


def test_draft_reports_when_no_rule_can_be_exclusive() -> None:
    decks, gamma = window()
    cluster = [d for d in decks if d.id in gamma]
    twins = [type(d)(d.id + 1000, d.main, d.side) for d in cluster]  # identical lists
    draft = draft_rule("Gamma", cluster, twins, [])
    assert not draft.exclusive
    assert "still match" in draft.notes[0]


def test_suggestion_loads_with_the_loader_and_classifies_through_the_matcher(
    tmp_path: Path,
) -> None:
    decks, gamma = window()
    suggestion = discover(RULED, decks).suggestions[0]
    folder = tmp_path / "Synthetic"
    (folder / "Archetypes").mkdir(parents=True)
    (folder / "metas.json").write_text('{"Metas": []}')
    (tmp_path / "card_colors.json").write_text('{"Lands": [], "NonLands": []}')
    for arch in ("Alpha", "Beta"):
        rule = {"Name": arch, "Conditions": [{"Type": "InMainboard", "Cards": [f"{arch} Core 0"]}]}
        (folder / "Archetypes" / f"{arch}.json").write_text(json.dumps(rule))
    (folder / "Archetypes" / "Gamma.json").write_text(json.dumps(suggestion.definition))
    matcher = compile_format(load_format(folder))
    labels = {d.id: matcher.detect(d.main, d.side) for d in decks}
    named = {i for i, det in labels.items() if det.archetype == suggestion.name}
    assert named == gamma
    assert all(det.method is Method.RULE for i, det in labels.items() if i in gamma)
    # nothing else moved: Alpha and Beta keep their decks
    assert sum(det.archetype == "Alpha" for det in labels.values()) == 15


def test_relabel_diff_lists_the_moves() -> None:
    decks, gamma = window()
    suggestion = discover(RULED, decks).suggestions[0]
    assert suggestion.relabel == (("Unknown", suggestion.name, len(gamma)),)


def test_with_draft_uses_the_loader_and_rejects_bad_documents() -> None:
    fmt = with_draft(RULED, {"Name": "X", "Conditions": [{"Type": "InMainboard", "Cards": ["a"]}]})
    assert [a.file for a in fmt.archetypes] == ["Alpha.json", "Beta.json", "Discovered.json"]
    with pytest.raises(ValueError, match="no Conditions"):
        with_draft(RULED, {"Name": "X", "Conditions": []})


def test_cluster_ids_are_stable_across_runs() -> None:
    decks, gamma = window(seed=1)
    first = discover(RULED, decks, new_id=iter([41, 42, 43]).__next__)
    assert first.suggestions[0].cluster_id == 41
    previous = {41: frozenset(first.suggestions[0].members)}
    # next run: two Gamma decks gone, three new ones arrived: most of the cluster persists
    rng_decks, _ = window(seed=1, new_size=13)
    kept = [d for d in rng_decks if d.id not in sorted(gamma)[:2]]
    second = discover(RULED, kept, previous=previous, new_id=iter([99]).__next__)
    assert second.suggestions[0].cluster_id == 41


def test_stable_ids_new_id_when_most_decks_changed() -> None:
    counter = iter([7, 8]).__next__
    old = {3: frozenset(range(10))}
    ids = stable_ids([frozenset(range(4)), frozenset(range(100, 110))], old, counter)
    assert ids == [7, 8]  # 4 of 10 persisted: not "most"
    ids = stable_ids([frozenset(range(8)), frozenset(range(2, 10))], old, iter([9]).__next__)
    assert sorted(ids) == [3, 9]  # one cluster inherits, never both


def test_rule_usage_counts_decks_per_definition_file_including_unused() -> None:
    decks, _gamma = window()
    unused = archetype("Delta", "No Such Card")
    result = discover(definitions(*RULED.archetypes, unused), decks)
    assert result.usage == {"Alpha.json": 15, "Beta.json": 10, "Delta.json": 0}


def test_same_name_in_two_files_counts_per_file() -> None:
    decks, _ = window()
    twin = archetype("Alpha", "Beta Core 0")
    twin = type(twin)(twin.name, twin.include_colour, twin.conditions, (), "Alpha2.json")
    result = discover(definitions(RULED.archetypes[0], twin), decks)
    assert result.usage == {"Alpha.json": 15, "Alpha2.json": 10}
    assert {label.display for label in result.labels.values()} >= {"Alpha"}


def test_a_window_without_unknown_decks_has_no_suggestion() -> None:
    decks, gamma = window()
    ruled = [d for d in decks if d.id not in gamma and not d.main[0][0].startswith("Brew")]
    result = discover(RULED, ruled)
    assert result.unknown == 0 and result.suggestions == ()


def test_deck_of_keeps_lines() -> None:
    import random

    deck = deck_of(1, ["A"], random.Random(0))
    assert deck.main[0] == ("A", 4)
