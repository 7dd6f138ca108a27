"""Fixtures shared by the classification tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.classify.definitions import FormatDefinitions
from pipelines.classify.definitions_loader import load_all, load_format
from tests.unit.classify.helpers import FORMATS


@pytest.fixture(scope="session")
def tiny() -> FormatDefinitions:
    """The hand-written Tiny format (tests/fixtures/classify/formats/Tiny)."""
    return load_format(FORMATS / "Tiny")


@pytest.fixture(scope="session")
def lenient() -> FormatDefinitions:
    """The Lenient format: BOM, trailing commas, lower-case keys, odd file names."""
    return load_format(FORMATS / "Lenient")


@pytest.fixture(scope="session")
def real_formats(shared_data_dir: Path) -> dict[str, FormatDefinitions]:
    """The six real formats of the shared sample (skips when absent)."""
    return load_all(shared_data_dir / "formats")
