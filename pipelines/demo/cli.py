"""``manalytics demo generate``: write demo or scale-benchmark tournaments to a folder.

The lead wires :func:`register` into the main ``manalytics`` parser (``pipelines/cli.py``);
``python -m pipelines.demo.cli demo generate …`` works on its own as well.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from pipelines.demo.generator import DEFAULT_DAYS, SCALE_DECKS, SOURCES, generate

DEFAULT_DECKS = 2000
# The scale run spreads its ~170,000 decks over a year (~470 decks a day) rather than 28 days,
# which keeps the per-day volume plausible and crosses the demo meta-period boundaries.
SCALE_DAYS = 364


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type`` accepting integers >= ``minimum``."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {raw!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def _iso_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {raw!r}") from None


def _sources(raw: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in raw.split(",") if part.strip())
    unknown = [s for s in chosen if s not in SOURCES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"sources must be a comma-separated subset of {','.join(SOURCES)}"
        )
    return chosen


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` command group (``demo generate``) to a ``manalytics`` subparsers object.

    The leaf parser sets ``func`` (``args.func(args) -> int``) for the caller to dispatch.
    """
    demo = subparsers.add_parser("demo", help="generate demo / scale-benchmark tournament data")
    demo_commands = demo.add_subparsers(dest="demo_command", metavar="COMMAND", required=True)
    gen = demo_commands.add_parser(
        "generate",
        help="write tournaments in the decklist-cache JSON format",
        description=(
            "Write deterministic demo tournaments (MTGO, MTGmelee, CardsRealm) under "
            "DIR/<Source>/<yyyy>/<mm>/<dd>/. They classify with the shipped demo definitions "
            "(pipelines/demo/definitions). The same arguments always give identical files."
        ),
    )
    gen.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    gen.add_argument(
        "--decks",
        type=_int_at_least(0),
        metavar="N",
        help=f"exact number of decks to write (default {DEFAULT_DECKS}; {SCALE_DECKS:,} "
        "with --scale)",
    )
    gen.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
    gen.add_argument(
        "--start", type=_iso_date, metavar="YYYY-MM-DD", help="first event day (default 2025-01-06)"
    )
    gen.add_argument(
        "--days",
        type=_int_at_least(1),
        metavar="D",
        help=f"number of days the events span (default {DEFAULT_DAYS}; {SCALE_DAYS} with --scale)",
    )
    gen.add_argument(
        "--sources",
        type=_sources,
        default=SOURCES,
        metavar="LIST",
        help=f"comma-separated subset of {','.join(SOURCES)} (default: all)",
    )
    gen.add_argument(
        "--scale",
        action="store_true",
        help=f"benchmark mode: {SCALE_DECKS:,} decks (10x the real sample) over {SCALE_DAYS} days",
    )
    gen.add_argument(
        "--compact",
        action="store_true",
        help="single-line JSON (same content, about half the bytes; the scrapers indent)",
    )
    gen.set_defaults(func=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    """Handler of ``demo generate``: generate, then print the summary."""
    decks = args.decks if args.decks is not None else SCALE_DECKS if args.scale else DEFAULT_DECKS
    days = args.days if args.days is not None else SCALE_DAYS if args.scale else DEFAULT_DAYS
    summary = generate(
        args.out,
        decks=decks,
        seed=args.seed,
        start=args.start,
        days=days,
        sources=args.sources,
        indent=not args.compact,
    )
    print(summary.to_text())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point with the same command shape as ``manalytics``."""
    parser = argparse.ArgumentParser(prog="manalytics")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
