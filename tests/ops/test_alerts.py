"""Alert rules, their unit tests, runbooks, the Prometheus and Alertmanager configuration.

promtool/amtool are the real binaries (Debian prometheus, prometheus-alertmanager).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.ops.conftest import OPS, read_yaml, tool

RULES = OPS / "alerts" / "manalytics.rules.yml"
RULE_TESTS = sorted((OPS / "alerts" / "tests").glob("*.test.yml"))
PROMETHEUS = OPS / "prometheus" / "prometheus.yml"
ALERTMANAGER = OPS / "alertmanager" / "alertmanager.yml"
# The seed's alerts and the pipeline's: each must exist (by name) with its threshold.
REQUIRED = {
    "ManalyticsApiErrorRate": "> 0.05",
    "ManalyticsDatabaseDown": "pg_up == 0",
    "ManalyticsRedisDown": "redis_up == 0",
    "ManalyticsDiskLow": "< 0.10",
    "ManalyticsMemoryHigh": "> 0.80",
    "ManalyticsSourceFetchStale": "> 36 * 3600",
    "ManalyticsIngestionStale": "> 36 * 3600",
    "ManalyticsTaskFailureRate": "manalytics_task_failed_total",
    "ManalyticsRefreshStale": "manalytics_refresh_generation_age_seconds",
    "ManalyticsQuarantineGrowth": "manalytics_source_quarantined_pages",
    "ManalyticsUnknownRateJump": "offset 1d",
    "ManalyticsQueueBacklog": "redis_key_size",
    "ManalyticsApiLatencyP95": "histogram_quantile(0.95",
}


def run(argv: list[str], stdout_only: bool = False) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout if stdout_only else result.stdout + result.stderr


def alerts() -> list[dict[str, Any]]:
    data = read_yaml(RULES)
    assert isinstance(data, dict)
    return [rule for group in data["groups"] for rule in group["rules"] if "alert" in rule]


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: Path) -> set[str]:
    return {
        slug(line.lstrip("#"))
        for line in markdown.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


def test_promtool_checks_the_rules() -> None:
    out = run([tool("promtool", "prometheus"), "check", "rules", str(RULES)])
    assert f"SUCCESS: {len(alerts())} rules found" in out


def test_promtool_unit_tests_pass() -> None:
    assert RULE_TESTS
    out = run([tool("promtool", "prometheus"), "test", "rules", *map(str, RULE_TESTS)])
    assert "FAILED" not in out and out.count("SUCCESS") == len(RULE_TESTS)


def test_promtool_unit_tests_catch_a_wrong_threshold(tmp_path: Path) -> None:
    """The unit tests are not vacuous: the seed's 5 % changed back to 1 % makes them fail."""
    rules = RULES.read_text(encoding="utf-8")
    assert "> 0.05" in rules
    (tmp_path / "manalytics.rules.yml").write_text(rules.replace("> 0.05", "> 0.01"))
    (tmp_path / "tests").mkdir()
    for test in RULE_TESTS:
        shutil.copy(test, tmp_path / "tests" / test.name)
    result = subprocess.run(
        [tool("promtool", "prometheus"), "test", "rules",
         *(str(tmp_path / "tests" / test.name) for test in RULE_TESTS)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "ManalyticsApiErrorRate" in result.stdout + result.stderr


def test_every_alert_is_required_and_unit_tested() -> None:
    rules = {rule["alert"]: rule for rule in alerts()}
    for name, fragment in REQUIRED.items():
        assert name in rules, f"missing alert {name}"
        assert fragment in rules[name]["expr"], (name, rules[name]["expr"])
    fired: set[str] = set()
    for path in RULE_TESTS:
        data = read_yaml(path)
        assert isinstance(data, dict)
        for case in data["tests"]:
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    fired.add(check["alertname"])
    assert set(rules) <= fired, f"alerts never shown firing: {set(rules) - fired}"


def test_every_alert_has_severity_summary_and_a_runbook_section() -> None:
    for rule in alerts():
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        annotations = rule["annotations"]
        assert annotations["summary"]
        path, _, anchor = annotations["runbook_url"].partition("#")
        runbook = OPS.parent / path
        assert path.startswith("ops/runbooks/") and runbook.is_file(), rule["alert"]
        assert anchor in anchors(runbook), f"{rule['alert']}: no section #{anchor} in {path}"


def test_every_metric_used_is_listed_with_its_exporter() -> None:
    listed = set(re.findall(r"^\| `([a-zA-Z_:]+)`", (OPS / "alerts" / "METRICS.md").read_text(),
                            re.MULTILINE))  # fmt: skip
    used = metric_names(" ".join(rule["expr"] for rule in alerts()))
    for dashboard in (OPS / "dashboards").glob("*.json"):
        used |= metric_names(dashboard.read_text(encoding="utf-8"))
    assert used <= listed, f"not in ops/alerts/METRICS.md: {sorted(used - listed)}"


def metric_names(text: str) -> set[str]:
    names = re.findall(r"\b(up|(?:flask|manalytics|pg|redis|node|nginx)_[A-Za-z0-9_]+)\b", text)
    return {re.sub(r"_(bucket|count|sum)$", "", name) for name in names}


def test_prometheus_config_is_valid_and_loads_the_rules(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    shutil.copy(RULES, rules_dir / RULES.name)
    config = PROMETHEUS.read_text(encoding="utf-8")
    assert "/etc/prometheus/rules/*.rules.yml" in config
    (tmp_path / "prometheus.yml").write_text(
        config.replace("/etc/prometheus/rules/", f"{rules_dir}/")
    )
    out = run([tool("promtool", "prometheus"), "check", "config", str(tmp_path / "prometheus.yml")])
    assert "SUCCESS: 1 rule files found" in out
    jobs = {job["job_name"] for job in read_yaml(PROMETHEUS)["scrape_configs"]}  # type: ignore[index]
    assert {"manalytics-api", "postgres", "redis", "node"} <= jobs


def test_alertmanager_config_is_valid_and_routes_by_severity() -> None:
    amtool = tool("amtool", "prometheus-alertmanager")
    run([amtool, "check-config", str(ALERTMANAGER)])
    for severity in ("page", "ticket"):
        out = run([amtool, "config", "routes", "test", f"--config.file={ALERTMANAGER}",
                   "alertname=X", f"severity={severity}"], stdout_only=True)  # fmt: skip
        assert out.strip() == severity


@pytest.mark.parametrize("path", RULE_TESTS, ids=lambda p: p.name)
def test_rule_tests_point_at_the_rules_file(path: Path) -> None:
    data = read_yaml(path)
    assert isinstance(data, dict)
    assert [(path.parent / f).resolve() for f in data["rule_files"]] == [RULES.resolve()]
