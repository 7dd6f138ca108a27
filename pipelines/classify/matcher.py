"""Compiled archetype matcher: same results as :mod:`pipelines.classify.reference`, faster.

How a format is compiled
------------------------
* Every card named by a condition gets an integer id ``k`` (the vocabulary). A deck becomes
  one Python int, the *board word* ``W``, with three regions of ``K`` bits each:
  bit ``k`` = card k is in the mainboard, bit ``K+k`` = in the sideboard, bit ``2K+k`` = in
  either. Every condition of a definition then folds into two masks (``need``: all these bits
  must be set; ``forbid``: none may be set) plus, for One/TwoOrMore conditions, a mask whose
  population count is compared with 1 or 2.
* Duplicate lines only matter for ``TwoOrMore*`` when exactly one listed card is present: the
  duplicate word ``D`` (same layout, main and side regions) is computed lazily in that case.
* Candidate index: for each archetype we pick one "key group" of cards of which at least one
  must be present for it to pass (from an ``In*``/``OneOrMore*``/``TwoOrMore*`` condition).
  Each key card carries the archetype's bit, so ORing the deck's cards yields the candidate
  set. Archetypes whose conditions are all negative or empty have no key and are always
  candidates.
* Each card name maps to one precomputed int per board packing its land/non-land colour
  bits, its board-word bits and its candidate bits, so a whole board is reduced with a single
  C-level ``reduce(or_, map(...))``.
* Colour by OR-ing bitmasks equals the reference's per-colour sums only when every count is
  positive; decks with a count <= 0 take the exact summing path. Fallback weights are summed
  as packed fixed-width integer fields; decks with negative counts or huge totals (which
  could overflow a field) take the exact path.
* ``Detection`` objects are immutable and cached per outcome, which saves building a frozen
  dataclass for every deck.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import reduce
from itertools import chain, repeat
from operator import mul, or_
from typing import Any, cast

from pipelines.classify.colour_bits import COLOUR_CODES, card_colour_bits
from pipelines.classify.definitions import FormatDefinitions
from pipelines.classify.display import UNKNOWN, conflict_label
from pipelines.classify.result import (
    COMPANIONS,
    DEFAULT_MODE,
    MIN_SIMILARITY,
    ConflictMode,
    Detection,
    Method,
)
from pipelines.classify.rule_masks import Labels, Outcome, Rule, RuleCompiler

Entry = tuple[str, int]
Board = Sequence[Entry]

_COLOUR_BITS = 10  # bits 0-4: land colours W..G, bits 5-9: non-land colours
_FIELD = 24  # bits per fallback weight field
_FIELD_LIMIT = 1 << (_FIELD - 1)  # total copies below this cannot overflow a field
_ZEROS = repeat(0)  # map(dict.get, names, _ZEROS) == [d.get(n, 0) for n in names], in C
_EMPTY: tuple[tuple[str, ...], tuple[int, ...]] = ((), ())
_CACHE_LIMIT = 200_000
CardKey = str | int  # a card name, or a card id for an id-keyed matcher
# The tables looked up by card at detection time, re-keyed by CompiledFormat.for_card_ids:
# per-card bit words (every card), then the tables listing only some cards.
_BITS_BY_CARD = ("_main_bits", "_side_bits")
_SMALL_BY_CARD = ("vocabulary", "_companions", "_fallback_packed")


class CompiledFormat:
    """A format compiled for fast detection; build with :func:`compile_format`."""

    # Set only on id-keyed clones (:meth:`for_card_ids`): the name-keyed original and the
    # ids taught so far.
    _by_name: CompiledFormat
    card_ids: set[int]

    def __init__(
        self,
        fmt: FormatDefinitions,
        mode: ConflictMode = DEFAULT_MODE,
        min_similarity: float = MIN_SIMILARITY,
    ) -> None:
        self.definitions = fmt
        self.mode = ConflictMode.parse(mode)
        self.min_similarity = min_similarity
        comp = RuleCompiler(fmt)
        # Name-keyed here; id-keyed clones (for_card_ids) get dicts of their own.
        self.vocabulary = cast("dict[CardKey, int]", comp.vocabulary)
        k = comp.k
        self._k = k
        self._word_mask = (1 << (3 * k)) - 1
        self._cand_shift = _COLOUR_BITS + 3 * k
        self._build_rules(comp)
        self._build_cards(comp, fmt)
        self._build_fallbacks(fmt)
        self._companions: dict[CardKey, int] = {
            card: i for i, (card, _label) in enumerate(COMPANIONS)
        }
        self._cache: dict[tuple[Any, ...], Detection] = {}

    # -- compilation -------------------------------------------------------------------------

    def _build_rules(self, comp: RuleCompiler) -> None:
        # Per archetype: (rule, outcome when no variant passes, ((variant rule, outcome), ...)).
        self._archetypes: list[tuple[Rule, Outcome, tuple[tuple[Rule, Outcome], ...]]] = []
        for arch in self.definitions.archetypes:
            parent = self._outcome(arch.name, None, arch.include_colour, len(arch.conditions))
            own = len(arch.conditions)
            variants = tuple(
                (
                    comp.rule(v.conditions),
                    self._outcome(arch.name, v.name, v.include_colour, own + len(v.conditions)),
                )
                for v in arch.variants
            )
            self._archetypes.append((comp.rule(arch.conditions), parent, variants))
        self._always = 0
        self._key_cards: dict[str, int] = {}
        for index, group in enumerate(comp.key_groups()):
            if group is None:
                self._always |= 1 << index
            else:
                for card in group:
                    self._key_cards[card] = self._key_cards.get(card, 0) | (1 << index)

    @staticmethod
    def _outcome(arch: str, variant: str | None, include_colour: bool, complexity: int) -> Outcome:
        # A variant renders with its own name and flag (the parent's flag is ignored).
        name = variant if variant is not None else arch
        return Outcome(arch, variant, complexity, Labels(name, include_colour))

    def _build_cards(self, comp: RuleCompiler, fmt: FormatDefinitions) -> None:
        k = self._k
        colour_bits = card_colour_bits(fmt)
        self._main_bits = cast("dict[CardKey, int]", dict(colour_bits))
        self._side_bits = cast("dict[CardKey, int]", dict(colour_bits))
        # Cards the rules look at also carry their condition and candidate bits.
        for name in set(comp.vocabulary) | set(self._key_cards):
            common = colour_bits.get(name, 0) | self._key_cards.get(name, 0) << self._cand_shift
            card_id = comp.vocabulary.get(name)
            main = side = common
            if card_id is not None:
                either = 1 << (_COLOUR_BITS + 2 * k + card_id)
                main |= either | 1 << (_COLOUR_BITS + card_id)
                side |= either | 1 << (_COLOUR_BITS + k + card_id)
            if main:
                self._main_bits[name] = main
                self._side_bits[name] = side

    def _build_fallbacks(self, fmt: FormatDefinitions) -> None:
        # Per card, the fallbacks listing it as one packed int: field j = fallback j.
        self._fallback_packed: dict[CardKey, int] = {}
        for j, fallback in enumerate(fmt.fallbacks):
            for card in set(fallback.common_cards):
                self._fallback_packed[card] = self._fallback_packed.get(card, 0) | (
                    1 << (_FIELD * j)
                )
        self._fallback_outcomes = [
            self._outcome(f.name, None, f.include_colour, 0) for f in fmt.fallbacks
        ]
        # Tie-break: fewest CommonCards, then load order.
        self._fallback_rank = [(len(f.common_cards), j) for j, f in enumerate(fmt.fallbacks)]

    def with_mode(self, mode: ConflictMode | str) -> CompiledFormat:
        """A matcher sharing this one's tables but resolving conflicts with ``mode``."""
        clone = object.__new__(CompiledFormat)
        clone.__dict__.update(self.__dict__)
        clone.mode = ConflictMode.parse(mode)
        clone._cache = {}
        return clone

    # -- detection ---------------------------------------------------------------------------

    def detect(self, main: Board, side: Board) -> Detection:
        """Classify one deck; identical to :func:`pipelines.classify.reference.detect`."""
        mnames, mcounts = zip(*main, strict=True) if main else _EMPTY
        snames, scounts = zip(*side, strict=True) if side else _EMPTY
        return self.detect_lines(mnames, mcounts, snames, scounts)

    def detect_lines(
        self,
        mnames: Sequence[CardKey],
        mcounts: Sequence[int],
        snames: Sequence[CardKey],
        scounts: Sequence[int],
    ) -> Detection:
        """:meth:`detect` for boards given as parallel lists of card keys and counts: names,
        or card ids for a matcher made by :meth:`for_card_ids`."""
        bits = reduce(or_, map(self._main_bits.get, mnames, _ZEROS), 0)
        bits = reduce(or_, map(self._side_bits.get, snames, _ZEROS), bits)
        positive = (not mcounts or min(mcounts) > 0) and (not scounts or min(scounts) > 0)
        # OR-ing colour masks equals the reference's sums only when every count is > 0.
        if positive:
            colour = bits & 31 & (bits >> 5)
        else:
            lines = chain(zip(mnames, mcounts, strict=True), zip(snames, scounts, strict=True))
            colour = self._exact_colour(lines)
        word = (bits >> _COLOUR_BITS) & self._word_mask
        candidates = (bits >> self._cand_shift) | self._always
        matches = self._matches(word, candidates, mnames, snames) if candidates else []
        companion = ""
        if not self._companions.keys().isdisjoint(snames):
            companion = self._companion(snames)
        if matches:
            return self._specific(matches, colour, companion)
        return self._fallback((*mnames, *snames), (*mcounts, *scounts), colour, companion)

    def for_card_ids(self, names: Mapping[int, str]) -> CompiledFormat:
        """A matcher sharing this one's rules whose card keys are ids (``names``: id -> name).

        Decks stored as card-id arrays are then classified without turning ids into names.
        Ids it was not told about count as cards nobody knows: :meth:`add_card_ids` first.
        """
        clone = object.__new__(CompiledFormat)
        clone.__dict__.update(self.__dict__)
        clone._by_name = self
        for attr in (*_BITS_BY_CARD, *_SMALL_BY_CARD):
            setattr(clone, attr, {})
        clone.card_ids = set()
        clone.add_card_ids(names)
        return clone

    def add_card_ids(self, names: Mapping[int, str]) -> None:
        """Teach an id-keyed matcher (see :meth:`for_card_ids`) more card ids."""
        source = self.__dict__.get("_by_name")
        if source is None:
            raise TypeError("add_card_ids needs a matcher made by for_card_ids")
        ids, cards = list(names), list(names.values())
        for attr in _BITS_BY_CARD:  # every id, in C; 0 (no bits) is what .get defaults to
            bits = map(getattr(source, attr).get, cards, _ZEROS)
            getattr(self, attr).update(zip(ids, bits, strict=False))  # bits is as long as ids
        id_of = dict(zip(cards, ids, strict=True))
        for attr in _SMALL_BY_CARD:  # only the cards they list
            by_id = getattr(self, attr)
            by_id.update((id_of[n], v) for n, v in getattr(source, attr).items() if n in id_of)
        self.card_ids.update(ids)

    def detect_many(self, decks: Iterable[tuple[Board, Board]]) -> list[Detection]:
        """Classify ``(main, side)`` pairs in order."""
        detect = self.detect
        return [detect(main, side) for main, side in decks]

    def _matches(
        self, word: int, candidates: int, mnames: Sequence[CardKey], snames: Sequence[CardKey]
    ) -> list[Outcome]:
        """Passing archetypes/variants among the candidates, in load order."""
        archetypes = self._archetypes
        dup: list[int] = []  # the lazily computed duplicate word, memoised in a list
        matches: list[Outcome] = []
        while candidates:
            low = candidates & -candidates
            candidates ^= low
            rule, parent, variants = archetypes[low.bit_length() - 1]
            if not self._passes(rule, word, dup, mnames, snames):
                continue
            before = len(matches)
            for vrule, outcome in variants:
                if self._passes(vrule, word, dup, mnames, snames):
                    matches.append(outcome)
            if len(matches) == before:
                matches.append(parent)
        return matches

    def _passes(
        self,
        rule: Rule,
        word: int,
        dup: list[int],
        mnames: Sequence[CardKey],
        snames: Sequence[CardKey],
    ) -> bool:
        need = rule.need
        if word & need != need or word & rule.forbid:
            return False
        for mask, minimum in rule.counts:
            found = (word & mask).bit_count()
            if found >= minimum:
                continue
            if minimum == 1 or found == 0:
                return False
            # Exactly one listed card present: enough only if it sits on two lines.
            if not dup:
                dup.append(self._duplicate_word(mnames, snames))
            if not dup[0] & mask:
                return False
        return True

    def _duplicate_word(self, mnames: Sequence[CardKey], snames: Sequence[CardKey]) -> int:
        """Board word bits of condition cards listed on two or more lines of one board."""
        vocab, k = self.vocabulary, self._k
        word = 0
        for names, region in ((mnames, 0), (snames, 1)):
            seen: set[CardKey] = set()
            for name in names:
                if name in seen and name in vocab:
                    word |= 1 << (region * k + vocab[name])
                seen.add(name)
        return word

    def _companion(self, snames: Sequence[CardKey]) -> str:
        # The reference scans its table in order and keeps the last hit: the highest index.
        index = max(self._companions[n] for n in snames if n in self._companions)
        return COMPANIONS[index][1]

    def _exact_colour(self, entries: Iterable[tuple[CardKey, int]]) -> int:
        """Per-colour sums of counts, exactly as the reference (needed for counts <= 0)."""
        land = [0] * 5
        nonland = [0] * 5
        bits_of = self._main_bits  # the low 10 bits of a card: land and non-land colours
        for name, count in entries:
            bits = bits_of.get(name, 0)
            for i in range(5):
                if bits >> i & 1:
                    land[i] += count
                if bits >> (5 + i) & 1:
                    nonland[i] += count
        return sum(1 << i for i in range(5) if land[i] > 0 and nonland[i] > 0)

    def _specific(self, matches: list[Outcome], colour: int, companion: str) -> Detection:
        key = (tuple(map(id, matches)), colour, companion)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        candidates = tuple(m.labels[colour] for m in matches)
        code = COLOUR_CODES[colour]
        if len(matches) > 1 and self.mode is ConflictMode.NONE:
            label = conflict_label(candidates)
            result = Detection(
                None, None, code, companion, label, Method.CONFLICT, None, candidates
            )
        else:
            chosen = min(matches, key=lambda m: m.complexity)  # first of the simplest
            result = Detection(
                chosen.archetype,
                chosen.variant,
                code,
                companion,
                chosen.labels[colour],
                Method.RULE,
                None,
                candidates,
            )
        return self._remember(key, result)

    def _remember(self, key: tuple[Any, ...], result: Detection) -> Detection:
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()  # bounded: fallback scores make keys unbounded
        self._cache[key] = result
        return result

    def _fallback(
        self, names: Sequence[CardKey], counts: Sequence[int], colour: int, companion: str
    ) -> Detection:
        """No specific match: the best fallback if its similarity is high enough."""
        weights = self._fallback_weights(names, counts)
        score = None
        chosen = None
        if weights is not None:
            top = max(weights)
            # Among the heaviest: fewest CommonCards, then load order.
            best = min(r for r, w in zip(self._fallback_rank, weights, strict=True) if w == top)
            score = top / len(names)  # deck LINES, not cards (reference quirk)
            if score > self.min_similarity:  # strictly greater
                chosen = best[1]
        key = ("fallback", chosen, score, colour, companion)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        code = COLOUR_CODES[colour]
        if chosen is None:
            result = Detection(None, None, code, companion, UNKNOWN, Method.UNKNOWN, score, ())
        else:
            outcome = self._fallback_outcomes[chosen]
            label = outcome.labels[colour]
            result = Detection(
                outcome.archetype, None, code, companion, label, Method.FALLBACK, score, (label,)
            )
        return self._remember(key, result)

    def _fallback_weights(
        self, names: Sequence[CardKey], counts: Sequence[int]
    ) -> list[int] | None:
        """Copies of each fallback's common cards (both boards), or None if all are zero."""
        n = len(self._fallback_rank)
        if not n or not names:
            return None
        get = self._fallback_packed.get
        if min(counts) >= 0 and sum(counts) < _FIELD_LIMIT:
            # One multiply-add per line on packed fields; no field can overflow here.
            packed = sum(map(mul, map(get, names, _ZEROS), counts))
            if not packed:
                return None
            field = (1 << _FIELD) - 1
            return [(packed >> (_FIELD * j)) & field for j in range(n)]
        weights = [0] * n  # exact path: negative or huge counts would corrupt packed fields
        for name, count in zip(names, counts, strict=True):
            packed_bits = get(name, 0)
            for j in range(n):
                if packed_bits >> (_FIELD * j) & 1:
                    weights[j] += count
        return None if all(w == 0 for w in weights) else weights


def compile_format(
    fmt: FormatDefinitions,
    mode: ConflictMode | str = DEFAULT_MODE,
    min_similarity: float = MIN_SIMILARITY,
) -> CompiledFormat:
    """Compile loaded definitions into a :class:`CompiledFormat`."""
    return CompiledFormat(fmt, ConflictMode.parse(mode), min_similarity)


__all__ = ["CompiledFormat", "compile_format"]
