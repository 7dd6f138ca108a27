"""Colour masks of the compiled matcher (:mod:`pipelines.classify.matcher`).

A colour code (``"WU"``) is a 5-bit mask, W = bit 0 … G = bit 4; a card's colour bits are its
land mask | its non-land mask << 5, looked up per card name at detection time.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipelines.classify.definitions import CANONICAL_COLOURS, COLOUR_LETTERS, FormatDefinitions


def colour_mask(code: str) -> int:
    """WUBRG code -> 5-bit mask (W = bit 0); ``C`` and unknown letters contribute nothing."""
    mask = _MASKS.get(code)
    if mask is None:
        mask = sum(1 << i for i, c in enumerate(COLOUR_LETTERS) if c in code)
    return mask


# Every canonical code precomputed: compiling a format looks up ~28,000 colour entries.
_MASKS: dict[str, int] = {}
_MASKS.update((code, colour_mask(code)) for code in ("", "C", *CANONICAL_COLOURS))


COLOUR_CODES: tuple[str, ...] = tuple(
    "".join(c for i, c in enumerate(COLOUR_LETTERS) if m >> i & 1) or "C" for m in range(32)
)


def card_colour_bits(fmt: FormatDefinitions) -> dict[str, int]:
    """Colour bits per card: land mask | non-land mask << 5.

    ~28,000 names per format: cached by the colour tables' own content hash, so compiling a
    new version of a format's rules does not redo it.
    """
    if not fmt.colours_version:
        return _compute_colour_bits(fmt.lands, fmt.nonlands)
    key = fmt.colours_version
    if key not in _COLOUR_BITS_CACHE:
        if len(_COLOUR_BITS_CACHE) >= _COLOUR_BITS_CACHE_LIMIT:
            _COLOUR_BITS_CACHE.clear()
        _COLOUR_BITS_CACHE[key] = _compute_colour_bits(fmt.lands, fmt.nonlands)
    return _COLOUR_BITS_CACHE[key]


def _compute_colour_bits(
    lands_by_name: Mapping[str, str], nonlands_by_name: Mapping[str, str]
) -> dict[str, int]:
    # Built with comprehensions: the shared table has ~28,000 names.
    lands = {name: _MASKS.get(code, 0) or colour_mask(code) for name, code in lands_by_name.items()}
    nonlands = {
        name: _MASKS.get(code, 0) or colour_mask(code) for name, code in nonlands_by_name.items()
    }
    colour_bits = {name: mask for name, mask in lands.items() if mask}
    for name, mask in nonlands.items():
        if mask:
            colour_bits[name] = colour_bits.get(name, 0) | mask << 5
    return colour_bits


_COLOUR_BITS_CACHE: dict[str, dict[str, int]] = {}
_COLOUR_BITS_CACHE_LIMIT = 32


__all__ = ["COLOUR_CODES", "card_colour_bits", "colour_mask"]
