"""Grafana dashboards and provisioning: parsed, every query checked by the real parser.

Prometheus queries go through ``promtool check rules`` (as recording rules); the business
view's SQL runs against a seeded database with Grafana's time macros substituted.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.ops.conftest import OPS, read_yaml, tool

DASHBOARDS = sorted((OPS / "dashboards").glob("*.json"))
PROVISIONING = OPS / "grafana" / "provisioning"
REQUIRED = {"manalytics-api", "manalytics-workers", "manalytics-business"}


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def targets(kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(dashboard, panel title, target) of every target whose datasource type is ``kind``."""
    found = []
    for path in DASHBOARDS:
        for panel in load(path)["panels"]:
            for target in panel["targets"]:
                if target["datasource"]["type"] == kind:
                    found.append((path.stem, panel["title"], target))
    return found


def test_dashboards_parse_with_unique_ids_and_known_datasources() -> None:
    datasources = read_yaml(PROVISIONING / "datasources" / "manalytics.yml")
    assert isinstance(datasources, dict)
    known = {(d["type"], d["uid"]) for d in datasources["datasources"]}
    uids = set()
    for path in DASHBOARDS:
        data = load(path)
        assert data["uid"] == path.stem and data["title"]
        uids.add(data["uid"])
        ids = [panel["id"] for panel in data["panels"]]
        assert len(ids) == len(set(ids)), path.name
        for panel in data["panels"]:
            assert panel["targets"], (path.name, panel["title"])
            for target in panel["targets"]:
                source = target["datasource"]
                assert (source["type"], source["uid"]) in known, (path.name, source)
    assert uids >= REQUIRED


def test_prometheus_queries_parse(tmp_path: Path) -> None:
    exprs = [target["expr"] for _, _, target in targets("prometheus")]
    assert len(exprs) >= 15
    rules = {"groups": [{"name": "dashboards", "rules": [
        {"record": f"dashboard:query_{number}", "expr": expr} for number, expr in enumerate(exprs)
    ]}]}  # fmt: skip
    path = tmp_path / "queries.yml"
    path.write_text(json.dumps(rules))  # JSON is YAML
    result = subprocess.run(
        [tool("promtool", "prometheus"), "check", "rules", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_query_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "queries.yml"
    path.write_text(json.dumps({"groups": [{"name": "x", "rules": [
        {"record": "dashboard:bad", "expr": "sum by (le (rate(x[5m]))"}]}]}))  # fmt: skip
    result = subprocess.run([tool("promtool", "prometheus"), "check", "rules", str(path)],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode != 0


def grafana_sql(sql: str) -> str:
    """Grafana's macros replaced as Grafana does for a 'last 10 years' range."""
    sql = sql.replace("$__timeFrom()", "'2016-01-01T00:00:00Z'::timestamptz")
    sql = sql.replace("$__timeTo()", "now()")
    assert "$__" not in sql, f"macro not handled: {sql}"
    return sql


def test_business_queries_answer_on_a_seeded_database(api_dsn: str) -> None:
    queries = targets("grafana-postgresql-datasource")
    titles = {title for _, title, _ in queries}
    for needed in ("Decks per day per source", "Newest event per source", "Top shares"):
        assert any(title.startswith(needed) for title in titles), needed
    assert any(title.startswith("Unknown share per format") for title in titles)
    with psycopg.connect(api_dsn, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = on")  # dashboards only read
        for dashboard, title, target in queries:
            rows = conn.execute(grafana_sql(target["rawSql"])).fetchall()  # type: ignore[arg-type]
            assert rows, f"{dashboard} / {title}: no rows on the seeded database"
            if target["format"] == "time_series":
                assert all(len(row) == 3 for row in rows)


def test_dashboard_provider_points_at_the_mounted_folder() -> None:
    providers = read_yaml(PROVISIONING / "dashboards" / "manalytics.yml")
    assert isinstance(providers, dict)
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_metric_names_are_documented(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    listed = (OPS / "alerts" / "METRICS.md").read_text(encoding="utf-8")
    for name in set(re.findall(r"\b(manalytics_[a-z_]+?)(?:_bucket)?\b", text)):
        assert f"`{name}`" in listed, f"{path.name}: {name} not in ops/alerts/METRICS.md"
