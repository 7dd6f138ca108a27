"""Metagame statistics (no Flask or Celery imports).

Pure modules (no database):

* :mod:`pipelines.stats.intervals` — clustered CR2, Wilson and Clopper–Pearson intervals;
* :mod:`pipelines.stats.outcomes` — match outcome from game scores, byes, de-duplication;
* :mod:`pipelines.stats.windows` — meta periods, rolling/custom windows, weekly buckets;
* :mod:`pipelines.stats.tiers` — average-share cut, mean/SD tier bands, outlier removal;
* :mod:`pipelines.stats.matchups` — matchup matrix with an "Other" bucket;
* :mod:`pipelines.stats.decklists` — card usage and the stock decklist;
* :mod:`pipelines.stats.reference_stats` — plain-Python reference counts used to check the SQL.

Database modules (they take a connection, or a DSN for the refresh):

* :mod:`pipelines.stats.refresh` — the refresh transaction (lock, log, generation);
* :mod:`pipelines.stats.aggregates` — the daily/weekly statistics tables, per dirty day;
* :mod:`pipelines.stats.generation` — the standard-window tables of a generation;
* :mod:`pipelines.stats.periods` — meta periods and the standard windows of each format;
* :mod:`pipelines.stats.window_stats` — statistics of any window (refresh and custom reads);
* :mod:`pipelines.stats.store` — the read side.

The definitions are documented in ``METHODOLOGY.md`` at the repository root.
"""
