"""Issue 12, defect 15: every ``curl`` example of the README works against a live app
(gunicorn with the production configuration), with the real curl."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from pipelines.core.settings import REPO_ROOT
from tests.api.conftest import PASSWORD
from tests.api.test_gunicorn import gunicorn as gunicorn
from tests.api.test_gunicorn import private_redis as private_redis

README_HOST = "127.0.0.1:8000"


def curl_examples() -> list[str]:
    """The README's ``curl`` command lines, as written."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip().startswith("curl ")]


def test_the_readme_has_curl_examples() -> None:
    examples = curl_examples()
    assert len(examples) >= 4 and all(README_HOST in line for line in examples), examples


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_every_readme_curl_example_answers(
    gunicorn: tuple[str, Path], accounts: dict[str, int], tmp_path: Path
) -> None:
    base, _ = gunicorn
    host = base.removeprefix("http://")
    login = urllib.request.Request(
        f"{base}/api/v1/auth/token",
        data=json.dumps({"username": "admin", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(login, timeout=30) as answer:
        token = json.loads(answer.read())["access_token"]
    for line in curl_examples():
        argv = [
            arg.replace(README_HOST, host).replace("$TOKEN", token)
            for arg in shlex.split(line, comments=True)
        ]
        argv[1:1] = ["--silent", "--show-error", "--write-out", "\n%{http_code}"]
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path
        )
        assert done.returncode == 0, (line, done.stderr)
        body, _, status = done.stdout.rpartition("\n")
        if "-o" in argv:  # an image saved to a file: charts are drawn by a worker task
            assert status in {"200", "404"}, (line, status)
            continue
        document = json.loads(body)
        # The fixture data may lack the example's archetype or deck (a 404 naming it);
        # parameters and routes must be right: never a 400, never a 5xx.
        data_dependent = ("/archetypes/", "/decks/", "/admin/tasks/RUN_ID", "/charts/")
        if status == "404" and any(part in line for part in data_dependent):
            assert document["code"] == "not_found", (line, document)
            continue
        # Operator triggers answer 202 with the queued run.
        expected = "202" if line.startswith("curl -X POST") and "/admin/" in line else "200"
        assert status == expected, (line, status, document)
