from datetime import date
from pathlib import PurePosixPath

import pytest

from pipelines.sources.base import (
    CacheDocument,
    HttpStatusError,
    PageParseError,
    Response,
)


def _doc(folder: str = "MTGO", name: str = "modern-challenge-32-2025-03-0112345678"):
    return CacheDocument(folder=folder, date=date(2025, 3, 1), name=name, document={})


def test_relative_path_follows_cache_layout() -> None:
    assert _doc().relative_path() == PurePosixPath(
        "MTGO/2025/03/01/modern-challenge-32-2025-03-0112345678.json"
    )


def test_relative_path_pads_month_and_day() -> None:
    doc = CacheDocument(folder="MTGmelee", date=date(2024, 1, 9), name="x", document={})
    assert str(doc.relative_path()) == "MTGmelee/2024/01/09/x.json"


@pytest.mark.parametrize("name", ["", "..", "a/b", "a\\b", "."])
def test_relative_path_refuses_escaping_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid cache document name"):
        _doc(name=name).relative_path()


def test_relative_path_refuses_escaping_folder() -> None:
    with pytest.raises(ValueError, match="invalid cache document folder"):
        _doc(folder="../etc").relative_path()


def test_json_parses_body() -> None:
    response = Response("http://x/a?b=1", 200, {}, b'{"a": [1, 2]}')
    assert response.json() == {"a": [1, 2]}


def test_json_error_carries_url_and_status() -> None:
    response = Response("http://x/page?p=2", 200, {}, b'{"a": [1, 2')
    with pytest.raises(PageParseError) as info:
        response.json()
    assert info.value.url == "http://x/page?p=2"
    assert info.value.status == 200
    assert "http://x/page?p=2" in str(info.value)
    assert "invalid JSON" in str(info.value)


def test_json_error_on_undecodable_bytes() -> None:
    with pytest.raises(PageParseError):
        Response("http://x", 200, {}, b"\xff\xfe\x00garbage").json()


def test_text_uses_charset_case_insensitively() -> None:
    body = "Jötun".encode("latin-1")
    response = Response("http://x", 200, {"Content-Type": "text/html; charset=ISO-8859-1"}, body)
    assert response.text() == "Jötun"
    assert response.header("content-type") == "text/html; charset=ISO-8859-1"


def test_text_defaults_to_utf8_and_survives_unknown_charset() -> None:
    body = "Jötun".encode()
    assert Response("http://x", 200, {}, body).text() == "Jötun"
    assert Response("http://x", 200, {"content-type": "text/html; charset=nope"}, body).text() == (
        "Jötun"
    )


def test_http_status_error_carries_response() -> None:
    response = Response("http://x/a", 404, {}, b"")
    error = HttpStatusError("404 Not Found", response=response)
    assert error.status == 404 and error.url == "http://x/a" and error.response is response
