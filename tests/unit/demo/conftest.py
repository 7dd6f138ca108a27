"""Shared fixtures: one generated sample per session (generation is the slow part)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipelines.demo import GeneratedEvent, GenerationSummary, generate, iter_events

SAMPLE_DECKS = 4000
SAMPLE_SEED = 20250106


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    """A generated folder (all sources) shared by the file-level tests."""
    out = tmp_path_factory.mktemp("demo") / "tournaments"
    summary = generate(out, decks=SAMPLE_DECKS, seed=SAMPLE_SEED)
    return out, summary


@pytest.fixture(scope="session")
def sample_files(sample_dir: tuple[Path, GenerationSummary]) -> list[tuple[Path, dict[str, Any]]]:
    """Every generated file, parsed with the standard library (strict JSON)."""
    root, _ = sample_dir
    files = sorted(root.rglob("*.json"))
    return [(path, json.loads(path.read_text(encoding="utf-8"))) for path in files]


@pytest.fixture(scope="session")
def large_events() -> list[GeneratedEvent]:
    """A larger in-memory sample for classification and distribution checks."""
    return list(iter_events(12_000, seed=7))
