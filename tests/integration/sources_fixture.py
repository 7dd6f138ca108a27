"""A minimal site adapter for testing the fetch framework against a real local HTTP server.

The "site": ``GET /events?page=N`` -> ``{"events": [{"id", "date", "name"}], "next": N+1|null}``
and ``GET /event/<id>`` -> a cache document (DOMAIN.md §2.2) as JSON. The adapter follows
the contract of :mod:`pipelines.sources.base`: no retries, no sleeping, parse errors as
:class:`PageParseError` (via ``Response.json``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from pytest_httpserver import HTTPServer

from pipelines.sources.base import CacheDocument, EventRef, HttpClient, PageParseError


class FixtureSource:
    name = "mtgo"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def list_events(self, http: HttpClient, since: date, until: date) -> Iterator[EventRef]:
        page: int | None = 1
        while page is not None:
            data = http.get(f"{self.base_url}/events", params={"page": page}).json()
            for item in data["events"]:
                day = date.fromisoformat(item["date"])
                if since <= day <= until:
                    yield EventRef(self.name, str(item["id"]), day, item["name"], "Modern")
            page = data.get("next")

    def fetch_event(self, http: HttpClient, ref: EventRef) -> list[CacheDocument]:
        response = http.get(f"{self.base_url}/event/{ref.key}")
        document = response.json()
        if "Tournament" not in document:
            raise PageParseError("no Tournament object", url=response.url, status=response.status)
        if not document["Decks"]:
            return []
        stem = f"modern-challenge-32-{ref.date.isoformat()}{ref.key}"
        return [CacheDocument("MTGO", ref.date, stem, document)]


def event_document(event_id: str, day: str, players: list[str]) -> dict[str, Any]:
    uri = f"https://www.mtgo.com/decklist/modern-challenge-32-{day}{event_id}"
    return {
        "Tournament": {"Date": day, "Name": "Modern Challenge 32", "Uri": uri, "Formats": "Modern"},
        "Decks": [
            {
                "Date": f"{day}T12:00:00+00:00",
                "Player": player,
                "Result": f"{rank}th Place",
                "AnchorUri": f"{uri}#deck_{player}",
                "Mainboard": [
                    {"Count": 4, "CardName": "Lightning Bolt"},
                    {"Count": 4, "CardName": "Goblin Guide"},
                    {"Count": 52, "CardName": "Mountain"},
                ],
                "Sideboard": [{"Count": 2, "CardName": "Smash to Smithereens"}],
            }
            for rank, player in enumerate(players, start=1)
        ],
        "Rounds": [],
        "Standings": [],
    }


def serve_site(
    server: HTTPServer, events: list[tuple[str, str, list[str]]], per_page: int = 2
) -> None:
    """Serve ``events`` (id, day, players) as paginated listing + one page per event."""
    pages = [events[i : i + per_page] for i in range(0, len(events), per_page)] or [[]]
    for number, chunk in enumerate(pages, start=1):
        server.expect_request("/events", query_string={"page": str(number)}).respond_with_json(
            {
                "events": [
                    {"id": e, "date": d, "name": "Modern Challenge 32"} for e, d, _ in chunk
                ],
                "next": number + 1 if number < len(pages) else None,
            }
        )
    for event_id, day, players in events:
        server.expect_request(f"/event/{event_id}").respond_with_json(
            event_document(event_id, day, players)
        )
