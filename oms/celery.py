"""The Celery application: ``celery -A oms worker`` and ``celery -A oms beat``."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

app = Celery("oms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _recycle_database_connections(**_kwargs: Any) -> None:
    """Around every task, what Django does around every request: a connection that is broken
    or older than ``CONN_MAX_AGE`` is closed, a healthy one is kept for the next task. (Celery
    would otherwise close it after every task unless ``CELERY_DB_REUSE_MAX`` is set, and a
    worker would open a new PostgreSQL connection per email.)"""
    from django.db import close_old_connections

    close_old_connections()
