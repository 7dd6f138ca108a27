"""Benchmarks' peak RSS belongs to the measured program, not to the parent that started it."""

from __future__ import annotations

import subprocess
import sys


def test_a_step_started_by_a_large_parent_reports_its_own_peak() -> None:
    held = bytearray(300 * 1024 * 1024)
    held[::4096] = b"\x01" * len(held[::4096])  # touch every page: 300 MB resident here
    code = "from ops.bench.common import peak_rss_mb; print(peak_rss_mb())"
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(child.stdout) < 150, child.stdout  # ~35 MB of its own; ru_maxrss said 300+
    del held
