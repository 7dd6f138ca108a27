"""Argparse subcommands of the classification engine.

The main ``manalytics`` CLI calls :func:`register` with its subparsers object; every command
stores its handler as ``func`` (``args.func(args)`` returns the process exit code):

* ``formats check DIR``: list definition problems; exit 1 when an error exists.
* ``classify detect --definitions FORMATS_DIR [--format NAME] [--mode M] PATH...``: TSV rows.
* ``classify explain --definitions FORMATS_DIR [--format NAME] [--player P] FILE``: why each
  deck of a tournament file (or a text decklist) got its label.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.classify.check import check_format_dir, has_errors
from pipelines.classify.db_cli import (
    register_database_commands,
    register_sync_command,
    run_explain_stored,
)
from pipelines.classify.definitions import DefinitionError
from pipelines.classify.detect import detect_paths, load_definitions, write_tsv
from pipelines.classify.explain import explain, render_text
from pipelines.classify.result import DEFAULT_MODE, ConflictMode
from pipelines.classify.tournaments import Deck, TournamentReadError, read_tournament
from pipelines.core.settings_loader import get_settings

MODES = [m.value for m in ConflictMode]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``formats`` and ``classify`` command groups to a parent CLI."""
    formats = subparsers.add_parser("formats", help="archetype definition folders")
    formats_sub = formats.add_subparsers(dest="formats_command", required=True)
    check = formats_sub.add_parser("check", help="report problems of a definitions folder")
    check.add_argument("dir", type=Path, help="a Formats folder or one format folder")
    check.set_defaults(func=run_check)
    register_sync_command(formats_sub)

    classify = subparsers.add_parser("classify", help="archetype classification")
    classify_sub = classify.add_subparsers(dest="classify_command", required=True)
    detect = classify_sub.add_parser("detect", help="classify tournament files, TSV to stdout")
    _common_options(detect)
    detect.add_argument("paths", nargs="+", type=Path, help="tournament files or folders")
    detect.set_defaults(func=run_detect)

    explain_cmd = classify_sub.add_parser("explain", help="explain the labels of decks")
    _common_options(explain_cmd, definitions_required=False)
    explain_cmd.add_argument("--player", help="only the decks of this player (exact name)")
    explain_cmd.add_argument("--verbose", action="store_true", help="list every archetype")
    explain_cmd.add_argument(
        "target",
        help="a stored deck id, a tournament .json file or a text decklist ('4 Card Name')",
    )
    explain_cmd.set_defaults(func=run_explain)
    register_database_commands(classify_sub)


def _common_options(parser: argparse.ArgumentParser, definitions_required: bool = True) -> None:
    parser.add_argument(
        "--definitions",
        required=definitions_required,
        type=Path,
        help="a Formats folder or one format folder"
        + ("" if definitions_required else " (default: MANALYTICS_FORMATS_DIR)"),
    )
    parser.add_argument("--format", dest="format_name", help="override Tournament.Formats")
    parser.add_argument(
        "--mode", choices=MODES, default=DEFAULT_MODE.value, help="conflict resolution"
    )


def run_check(args: argparse.Namespace) -> int:
    """``formats check``: print each problem with its file; 1 when errors exist."""
    problems = check_format_dir(args.dir)
    for problem in problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    print(f"{errors} error(s), {len(problems) - errors} warning(s)", file=sys.stderr)
    return 1 if has_errors(problems) else 0


def run_detect(args: argparse.Namespace) -> int:
    """``classify detect``: TSV (header + one row per deck) to stdout."""
    try:
        rows = detect_paths(args.definitions, args.paths, args.format_name, args.mode)
        write_tsv(rows, sys.stdout)
    except DefinitionError as exc:
        print(f"invalid definitions: {exc}", file=sys.stderr)
        return 2
    return 0


def run_explain(args: argparse.Namespace) -> int:
    """``classify explain``: a text explanation per deck (stored deck id, file or list)."""
    if args.target.isdigit():
        return run_explain_stored(args)
    args.file = Path(args.target)
    if args.definitions is None:
        args.definitions = get_settings().definitions_dir
    try:
        definitions = load_definitions(args.definitions)
        fmt_name, decks = _decks_to_explain(args)
    except (DefinitionError, TournamentReadError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    fmt = definitions.get(fmt_name or "")
    if fmt is None:
        print(f"no definitions for format {fmt_name!r}", file=sys.stderr)
        return 2
    for deck in decks:
        print(f"== {deck.player or '(no player)'}")
        print(render_text(explain(fmt, deck.main, deck.side, args.mode), args.verbose))
    return 0


def _decks_to_explain(args: argparse.Namespace) -> tuple[str | None, list[Deck]]:
    if args.file.suffix.lower() == ".json":
        tournament = read_tournament(args.file)
        decks = [d for d in tournament.decks if args.player is None or d.player == args.player]
        return args.format_name or tournament.format, decks
    if not args.format_name:
        raise ValueError("--format is required with a text decklist")
    main, side = parse_text_decklist(args.file.read_text(encoding="utf-8-sig"))
    return args.format_name, [Deck(args.file.name, main, side)]


Board = tuple[tuple[str, int], ...]


def parse_text_decklist(text: str) -> tuple[Board, Board]:
    """Read ``N Card Name`` lines into (main, side).

    A ``Sideboard`` line or a blank line after cards starts the sideboard (MTGO export
    style). Only whole-line markers count: real card names may contain "sb".
    """
    main: list[tuple[str, int]] = []
    side: list[tuple[str, int]] = []
    board = main
    for raw in text.splitlines():
        line = raw.strip()
        if line.lower().rstrip(":") == "sideboard" or (not line and main):
            board = side
            continue
        if not line or line.startswith(("#", "//")):
            continue
        count, _, name = line.partition(" ")
        count = count.rstrip("xX")
        if not count.isdigit() or not name.strip():
            raise ValueError(f"cannot read decklist line {raw!r} (expected 'N Card Name')")
        board.append((name.strip(), int(count)))
    return tuple(main), tuple(side)


__all__ = ["parse_text_decklist", "register", "run_check", "run_detect", "run_explain"]
