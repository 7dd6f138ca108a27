"""Pure, framework-free metagame statistics (no Flask, Celery or database imports).

Modules:

* :mod:`pipelines.stats.intervals` — clustered CR2, Wilson and Clopper–Pearson intervals;
* :mod:`pipelines.stats.outcomes` — match outcome from game scores, byes, de-duplication;
* :mod:`pipelines.stats.windows` — meta periods, rolling/custom windows, weekly buckets;
* :mod:`pipelines.stats.tiers` — average-share cut, mean/SD tier bands, outlier removal;
* :mod:`pipelines.stats.matchups` — matchup matrix with an "Other" bucket;
* :mod:`pipelines.stats.decklists` — card usage and the stock decklist;
* :mod:`pipelines.stats.reference_stats` — plain-Python reference counts used to check the SQL.

The definitions are documented in ``METHODOLOGY.md`` at the repository root.
"""
