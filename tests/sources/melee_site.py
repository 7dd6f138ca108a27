"""A fake melee.gg served by pytest-httpserver: sign-in, session cookie, DataTables endpoints.

The search endpoint answers 401 without a live session cookie, like Melee; sessions can be
expired at will to provoke the adapter's re-login. Events come from
:func:`tests.sources.render_melee.render_event`.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.sources.render_melee import SIGN_IN_PAGE, RenderedEvent

EMAIL, PASSWORD = "scout@example.org", "s3cret-pw"
COOKIE = ".AspNet.ApplicationCookie"


class MeleeSite:
    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.events: list[RenderedEvent] = []
        self.pages: dict[str, str] = {}
        self.sessions: set[str] = set()
        self.sign_ins = 0
        self.ignore_dates = False  # answer every slice with every row (overlapping slices)
        self.truncate_search = False
        self.searches: list[dict[str, str]] = []
        server.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def add(self, event: RenderedEvent) -> None:
        self.events.append(event)
        self.pages.update(event.pages)

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def handle(self, request: Request) -> Response:
        path = request.path
        if request.method == "GET" and path == "/Account/SignIn":
            return Response(SIGN_IN_PAGE, content_type="text/html")
        if request.method == "POST" and path == "/Account/SignInPassword":
            return self._sign_in(request)
        if request.method == "POST" and path == "/Decklist/SearchDecklists":
            if request.cookies.get(COOKIE) not in self.sessions:
                return Response("session expired", status=401)
            return self._search(request)
        if request.method == "POST" and path == "/Standing/GetRoundStandings":
            return self._standings(request)
        if request.method == "GET" and path in self.pages:
            body = self.pages[path]
            kind = "application/json" if body.startswith("{") else "text/html"
            return Response(body, content_type=f"{kind}; charset=utf-8")
        return Response("not found", status=404)

    def _sign_in(self, request: Request) -> Response:
        form = request.form
        ok = (
            form.get("email") == EMAIL
            and form.get("password") == PASSWORD
            and form.get("__RequestVerificationToken") == "tok-123"
            and request.headers.get("X-Requested-With") == "XMLHttpRequest"
        )
        if not ok:
            return Response(json.dumps({"Error": True, "Message": "Invalid login"}))
        self.sign_ins += 1
        session = f"sess-{self.sign_ins}"
        self.sessions.add(session)
        response = Response(json.dumps({"Error": False, "Redirect": "/"}))
        response.set_cookie(COOKIE, session)
        return response

    def _search(self, request: Request) -> Response:
        form = request.form
        self.searches.append(dict(form))
        low, high = (date.fromisoformat(x) for x in form["columns[6][search][value]"].split("|"))
        rows = [
            row
            for event in self.events
            for row in event.search_rows
            if self.ignore_dates
            or low
            <= datetime.fromisoformat(row["TournamentStartDate"].replace("Z", "+00:00")).date()
            <= high
        ]
        start, length = int(form["start"]), int(form["length"])
        page = rows[start : start + length]
        body = {
            "draw": int(form["draw"]),
            "recordsTotal": len(rows),
            "recordsFiltered": len(rows),
            "data": page,
        }
        text = json.dumps(body)
        return Response(
            text[: len(text) // 2] if self.truncate_search else text,
            content_type="application/json",
        )

    def _standings(self, request: Request) -> Response:
        form = request.form
        rows: list[dict[str, object]] = []
        for event in self.events:
            if form["roundId"] == event.standings_round:
                rows = event.standings_rows
        start, length = int(form["start"]), int(form["length"])
        body = {"recordsFiltered": len(rows), "data": rows[start : start + length]}
        return Response(json.dumps(body), content_type="application/json")
