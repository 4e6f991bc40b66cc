"""Settings for the test suite: always the real PostgreSQL and Redis.

Both default to the local servers and can be pointed elsewhere with ``DATABASE_URL`` and
``REDIS_URL``; ``tests/conftest.py`` stops the run at once when either cannot be reached.
"""

import os

from kombu import Exchange, Queue

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/oms")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")

from oms.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests

# Tests render pages without running collectstatic first: serve from the app folders.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The live server answers each request in a new thread; a persistent connection there would
# outlive the thread and keep the test database busy when the run drops it.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

# Each test process publishes to its own queue, which the real-worker tests consume; messages
# left by other tests never reach another process's worker.
# The database name keeps runs on different databases (several checkouts) apart too.
# A worker started by a test is given that test process's queue (OMS_TEST_QUEUE), so what
# it publishes itself (a retry) goes back to the queue it consumes.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("OMS_TEST_QUEUE") or (
    f"oms-test-{os.environ['DATABASE_URL'].rsplit('/', 1)[-1]}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
)
# Routing off: every task (emails, labels, webhooks included) goes to that one queue. The
# production routes are checked by tests/common/test_celery_routing.py.
CELERY_TASK_QUEUES = (
    Queue(CELERY_TASK_DEFAULT_QUEUE, Exchange(CELERY_TASK_DEFAULT_QUEUE), routing_key=CELERY_TASK_DEFAULT_QUEUE),
)
CELERY_TASK_ROUTES = {}

# Workers started by the tests keep mail in memory unless a test points them at its own SMTP
# server (EMAIL_HOST): the console backend would fill the pipe nobody reads.
if not EMAIL_HOST:  # noqa: F405
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
