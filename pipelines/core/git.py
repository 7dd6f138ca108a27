"""Running ``git`` as a subprocess: no prompts, a time limit, errors that say why.

Credentials embedded in a URL (``https://user:token@host/...``) never appear in an error.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

_USERINFO = re.compile(r"(\w+://)[^/@\s]+@")


class GitError(RuntimeError):
    """git failed or timed out; the message gives git's last line of output."""


def redact(text: str) -> str:
    """``text`` with the user-info part of URLs (tokens) masked."""
    return _USERINFO.sub(r"\1***@", text)


def run_git(*args: str, cwd: Path | None = None, timeout: float = 300.0) -> str:
    """Run ``git args...``; its stripped stdout, or :class:`GitError`."""
    env = {
        "GIT_TERMINAL_PROMPT": "0",  # never hang on a credentials prompt in a worker
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "LC_ALL": "C",  # git's messages in English, whatever the host's locale
    }
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} timed out after {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        # git's own diagnosis ("fatal: ...") says more than the advice printed after it.
        fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
        reason = (fatal or lines or [f"exit status {done.returncode}"])[0]
        raise GitError(f"git {args[0]} failed: {redact(reason)}")
    return done.stdout.strip()
