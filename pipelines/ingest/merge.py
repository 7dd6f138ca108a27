"""Merging several documents of one event into the rows we store.

The rules (documented in the README, "De-duplication"):

* The **authoritative** document of an event is the one with the greatest
  :attr:`~pipelines.ingest.parse.ParsedDocument.document_key` (latest folder date, then most
  decks, then path). It supplies the event's name, date, format, standings and rounds.
* **MTGO leagues** are published as daily snapshots of 5-0 decks: their decks are the union of
  all snapshots, an identical deck of the same player counted once (player, decklist hash).
* Every other event keeps the authoritative document's decks only; the other copies
  (byte-identical Melee seat files, an event republished under another date) are
  recorded as duplicates.

The result depends only on the set of documents, never on the order they were read in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar


class _Deck(Protocol):
    player_key: str
    decklist_hash: bytes


class _Document(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def event_kind(self) -> str: ...
    @property
    def document_key(self) -> str: ...
    @property
    def decks(self) -> Sequence[_Deck]: ...


D = TypeVar("D", bound=_Document)


@dataclass
class MergedEvent(Generic[D]):
    """The rows of one event and which documents contributed to them."""

    document: D
    decks: list[Any]  # the decks of D (parsed or prepared)
    contributing: set[str]


def merge_documents(documents: list[D]) -> MergedEvent[D]:
    """Merge the current documents of one event (at least one)."""
    if not documents:
        raise ValueError("an event needs at least one document")
    ordered = sorted(documents, key=lambda d: d.document_key)
    authoritative = ordered[-1]
    if authoritative.event_kind != "league":
        return MergedEvent(authoritative, list(authoritative.decks), {authoritative.path})
    seen: set[tuple[str, bytes]] = set()
    decks: list[_Deck] = []
    contributing: set[str] = set()
    for document in ordered:
        for deck in document.decks:
            key = (deck.player_key, deck.decklist_hash)
            if key not in seen:
                seen.add(key)
                decks.append(deck)
                contributing.add(document.path)
    return MergedEvent(authoritative, decks, contributing)
