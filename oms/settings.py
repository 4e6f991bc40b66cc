"""Settings, read from environment variables only.

With nothing set the system runs on an embedded default: a SQLite file and a Celery broker
kept in files under ``var/`` (no server to install). ``DATABASE_URL`` and ``REDIS_URL`` switch
to PostgreSQL and Redis. Production defaults are the safe ones: ``DEBUG`` is off unless set,
and a secret key must be given when it is off.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state: the embedded database and broker, the beat schedule, demo credentials.
VAR_DIR = Path(os.environ.get("OMS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true or false.")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string "
            "(or set DJANGO_DEBUG=true for local development)."
        )
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "oms.common",
    "inventory",
    "orders",
    "fulfillment",
    "shipping",
    "returns",
    "notifications",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "oms.common.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "oms.urls"
WSGI_APPLICATION = "oms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Short queries only: PostgreSQL's JIT spends hundreds of milliseconds compiling
        # dashboard aggregates over large tables that run in tens without it.
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "db.sqlite3"),
            # IMMEDIATE takes the write lock at BEGIN, so the web process and the worker wait
            # for each other instead of failing with "database is locked" mid-transaction.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Broker, cache ---------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("OMS_CACHE_PREFIX", "oms"),
        }
    }
else:
    # The embedded broker: kombu's filesystem transport keeps messages as files, which a
    # worker on the same machine consumes. Nothing to install or start.
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange tables; kombu would otherwise write them to ./control in the working tree.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Workers keep their database connection between tasks; oms/celery.py closes it around each
# task when it is broken or older than CONN_MAX_AGE, as Django does around requests.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Queues (docs/scaling.md): work that waits on someone else's server has its own queue, so a
# slow mail server, courier API or integrator endpoint delays only its own kind of work and
# each can get its own pool of workers. Everything else (beat housekeeping, the outbox sweep,
# invoices, KPIs, incidents, bulk jobs) stays on Celery's default queue, still named "celery"
# so messages already waiting in a broker at an upgrade are consumed. A worker started
# without -Q consumes every queue declared here; `-Q emails` gives a dedicated pool.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(name), routing_key=name) for name in ("celery", "emails", "labels", "webhooks")
)
# By task name, so the outbox's send_task(name) is routed too. A task not listed (and any new
# one) runs on the default queue; tests/common/test_celery_routing.py lists every task.
CELERY_TASK_ROUTES: dict[str, dict[str, str]] = {
    # SMTP: customer emails, prepared notifications (resends, alerts, digests), staff alerts.
    "notifications.tasks.email_customer": {"queue": "emails"},
    "notifications.tasks.send_notification": {"queue": "emails"},
    "notifications.tasks.alert_staff": {"queue": "emails"},
    # Courier APIs: shipping labels (first try and staff retries) and return labels.
    "shipping.tasks.create_order_labels": {"queue": "labels"},
    "returns.tasks.create_return_label": {"queue": "labels"},
    # Integrators' endpoints: the fan-out of an event and each signed delivery.
    "notifications.tasks.publish_webhook_event": {"queue": "webhooks"},
    "notifications.tasks.deliver_webhook": {"queue": "webhooks"},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "expire-unpaid-orders": {
        "task": "orders.tasks.expire_unpaid_orders",
        "schedule": env_int("OMS_EXPIRE_UNPAID_EVERY_SECONDS", 600),
    },
    # Relays side effects whose relay after commit was lost (broker down, worker killed).
    "sweep-outbox": {"task": "oms.common.tasks.sweep_outbox", "schedule": env_int("OMS_OUTBOX_SWEEP_SECONDS", 15)},
    "purge-idempotency-keys": {"task": "oms.common.tasks.purge_idempotency_keys", "schedule": 3600},
    # Paid orders get their ship-by day within this many seconds (computed as of payment).
    "stamp-delivery-promises": {
        "task": "shipping.tasks.stamp_delivery_promises",
        "schedule": env_int("OMS_PROMISE_EVERY_SECONDS", 30),
    },
    # Shipments with no tracking event for OMS_TRACKING_STALE_DAYS are flagged for staff.
    "flag-stale-shipments": {"task": "shipping.tasks.flag_stale_shipments", "schedule": 3600},
    # The exception inbox opens incidents for new problems and closes those that cleared.
    "sync-incidents": {"task": "dashboard.tasks.sync_incidents", "schedule": env_int("OMS_INCIDENTS_SYNC_SECONDS", 60)},
    # The KPI page reads a daily rollup; this brings the days that changed up to date.
    "refresh-kpis": {"task": "dashboard.tasks.refresh_kpis", "schedule": env_int("OMS_KPI_REFRESH_SECONDS", 60)},
}
# How far before the last look the KPI rollup looks again for changed orders: longer than any
# transaction that changes orders runs.
OMS_KPI_LOOKBACK_SECONDS = env_int("OMS_KPI_LOOKBACK_SECONDS", 600)

# --- Outbox ---------------------------------------------------------------------------------
# Which tasks act on which event: the emitting app names the event, this table the handlers.
_EMAIL = "notifications.tasks.email_customer"
_WEBHOOKS = "notifications.tasks.publish_webhook_event"
_ALERT = "notifications.tasks.alert_staff"
OMS_OUTBOX_ROUTES: dict[str, list[str]] = {
    "order.created": [_EMAIL, _WEBHOOKS],
    # Paid: the invoice is issued, then the payment confirmation goes out with it attached.
    "order.paid": ["orders.tasks.issue_invoice", _EMAIL, _WEBHOOKS],
    "order.picking": [_WEBHOOKS],
    "order.packed": ["shipping.tasks.create_order_labels", _WEBHOOKS],
    "order.shipped": [_EMAIL, _WEBHOOKS],
    "order.executed": [_EMAIL, _WEBHOOKS],
    "order.returned": [_EMAIL, _WEBHOOKS],
    "order.cancelled": [_EMAIL, _WEBHOOKS],
    "payment.received": [_WEBHOOKS],
    # No webhook event type describes a refund of its own (docs/webhooks.md; a return's refund
    # is told by return.refunded): the customer email only.
    "refund.issued": [_EMAIL],
    "shipment.tracking_updated": [_EMAIL, _WEBHOOKS],
    "stock.low": [_ALERT, _WEBHOOKS],
    "label.failed": [_ALERT],
    # Staff changed an order before picking: the customer is told what changed.
    "order.updated": [_EMAIL],
    # A few days after delivery the customer is asked to rate the order (notifications beat).
    "order.feedback_requested": [_EMAIL],
    # Returns (RMAs): the customer is emailed the request, the decision and the parcel's
    # arrival; the refund email comes from refund.issued. A withdrawn (cancelled) return
    # emails nobody. Inspection is the warehouse's business: not routed.
    "return.requested": [_EMAIL, _WEBHOOKS],
    # Approved: the return label is made (when the order's carrier takes them) before the
    # email, which then links to it.
    "return.approved": ["returns.tasks.create_return_label", _EMAIL, _WEBHOOKS],
    "return.rejected": [_EMAIL, _WEBHOOKS],
    "return.cancelled": [_WEBHOOKS],
    "return.received": [_EMAIL, _WEBHOOKS],
    "return.refunded": [_WEBHOOKS],
}
# A message relayed or running is not relayed again by the sweep before this many seconds.
OMS_OUTBOX_LEASE_SECONDS = env_int("OMS_OUTBOX_LEASE_SECONDS", 300)
# Retries wait this long, doubled per attempt (capped at an hour).
OMS_OUTBOX_RETRY_BASE_SECONDS = env_int("OMS_OUTBOX_RETRY_BASE_SECONDS", 30)

# --- Auth ------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "staff-login"
LOGIN_REDIRECT_URL = "dashboard:start"
LOGOUT_REDIRECT_URL = "staff-login"

# --- Security --------------------------------------------------------------------------------
# Behind a TLS-terminating proxy, set OMS_BEHIND_HTTPS_PROXY=true: Django then trusts the
# proxy's X-Forwarded-Proto header, redirects plain HTTP and marks cookies secure.
BEHIND_HTTPS = env_bool("OMS_BEHIND_HTTPS_PROXY", False)
if BEHIND_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = BEHIND_HTTPS
SESSION_COOKIE_SECURE = BEHIND_HTTPS
CSRF_COOKIE_SECURE = BEHIND_HTTPS
SECURE_HSTS_SECONDS = env_int("OMS_HSTS_SECONDS", 31536000) if BEHIND_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = BEHIND_HTTPS
# Preloading is the owner of the whole registrable domain's decision (the list takes the apex
# and every subdomain, for good), not one application's: opt in with OMS_HSTS_PRELOAD=true.
SECURE_HSTS_PRELOAD = BEHIND_HTTPS and env_bool("OMS_HSTS_PRELOAD", False)
# security.W021 ("SECURE_HSTS_PRELOAD is not True") asks for exactly that decision, which the
# system usually cannot make (it runs on a shop's subdomain): the setting above answers it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("OMS_MAX_REQUEST_BYTES", 2 * 1024 * 1024)
# A request body larger than this is refused with 413 before anything reads it, whatever its
# type (JSON, CSV, form): oms.common.middleware.RequestSizeLimitMiddleware.
OMS_MAX_REQUEST_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE
# Content Security Policy (django-csp) on every response that does not set its own (the
# sandboxed email frames do): pages load scripts, styles and images from this site only, run no
# inline script or style, and cannot be framed. Templates therefore keep CSS and JavaScript in
# static files (static/staff/, static/notifications/).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- Mail (Django's own names) -------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "shop@localhost")
# Without a mail server, mail is written to the log instead of being lost silently.
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
# A mail server that accepts the connection and then hangs must not hold a worker forever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

# --- I18N, static ----------------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("OMS_LANGUAGE_CODE", "en-us")
TIME_ZONE = os.environ.get("OMS_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]  # vendored front-end packages: static/vendor/VERSIONS.md
STATIC_ROOT = Path(os.environ.get("OMS_STATIC_ROOT", BASE_DIR / "staticfiles"))
# Files the system makes for staff to download later (bulk label PDFs, CSV exports). Web and
# workers must see the same folder: one machine, or a shared volume (docker-compose.yml).
MEDIA_ROOT = Path(os.environ.get("OMS_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"  # never served as such: downloads go through a view that checks permissions

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("OMS_LOG_LEVEL", "INFO")},
}

# --- REST API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oms.common.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["oms.common.parsers.JSONParser"],  # deep nesting is a 400 too
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "oms.common.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,
    # OPTIONS is not part of the API (the OpenAPI schema describes it): answer 405 rather than
    # DRF's metadata, which needs a serializer_class that action-only viewsets do not have.
    "DEFAULT_METADATA_CLASS": None,
    # Per client address, in the cache (oms.common.throttling); scopes not named get 10/min.
    "DEFAULT_THROTTLE_RATES": {
        # Customers looking an order up by number and email or postal code at /track/.
        "order_lookup": os.environ.get("OMS_ORDER_LOOKUP_RATE", "10/hour"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "OMS API",
    "DESCRIPTION": (
        "Order management API. Authenticate with `Authorization: Bearer <key>` "
        "(keys from `python manage.py create_api_client NAME` or the admin). Errors are JSON "
        '`{"code", "message", "fields"?, "extra"?}`; `code` is stable.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.enums.OrderStatus",
        "SalesChannelEnum": "orders.enums.SalesChannel",
        "PaymentMethodEnum": "orders.enums.PaymentMethod",
        "PaymentStatusEnum": "orders.enums.PaymentStatus",
        "OrderEventKindEnum": "orders.enums.OrderEventKind",
        "ActorKindEnum": "oms.common.actors.ActorKind.choices",
        "WebhookEventTypeEnum": "notifications.enums.WebhookEventType",
        "WebhookDeliveryStateEnum": "notifications.enums.DeliveryState",
    },
}

# --- Domain settings -------------------------------------------------------------------------
OMS_ORDER_NUMBER_PREFIX = os.environ.get("OMS_ORDER_NUMBER_PREFIX", "OMS-")
# Returns: RMA numbers are this prefix and a number; customers may ask for a return this many
# days after delivery (staff with the permission later).
OMS_RETURN_NUMBER_PREFIX = os.environ.get("OMS_RETURN_NUMBER_PREFIX", "RMA-")
OMS_RETURN_WINDOW_DAYS = env_int("OMS_RETURN_WINDOW_DAYS", 30)
OMS_DEFAULT_CURRENCY = os.environ.get("OMS_DEFAULT_CURRENCY", "EUR")
# The shop's name as customers know it, printed at the top of every packing slip.
OMS_SHOP_NAME = os.environ.get("OMS_SHOP_NAME", "OMS")
# Orders whose stock is short: refused (409) unless this is on or the request says otherwise.
OMS_ALLOW_BACKORDER = env_bool("OMS_ALLOW_BACKORDER", False)
OMS_UNPAID_ORDER_TTL_HOURS = env_int("OMS_UNPAID_ORDER_TTL_HOURS", 72)
OMS_IDEMPOTENCY_KEY_TTL_HOURS = env_int("OMS_IDEMPOTENCY_KEY_TTL_HOURS", 24)
# How long a staff token (POST /api/v1/auth/tokens/, for handheld scanners) works: one shift.
OMS_STAFF_TOKEN_TTL_HOURS = env_int("OMS_STAFF_TOKEN_TTL_HOURS", 12)
# Fulfillment: the most orders one pick list may take; how far a weighed package may be off
# its expected weight (units + box) before a supervisor must approve it: the larger of the two.
OMS_PICK_BATCH_SIZE = env_int("OMS_PICK_BATCH_SIZE", 10)
OMS_PACK_WEIGHT_TOLERANCE_PERCENT = env_int("OMS_PACK_WEIGHT_TOLERANCE_PERCENT", 10)
OMS_PACK_WEIGHT_TOLERANCE_GRAMS = env_int("OMS_PACK_WEIGHT_TOLERANCE_GRAMS", 50)
# A shipment with no tracking event for this many days is flagged as stale.
OMS_TRACKING_STALE_DAYS = env_int("OMS_TRACKING_STALE_DAYS", 5)
# A label whose carrier stays unreachable is tried this many times (backoff from
# OMS_OUTBOX_RETRY_BASE_SECONDS), then shown to staff as failed with a retry action.
OMS_LABEL_MAX_ATTEMPTS = env_int("OMS_LABEL_MAX_ATTEMPTS", 6)
# A carrier API (karrio carriers) that has not answered after this long counts as unreachable
# for that attempt.
OMS_CARRIER_TIMEOUT_SECONDS = env_int("OMS_CARRIER_TIMEOUT_SECONDS", 30)

# --- Notifications, documents and webhooks -------------------------------------------------------
# Emails are branded and formatted from these: the shop's name, logo (an https URL the mail
# client loads), where customers get help, and the locale for dates and money (de_DE, en_GB...).
OMS_SHOP_LOGO_URL = os.environ.get("OMS_SHOP_LOGO_URL", "")
OMS_SUPPORT_EMAIL = os.environ.get("OMS_SUPPORT_EMAIL", DEFAULT_FROM_EMAIL)
OMS_SUPPORT_PHONE = os.environ.get("OMS_SUPPORT_PHONE", "")
OMS_SHOP_LOCALE = os.environ.get("OMS_SHOP_LOCALE", "en_US")
# The address customers reach the system at: links in emails (the order-status page) start here.
OMS_SITE_URL = os.environ.get("OMS_SITE_URL", "http://localhost:8000").rstrip("/")
# An email whose mail server does not answer is retried (backoff from
# OMS_OUTBOX_RETRY_BASE_SECONDS) this many times, then shown to staff as failed.
OMS_EMAIL_MAX_ATTEMPTS = env_int("OMS_EMAIL_MAX_ATTEMPTS", 10)
# Invoices are numbered <prefix><year>-<n>, n counting from 1 each year without gaps.
OMS_INVOICE_PREFIX = os.environ.get("OMS_INVOICE_PREFIX", "INV-")
# The seller printed on invoices (frozen on each invoice when it is issued): legal name,
# postal address (lines separated by "|") and tax (VAT) number.
OMS_SELLER_NAME = os.environ.get("OMS_SELLER_NAME", "") or OMS_SHOP_NAME
OMS_SELLER_ADDRESS = [line.strip() for line in os.environ.get("OMS_SELLER_ADDRESS", "").split("|") if line.strip()]
OMS_SELLER_TAX_ID = os.environ.get("OMS_SELLER_TAX_ID", "")
# Webhook deliveries are retried with exponential backoff for this many hours, then dead.
OMS_WEBHOOK_RETRY_HOURS = env_int("OMS_WEBHOOK_RETRY_HOURS", 24)
OMS_WEBHOOK_TIMEOUT_SECONDS = env_int("OMS_WEBHOOK_TIMEOUT_SECONDS", 10)
# A safety cap on attempts; the retry window above is what normally ends them.
OMS_WEBHOOK_MAX_ATTEMPTS_CAP = env_int("OMS_WEBHOOK_MAX_ATTEMPTS_CAP", 100)
# Which staff role hears of what (every active member of the group with an email address).
OMS_ALERT_ROLES = {
    "staff_low_stock": os.environ.get("OMS_ALERT_LOW_STOCK_ROLE", "manager"),
    "staff_label_failed": os.environ.get("OMS_ALERT_LABEL_FAILED_ROLE", "shipper"),
    "staff_late_orders": os.environ.get("OMS_ALERT_LATE_ORDERS_ROLE", "manager"),
}
# The late-orders digest goes out once a day at this hour (UTC, as every beat schedule).
OMS_LATE_DIGEST_HOUR = env_int("OMS_LATE_DIGEST_HOUR", 7)
# Customers are asked to rate an order this many days after it was delivered (hourly check).
OMS_FEEDBACK_DELAY_DAYS = env_int("OMS_FEEDBACK_DELAY_DAYS", 3)
CELERY_BEAT_SCHEDULE["request-feedback"] = {"task": "notifications.tasks.request_feedback", "schedule": 3600}
CELERY_BEAT_SCHEDULE["late-orders-digest"] = {
    "task": "notifications.tasks.send_late_orders_digest",
    "schedule": crontab(minute=0, hour=OMS_LATE_DIGEST_HOUR),
}
