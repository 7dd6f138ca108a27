"""``manalytics readiness [--url URL] [--markdown] ...``"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipelines.core.settings_loader import get_settings
from pipelines.readiness import Target, render, run_checks


def _readiness(args: argparse.Namespace) -> int:
    settings = get_settings()
    target = Target(
        url=args.url,
        settings=settings,
        http_url=args.http_url,
        database_url=args.database_url or settings.database_url,
        prometheus_url=args.prometheus_url,
        backup_dir=Path(args.backup_dir) if args.backup_dir else None,
        insecure=args.insecure,
    )
    results = run_checks(target)
    print(render(results, markdown=args.markdown))
    return 0 if all(r.passed for r in results) else 1


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "readiness", help="probe a running deployment: production checklist, PASS/FAIL"
    )
    parser.add_argument("--url", default="https://localhost", help="public HTTPS base URL")
    parser.add_argument("--http-url", help="plain-HTTP base URL (default: --url's host on 80)")
    parser.add_argument("--prometheus-url", help="Prometheus base URL (alerts, scrapes)")
    parser.add_argument("--database-url", help="default DATABASE_URL")
    parser.add_argument("--backup-dir", help="default BACKUP_DIR")
    parser.add_argument("--insecure", action="store_true", help="accept a self-signed certificate")
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    parser.set_defaults(func=_readiness)
