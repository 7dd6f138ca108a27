"""The Melee session: sign-in, the session cookie kept between runs, re-login on 401.

Sign-in (DOMAIN.md §5.3): ``GET /Account/SignIn`` for the anti-forgery token, then ``POST
/Account/SignInPassword`` with the credentials (AJAX headers). The credentials are only ever
sent in that form: never logged, never in an error message or a ``repr``.

Like the reference scraper, the session's cookies are saved on disk after a sign-in
(``session_file``, mode 0600, with the time they were obtained) and reused by later runs for
up to :data:`SESSION_MAX_AGE`: a nightly run does not sign in again every night. A 401 on
any request (the site expired the session) signs in again once, saves the new cookies and
repeats that request once; a second 401 propagates. A session file that cannot be read
(corrupt, from another site) is ignored: the run signs in.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipelines.sources.base import (
    HttpClient,
    HttpStatusError,
    MissingCredentials,
    PageParseError,
    Response,
)

log = logging.getLogger(__name__)

SESSION_MAX_AGE = timedelta(days=21)  # the reference reuses its cookies this long


class LoginRefused(MissingCredentials):
    """Melee refused the sign-in (wrong credentials or a changed sign-in form)."""


class MeleeSession:
    """Signed-in requests to one Melee site (see the module docstring)."""

    def __init__(
        self,
        email: str,
        password: str,
        base_url: str,
        session_file: Path | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._email = email
        self._password = password
        self.base_url = base_url.rstrip("/")
        self.session_file = session_file
        self.clock = clock
        self._ready: int | None = None  # id() of the client holding a usable session

    def __repr__(self) -> str:  # never show the credentials
        return f"MeleeSession(base_url={self.base_url!r})"

    def get(self, http: HttpClient, url: str) -> Response:
        """A signed-in GET."""
        return self._call(http, lambda: http.get(url))

    def post(self, http: HttpClient, url: str, form: Mapping[str, Any]) -> Response:
        """A signed-in form POST."""
        return self._call(http, lambda: http.post(url, data=form))

    def sign_in(self, http: HttpClient) -> None:
        """Sign in with the credentials and save the session's cookies."""
        page = http.get(f"{self.base_url}/Account/SignIn")
        token = HTMLParser(page.text()).css_first('input[name="__RequestVerificationToken"]')
        value = token.attributes.get("value") if token is not None else None
        if not value:
            raise PageParseError("sign-in page without __RequestVerificationToken", url=page.url)
        headers = {
            "X-Requested-With": "XMLHttpRequest",
            "Origin": self.base_url,
            "Referer": f"{self.base_url}/Account/SignIn",
        }
        form = {"email": self._email, "password": self._password}
        form["__RequestVerificationToken"] = value
        try:
            answer = http.post(
                f"{self.base_url}/Account/SignInPassword", data=form, headers=headers
            )
        except HttpStatusError as exc:
            raise LoginRefused(f"melee: sign-in refused (HTTP {exc.status})") from None
        if b'"Error":true' in answer.body.replace(b" ", b""):
            raise LoginRefused("melee: sign-in refused (wrong email or password?)")
        self._ready = id(http)
        self._save(http)
        log.info("melee: signed in")

    # -- internals -----------------------------------------------------------------------

    def _call(self, http: HttpClient, send: Callable[[], Response]) -> Response:
        """One request with the session: restore or sign in first; on 401, once more."""
        if self._ready != id(http) and not self._restore(http):
            self.sign_in(http)
        try:
            return send()
        except HttpStatusError as exc:
            if exc.status != 401:
                raise
            log.info("melee: session expired (401); signing in again")
            self.sign_in(http)
            return send()

    def _restore(self, http: HttpClient) -> bool:
        """Put a saved, young enough session into ``http``; whether there was one."""
        if self.session_file is None:
            return False
        try:
            saved = json.loads(self.session_file.read_text(encoding="utf-8"))
            obtained = datetime.fromisoformat(saved["obtained_at"])
            if saved.get("base_url") != self.base_url:
                return False
            cookies = saved["cookies"]
            if self.clock() - obtained > SESSION_MAX_AGE:
                log.info("melee: saved session is older than %s; signing in", SESSION_MAX_AGE)
                return False
            http.set_cookies(cookies)
        except FileNotFoundError:
            return False
        except (ValueError, KeyError, TypeError, OSError) as exc:
            log.warning("melee: saved session unreadable (%s); signing in", type(exc).__name__)
            return False
        self._ready = id(http)
        log.info("melee: reusing the session saved at %s", obtained.isoformat())
        return True

    def _save(self, http: HttpClient) -> None:
        cookies = http.cookies()
        if self.session_file is None or not cookies:  # a replay holds no session to keep
            return
        state = {
            "base_url": self.base_url,
            "obtained_at": self.clock().isoformat(),
            "cookies": cookies,
        }
        folder = self.session_file.parent
        folder.mkdir(parents=True, exist_ok=True)
        # The cookies are a credential: owner-only from the first byte, replaced atomically.
        handle, temp = tempfile.mkstemp(prefix=".session-", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(state, out)
            os.replace(temp, self.session_file)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
