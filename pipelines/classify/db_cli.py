"""``classify`` subcommands that work on the database: new, format, diff, explain DECK_ID."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.classify.definitions import DefinitionError
from pipelines.classify.diff import diff_versions, render_diff
from pipelines.classify.explain_stored import explain_stored_deck
from pipelines.classify.labels import classify_new_decks
from pipelines.classify.reclassify import reclassify_format
from pipelines.classify.sync import DEFAULT_URL, SyncError, sync_formats
from pipelines.classify.versions import ClassificationError
from pipelines.core import db
from pipelines.core.settings_loader import get_settings


def _database_url() -> str:
    from pipelines.cli import database_url  # the CLI owns service resolution

    return database_url()


def _definitions(args: argparse.Namespace) -> Path:
    return Path(args.definitions) if args.definitions else get_settings().definitions_dir


def register_sync_command(formats_sub: Any) -> None:
    """Add ``formats sync`` under ``formats``."""
    sync = formats_sub.add_parser(
        "sync", help="clone or update the public MTGOFormatData repository"
    )
    sync.add_argument(
        "--into", type=Path, help="checkout folder (default: <MANALYTICS_VAR_DIR>/MTGOFormatData)"
    )
    sync.add_argument("--url", default=DEFAULT_URL, help="repository URL")
    sync.set_defaults(func=run_sync)


def run_sync(args: argparse.Namespace) -> int:
    """Clone or fast-forward the definitions repository and say where they are."""
    folder = args.into or get_settings().var_dir / "MTGOFormatData"
    try:
        result = sync_formats(folder, args.url)
    except SyncError as exc:
        print(f"manalytics: formats sync: {exc}", file=sys.stderr)
        return 2
    print(f"{result.action} {result.url} at commit {result.commit}")
    print(f"definitions: {result.formats_dir}  (set MANALYTICS_FORMATS_DIR to use them)")
    return 0


def register_database_commands(classify_sub: Any) -> None:
    """Add ``new``, ``format`` and ``diff`` under ``classify``."""
    new = classify_sub.add_parser("new", help="label stored decks that have no label yet")
    new.add_argument("--definitions", type=Path, help="Formats folder (default: settings)")
    new.set_defaults(func=run_new)
    fmt = classify_sub.add_parser(
        "format", help="reclassify every stored deck of a format with its current definitions"
    )
    fmt.add_argument("format_name", metavar="FORMAT")
    fmt.add_argument("--definitions", type=Path, help="Formats folder (default: settings)")
    fmt.set_defaults(func=run_format)
    diff = classify_sub.add_parser("diff", help="what moved between two definitions versions")
    diff.add_argument("format_name", metavar="FORMAT")
    diff.add_argument("--from", dest="old", required=True, help="version hash (or prefix)")
    diff.add_argument("--to", dest="new", required=True, help="version hash (or prefix)")
    diff.set_defaults(func=run_diff)


Command = Callable[[argparse.Namespace], int]


def _guarded(func: Command) -> Command:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (ClassificationError, DefinitionError) as exc:
            print(f"manalytics: {exc}", file=sys.stderr)
            return 2

    run.__doc__ = func.__doc__
    return run


@_guarded
def run_new(args: argparse.Namespace) -> int:
    """Label unlabelled decks; prints decks labelled per format."""
    done = classify_new_decks(_database_url(), _definitions(args))
    for name, n in sorted(done.items()):
        print(f"{name}: {n} decks labelled")
    return 0


@_guarded
def run_format(args: argparse.Namespace) -> int:
    """Reclassify one format in chunks, then switch readers to the new version."""
    run = reclassify_format(_database_url(), _definitions(args), args.format_name, "cli")
    print(
        f"run {run.run_id}: {run.format} -> definitions {run.version}, "
        f"{run.decks_total} decks in {run.chunks_total} chunks, {run.status}"
    )
    return 0


@_guarded
def run_diff(args: argparse.Namespace) -> int:
    """Counts per old label -> new label."""
    moves = diff_versions(_database_url(), args.format_name, args.old, args.new)
    print(render_diff(moves))
    return 0


@_guarded
def run_explain_stored(args: argparse.Namespace) -> int:
    """Explain a stored deck by id."""
    with db.connect(_database_url(), application_name="manalytics-explain") as conn:
        text = explain_stored_deck(conn, _definitions(args), int(args.target), args.verbose)
    print(text)
    return 0
