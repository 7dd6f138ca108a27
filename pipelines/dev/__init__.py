"""The developer runtime: embedded PostgreSQL and Redis under ``./var`` and the ``run`` command.

Only the CLI (``manalytics run`` and commands run without ``DATABASE_URL``), the benchmarks
and the tests import this package. Production processes (gunicorn, Celery worker and beat)
never do: they read their service URLs from settings alone, and ``manalytics run`` hands the
URLs of the services it started to the processes it starts.
"""
