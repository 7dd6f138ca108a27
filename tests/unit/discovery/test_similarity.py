"""Deck vectors and exact neighbours on synthetic decks."""

from __future__ import annotations

import numpy as np

from pipelines.discovery.neighbours import beaten, nearest_archetypes, top_k
from pipelines.discovery.vectors import BASIC_WEIGHT, Deck, board_weights, build_vectors
from tests.unit.discovery.synthetic import window


def test_board_weights_main_over_side_and_copies() -> None:
    deck = Deck(1, (("A", 4), ("B", 1), ("A", 1)), (("C", 2), ("B", 3)))
    weights = board_weights(deck, str)
    assert weights == {"A": 1.0, "B": 0.625, "C": 0.3}  # duplicate lines add up, capped at 4


def test_canonical_names_merge_spellings() -> None:
    deck = Deck(1, (("Fire/Ice", 2), ("Fire // Ice", 2)), ())
    canonical = {"Fire/Ice": "Fire // Ice"}
    assert board_weights(deck, lambda n: canonical.get(n, n)) == {"Fire // Ice": 1.0}


def test_staples_and_basics_weigh_less_than_signature_cards() -> None:
    decks = [Deck(i, (("Staple", 4), ("Island", 10), (f"Sig {i % 3}", 4)), ()) for i in range(30)]
    vectors = build_vectors(decks)
    column = {card: j for j, card in enumerate(vectors.cards)}
    assert vectors.idf[column["Staple"]] < vectors.idf[column["Sig 0"]]
    # a basic in every deck: rarity weight of a staple times the basics' factor
    assert vectors.idf[column["Island"]] == vectors.idf[column["Staple"]] * BASIC_WEIGHT
    norms = np.sqrt(np.asarray(vectors.matrix.multiply(vectors.matrix).sum(axis=1)).ravel())
    assert np.allclose(norms, 1.0)


def test_top_k_equals_brute_force_cosine() -> None:
    decks, _ = window()
    vectors = build_vectors(decks)
    dense = vectors.matrix.toarray()
    sims = dense @ dense.T
    found = top_k(vectors, 5)
    assert len(found) == len(decks) * 5
    for n in found:
        i = int(np.flatnonzero(vectors.ids == n.deck_id)[0])
        j = int(np.flatnonzero(vectors.ids == n.neighbour_id)[0])
        assert i != j
        row = np.delete(sims[i], i)
        assert abs(n.similarity - sims[i, j]) < 1e-4
        assert sims[i, j] >= np.sort(row)[-5] - 1e-9  # among the 5 most similar
    ranks = [n.rank for n in found if n.deck_id == decks[0].id]
    assert ranks == [1, 2, 3, 4, 5]


def test_top_k_of_chosen_rows_and_tiny_formats() -> None:
    decks, _ = window()
    vectors = build_vectors(decks)
    assert {n.deck_id for n in top_k(vectors, 3, [0, 2])} == {decks[0].id, decks[2].id}
    assert top_k(build_vectors(decks[:1]), 10) == []
    assert len(top_k(build_vectors(decks[:3]), 10)) == 3 * 2  # k capped at decks - 1


def test_nearest_archetype_is_the_closest_family() -> None:
    decks, _gamma = window()
    labels = {d.id: "Alpha" if d.main[0][0].startswith("Alpha") else "Beta" for d in decks[:25]}
    probe = Deck(999, decks[0].main, ())  # an Alpha list nobody labelled
    vectors = build_vectors([*decks, probe])
    (found,) = nearest_archetypes(vectors, labels, [999])
    assert found.archetype == "Alpha" and 0.5 < found.similarity <= 1.0
    assert nearest_archetypes(vectors, {}, [999]) == []


def test_beaten_lists_only_rows_a_new_deck_enters() -> None:
    decks, _ = window()
    vectors = build_vectors(decks)
    new = [0]
    floor = np.full(len(decks), np.inf)  # nothing can beat an infinite k-th similarity
    assert beaten(vectors, new, floor) == []
    floor[:] = -1.0  # every row's list is beaten by anything
    assert beaten(vectors, new, floor) == list(range(1, len(decks)))
    sims = (vectors.matrix[0] @ vectors.matrix.T).toarray().ravel()
    floor = np.full(len(decks), 0.5)
    assert beaten(vectors, new, floor) == [r for r in range(1, len(decks)) if sims[r] > 0.5]
