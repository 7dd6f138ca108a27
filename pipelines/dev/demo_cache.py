"""The demo set the run command ingests when no tournament cache is configured: generated
once under ``<var_dir>/demo-cache`` and regenerated only when its size, seed or the
generator's code change (a stamp file records them)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import time
from pathlib import Path

from pipelines.core.settings import Settings
from pipelines.dev.processes import Printer, print_line

DEMO_SEED = 42
DEMO_DIRNAME = "demo-cache"
# Not ``*.json``: the ingestion walks every JSON file below the cache folder.
DEMO_STAMP = ".manalytics-demo-stamp"


def demo_cache_dir(settings: Settings) -> Path:
    """Where the run command generates the demo set (``<var_dir>/demo-cache``)."""
    return Path(settings.var_dir) / DEMO_DIRNAME


def _generator_fingerprint() -> str:
    """Hash of the demo package's sources: a changed generator regenerates the demo set."""
    import pipelines.demo as demo

    digest = hashlib.sha256()
    package = Path(next(iter(demo.__path__)))
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def prepare_demo_cache(settings: Settings, out: Printer = print_line) -> Path:
    """Generate the demo set unless one with the same parameters is already there."""
    from pipelines.demo.generator import generate

    directory = demo_cache_dir(settings)
    wanted = {
        "decks": settings.demo_decks,
        "seed": DEMO_SEED,
        "generator": _generator_fingerprint(),
    }
    stamp = directory / DEMO_STAMP
    with contextlib.suppress(OSError, ValueError):
        if json.loads(stamp.read_text()) == wanted:
            out(f"data: demo set already generated in {directory} ({settings.demo_decks} decks)")
            return directory
    out(f"data: generating the demo set ({settings.demo_decks} decks, seed {DEMO_SEED}) ...")
    started = time.perf_counter()
    # Build next to the target and swap at the end: an interrupted generation never leaves a
    # half-written set that looks complete.
    staging = directory.with_name(directory.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    generate(staging, settings.demo_decks, DEMO_SEED)
    (staging / DEMO_STAMP).write_text(json.dumps(wanted))
    shutil.rmtree(directory, ignore_errors=True)
    staging.rename(directory)
    out(f"data: demo set written to {directory} in {time.perf_counter() - started:.1f}s")
    return directory


__all__ = ["DEMO_SEED", "DEMO_STAMP", "demo_cache_dir", "prepare_demo_cache"]
