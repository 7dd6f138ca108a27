"""Fictional player names for the demo generator, one style per source.

MTGO shows login names (``walshi4life``), melee.gg display names (``Alice Smith``, sometimes a
handle or an all-lowercase name), CardsRealm mostly Portuguese/Spanish full names. Accented and
non-Latin letters are included on purpose: downstream code must keep names byte-exact.
"""

from __future__ import annotations

import random
from collections.abc import Callable

# fmt: off
_HANDLE_WORDS = (
    "spike", "mox", "bolt", "tron", "karn", "delver", "goyf", "elf", "faerie", "wizard", "kiwi",
    "panda", "otter", "raven", "lotus", "ghost", "ninja", "turbo", "mono", "storm", "titan",
    "pixel", "lucky", "salty", "grim", "shadow", "blink", "ramp", "brew", "sleeve", "topdeck",
    "mulligan", "scry", "flash", "tempo", "aggro", "combo", "owl", "fox", "wolf", "bear",
    "dragon", "phoenix", "golem", "sprite", "wurm", "thopter", "myr", "sliver", "zombie",
    "goblin", "merfolk", "vampire", "angel", "demon", "hydra", "sphinx", "kraken", "lich",
    "paladin", "rogue", "cleric", "shaman", "druid", "monk", "samurai", "pirate", "knight",
    "marco", "pedro", "luca", "yuki", "sven", "igor", "nico", "tomas", "andre", "kenji",
)
_HANDLE_SUFFIXES = (
    "", "", "", "_mtg", "mtg", "99", "42", "77", "13", "2000", "_", "x", "tv", "_pro", "4life",
    "_jr", "007", "21", "88", "_br", "_it", "_de", "1", "23", "_fr", "_jp", "_pl", "zz",
)
_FIRST_NAMES = (
    "Alice", "Ben", "Carla", "David", "Elena", "Felix", "Grace", "Hugo", "Irene", "Jack",
    "Karin", "Liam", "Maya", "Noah", "Olivia", "Paul", "Quentin", "Rosa", "Samuel", "Tara",
    "Umar", "Vera", "Walter", "Xavier", "Yara", "Zoë", "José", "Jörg", "Thaís", "André",
    "Łukasz", "Renée", "Søren", "Chloé", "Mateus", "Hiroshi", "Ana", "Björn", "Ilse", "Kai",
    "Marta", "Diego", "Emma", "Lars", "Nina", "Oscar", "Pietro", "Rui", "Sofia", "Timo",
    "Valentina", "William", "Yusuf", "Zack", "Aiko", "Bruno", "Camille", "Dmitri", "Eva",
    "Fernanda", "Gabriel", "Hannah", "Ian", "Julia", "Kevin", "Laura", "Miguel", "Nathan",
)
_LAST_NAMES = (
    "Smith", "García", "Müller", "Nguyen", "O'Brien", "Kowalski", "Sørensen", "Rossi",
    "Tanaka", "Dubois", "Silva", "Johnson", "Fernández", "Novak", "Ivanov", "Larsen",
    "Costa", "Becker", "Moreau", "Yamamoto", "Kim", "Schmidt", "López", "Nakamura", "Brown",
    "Wilson", "Martin", "Bernard", "Ricci", "Hansen", "Jansen", "Papadopoulos", "Horvat",
    "Andersson", "Kelly", "Murphy", "Santos", "Pereira", "Oliveira", "Fischer", "Weber",
    "Lefèvre", "Conti", "Walsh", "Byrne", "Svensson", "Nielsen", "Popescu", "Varga", "Zhang",
)
_BR_FIRST = (
    "Rodrigo", "Fernando", "Vitor", "Henrique", "Bruno", "Cristiano", "Eduardo", "Rafael",
    "Daniel", "Leonardo", "Thiago", "Jefferson", "André", "Thaís", "João Pedro", "Gustavo",
    "Mariana", "Lucas", "Matheus", "Felipe", "Camila", "Beatriz", "Caio", "Diego", "Renato",
    "Guilherme", "Letícia", "Murilo", "Otávio", "Paulo", "Sérgio", "Vinícius", "Júlia",
)
_BR_LAST = (
    "Alves", "Pedroso", "Lacerda", "Brandão", "Rocha", "Nobre", "Daldegan", "Issao",
    "Moutinho", "Guimarães", "Vieira", "Fadón", "Ruiz", "Marzall", "Souza", "Lima",
    "Carvalho", "Ribeiro", "Gomes", "Martins", "Araújo", "Barbosa", "Cardoso", "Teixeira",
    "Moreira", "Nascimento", "Correia", "Mendes", "Freitas", "Pinto",
)
# fmt: on


def _unique(rng: random.Random, count: int, make: Callable[[random.Random], str]) -> list[str]:
    """Draw names with ``make(rng)`` until ``count`` distinct ones exist (deterministic order)."""
    seen: set[str] = set()
    out: list[str] = []
    # A generous cap so a too-small vocabulary fails loudly instead of looping forever.
    for _ in range(count * 50):
        name = make(rng)
        if name not in seen:
            seen.add(name)
            out.append(name)
            if len(out) == count:
                return out
    raise ValueError(f"could not draw {count} distinct names")


def _mtgo_login(rng: random.Random) -> str:
    word = rng.choice(_HANDLE_WORDS)
    style = rng.random()
    if style < 0.15:
        word = word.capitalize()
    elif style < 0.2:
        word = word.upper()
    second = rng.choice(_HANDLE_WORDS) if rng.random() < 0.45 else ""
    if second and rng.random() < 0.5:
        second = second.capitalize()
    suffix = rng.choice(_HANDLE_SUFFIXES)
    with_digits = rng.random() < 0.35 and not any(c.isdigit() for c in suffix)
    digits = str(rng.randint(1, 9999)) if with_digits else ""
    prefix = "_" if rng.random() < 0.04 else ""
    return f"{prefix}{word}{second}{suffix}{digits}"


def _melee_name(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.12:  # a bare handle, as some melee.gg users display
        return _mtgo_login(rng)
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    if style < 0.18:  # users typing their own name in lower case
        return f"{first} {last}".lower()
    if style < 0.22:
        return f"{first} {rng.choice('ABCDEFGHJKLMNPRSTVW')}. {last}"
    return f"{first} {last}"


def _cardsrealm_name(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return _mtgo_login(rng)
    name = f"{rng.choice(_BR_FIRST)} {rng.choice(_BR_LAST)}"
    if rng.random() < 0.3:
        name = f"{name} {rng.choice(_BR_LAST)}"
    return name


def player_pools(rng: random.Random, sizes: dict[str, int]) -> dict[str, list[str]]:
    """Name pools per source (``MTGO``, ``MTGmelee``, ``CardsRealm``), deterministic per rng.

    Pools are drawn once per run; events sample from them with a skew so that a core of
    regulars plays often, which gives player statistics something to show.
    """
    makers = {"MTGO": _mtgo_login, "MTGmelee": _melee_name, "CardsRealm": _cardsrealm_name}
    return {source: _unique(rng, sizes[source], makers[source]) for source in makers}
