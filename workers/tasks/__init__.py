"""Celery task modules. Each task has an explicit ``<domain>.<verb>`` name and a queue.

Modules are listed in ``workers.celery_app.TASK_MODULES`` and imported by the worker at
start-up; the API never imports them (it enqueues by name).
"""
