"""One measured step of ``ops.bench.scale``, run in its own process.

``python -m ops.bench.scale_step STEP DSN [ARG]`` runs one step and prints, as its last line,
a JSON object: the step's figures plus ``seconds`` (the step's call, interpreter start-up
excluded), ``cpu_s`` (CPU seconds of this process and its children), ``server_cpu_s`` (CPU
seconds of the PostgreSQL backends serving the step's database, see
:mod:`ops.bench.server_cpu`) and ``peak_rss_mb`` (this process or any child it waited for,
e.g. a pool worker).
Running every step in a fresh process is what makes the peak RSS a per-step figure.

Steps: ``ingest DSN ROOT`` (the generated archive into a migrated, empty database),
``classify DSN`` (label every new deck with the demo definitions), ``measure DSN
MODULE:FUNCTION`` (another engineer's measure: a function ``(dsn) -> dict[str, float]``).
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ops.bench.common import peak_rss_mb, timed
from ops.bench.server_cpu import ServerCpu, own_cpu_seconds


def ingest(dsn: str, root: str) -> dict[str, Any]:
    """The whole generated archive through ``ingest_cache``."""
    from pipelines.ingest.cache import ingest_cache

    summary = ingest_cache(dsn, Path(root))
    return {
        "files": summary.files_seen,
        "decks": summary.decks,
        "matches": summary.matches,
        "quarantined": summary.files_quarantined,
    }


def classify(dsn: str) -> dict[str, Any]:
    """``classify_new_decks`` with the demo definitions (what the nightly chain runs)."""
    from pipelines.classify.labels import classify_new_decks
    from pipelines.demo import DEMO_DEFINITIONS_DIR

    done = classify_new_decks(dsn, DEMO_DEFINITIONS_DIR)
    return {"labelled": sum(done.values())}


def measure(dsn: str, target: str) -> dict[str, Any]:
    """Another area's measure, ``module:function`` taking the DSN of a scratch copy."""
    module, _, name = target.partition(":")
    func: Callable[[str], dict[str, Any]] = getattr(importlib.import_module(module), name)
    return dict(func(dsn))


STEPS: dict[str, Callable[..., dict[str, Any]]] = {
    "ingest": ingest,
    "classify": classify,
    "measure": measure,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in STEPS:
        print(f"usage: python -m ops.bench.scale_step {{{','.join(STEPS)}}} DSN [ARG]")
        return 2
    with ServerCpu(args[1]) as server:
        figures, seconds = timed(lambda: STEPS[args[0]](*args[1:]))
    figures |= {
        "seconds": seconds,
        "cpu_s": own_cpu_seconds(),
        "server_cpu_s": server.seconds,
        "peak_rss_mb": peak_rss_mb(),
    }
    print(json.dumps(figures, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
