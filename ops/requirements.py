"""Print the runtime requirements of pyproject.toml, one per line (no extras).

The images install these in a layer of their own before the code is copied, so a code
change does not re-install dependencies. Standard library only (runs before any install).

    python ops/requirements.py pyproject.toml > requirements.txt
"""

from __future__ import annotations

import sys
import tomllib


def runtime_requirements(pyproject: str) -> list[str]:
    with open(pyproject, "rb") as handle:
        data = tomllib.load(handle)
    return list(data["project"]["dependencies"])


if __name__ == "__main__":
    print("\n".join(runtime_requirements(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")))
