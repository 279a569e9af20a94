"""Settings for Kefu, read once from the environment.

Every variable is listed in `.env.example`. Embedded mode (`make run`: SQLite, the in-memory
channel layer, eager Celery, the demo's secret key) is chosen with KEFU_EMBEDDED=true, never
inferred from a missing variable; everything else is production, which refuses to start
without a SECRET_KEY of its own and sends the HTTPS headers `manage.py check --deploy` asks for.
"""

import ipaddress
import os
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


class _NonEmptyEnvironment(Mapping[str, str]):
    """The environment without its empty variables: an empty one (as copied from
    .env.example) means "use the default", not "empty". Read through, not copied, and
    os.environ itself is left as it is."""

    def __getitem__(self, name: str) -> str:
        value = os.environ[name]
        if value == "":
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return (name for name, value in os.environ.items() if value != "")

    def __len__(self) -> int:
        return sum(1 for _ in self)


env = environ.Env()
env.ENVIRON = _NonEmptyEnvironment()

REDIS_URL: str = env.str("REDIS_URL", default="")
EMBEDDED: bool = env.bool("KEFU_EMBEDDED", default=False)
DEBUG: bool = env.bool("DEBUG", default=False)
# Served over HTTPS behind a proxy: secure cookies, HSTS, redirects to https.
_PRODUCTION = not (EMBEDDED or DEBUG)

_INSECURE_DEMO_KEY = "kefu-embedded-demo-key-not-for-production-use-0123456789"
SECRET_KEY: str = env.str("SECRET_KEY", default="")
# Fernet keys for secrets stored in the database (kefu/fields.py), comma-separated: the first
# encrypts, all decrypt. Empty: one key derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS: list[str] = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not EMBEDDED and SECRET_KEY in ("", _INSECURE_DEMO_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a secret of this deployment's own "
        "(or KEFU_EMBEDDED=true for the local demo, as `make run` does)"
    )
SECRET_KEY = SECRET_KEY or _INSECURE_DEMO_KEY

ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    # The admin site checks the second sign-in factor and signs in through kefu.accounts.
    "kefu.admin_site.KefuAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "csp",
    "django_htmx",
    "django_guid",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "kefu",
    "sla",
    "kb",
    "tickets",
    "aftersales",
    "feedback",
    "channels_ingest",
    "analytics",
]

MIDDLEWARE = [
    # First: every log line of the request, and the answer, carry its id (X-Request-ID).
    "django_guid.middleware.guid_middleware",
    "kefu.middleware.ProxyHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kefu.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes asks: turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kefu.urls"
WSGI_APPLICATION = "kefu.wsgi.application"
ASGI_APPLICATION = "kefu.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tickets.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'kefu.sqlite3'}"),
}
# Persistent connections outside embedded mode: opening a PostgreSQL connection per request
# costs more than most requests. Health checks drop a connection the server closed.
DATABASES["default"]["CONN_MAX_AGE"] = env.int(
    "DATABASE_CONN_MAX_AGE", default=0 if EMBEDDED else 60
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server, and a statement a connection has run
    # DATABASE_PREPARE_THRESHOLD times prepared, so PostgreSQL stops parsing and planning it
    # on every call (ADR 13: the ticket page's 40-odd queries). 0 goes back to Django's
    # default, parameters merged into the text on the client: for a pooler in transaction
    # mode, which cannot keep a connection's prepared statements.
    _prepare_threshold = env.int("DATABASE_PREPARE_THRESHOLD", default=5)
    if _prepare_threshold > 0:
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=_prepare_threshold
        )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the SLA ticker thread read while a request writes in embedded mode.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20}
    DATABASES["default"]["TEST"] = {"NAME": ""}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "kefu",
        },
        # The rate limiters' counters: this process's memory while Redis is unreachable
        # (kefu/ratelimit.py), so public pages keep answering; short timeouts so a Redis
        # that does not answer costs a request half a second, not a hang.
        "ratelimit": {
            "BACKEND": "kefu.ratelimit.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "kefu",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "kefu.channel_layer.RedisChannelLayer",
            "CONFIG": {
                # A socket waiting for its next event blocks in Redis for up to the layer's
                # 5 s (BZPOPMIN); redis-py's own read timeout must be longer, or every idle
                # socket's receive fails at 5 s (redis-py 8 reads with a 5 s timeout).
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                "prefix": env.str("CHANNEL_PREFIX", default="kefu"),
            },
        }
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "ratelimit",
        },
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Sign-in (docs/architecture.md, "Signing in"). django-axes counts failed sign-ins per
# username and client address together, so one office's shared address does not lock out
# everybody in it; the address comes from kefu.accounts.client_address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED: bool = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT: int = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "kefu.accounts.client_address"
AXES_LOCKOUT_CALLABLE = "kefu.accounts.lockout_response"
AXES_RESET_ON_SUCCESS = True
# The cool-off runs from the lockout; tries during it do not push it further.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Second factor (TOTP) for supervisors and admins who turn it on.
OTP_TOTP_ISSUER = "Kefu"
# Only staff have passwords (customers use one-time codes), so every password is a staff one.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tickets:queue"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
# Attachments larger than this are refused (the message is still taken in, with a note).
MAX_ATTACHMENT_BYTES: int = env.int("MAX_ATTACHMENT_BYTES", default=25 * 1024 * 1024)
# Files attached by hand (an agent's reply or note, a customer's upload on the status page or
# in the chat widget; tickets/files.py): images (re-encoded as JPEG, EXIF dropped) and PDFs
# only, each at most this large, at most this many at once. Links to them in a chat or app
# message stay valid this many days.
KEFU_UPLOAD_MAX_BYTES: int = env.int("KEFU_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
KEFU_UPLOAD_MAX_FILES: int = env.int("KEFU_UPLOAD_MAX_FILES", default=5)
KEFU_ATTACHMENT_LINK_DAYS: int = env.int("KEFU_ATTACHMENT_LINK_DAYS", default=30)
# A message's stored text (and quoted history, and HTML) is cut to this many characters; the
# whole of it is kept as an attachment of the message (tickets/services/intake.py).
KEFU_MESSAGE_BODY_MAX_CHARS: int = env.int("KEFU_MESSAGE_BODY_MAX_CHARS", default=100_000)
# Email: our domain for Message-IDs and per-ticket reply addresses (reply+TOKEN@domain; the
# mail server must deliver them to the inbound webhook or the polled mailbox).
KEFU_EMAIL_DOMAIN: str = env.str("KEFU_EMAIL_DOMAIN", default="kefu.localhost")
DEFAULT_FROM_EMAIL: str = env.str(
    "DEFAULT_FROM_EMAIL", default="客服 Kefu <support@kefu.localhost>"
)
EMAIL_HOST: str = env.str("EMAIL_HOST", default="")
EMAIL_PORT: int = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER: str = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD: str = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS: bool = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL: bool = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT: int = env.int("EMAIL_TIMEOUT", default=20)
# Acknowledge a new email ticket automatically (never to automatic mail; see docs/email.md).
EMAIL_AUTO_ACKNOWLEDGE: bool = env.bool("EMAIL_AUTO_ACKNOWLEDGE", default=True)
# The same for a ticket opened on each other channel: the customer gets its number and the
# status page's link in their language (a missed call's by SMS). tickets/services/acknowledgement.py
AUTO_ACKNOWLEDGE: dict[str, bool] = {
    "email": EMAIL_AUTO_ACKNOWLEDGE,
    "sms": env.bool("SMS_AUTO_ACKNOWLEDGE", default=True),
    "app": env.bool("APP_AUTO_ACKNOWLEDGE", default=True),
    "chat": env.bool("CHAT_AUTO_ACKNOWLEDGE", default=True),
    "phone": env.bool("PHONE_AUTO_ACKNOWLEDGE", default=True),
}
# IMAP mailboxes (configured in the admin) are polled this often by Celery beat.
IMAP_POLL_SECONDS: float = env.float("KEFU_IMAP_POLL_SECONDS", default=60.0)
IMAP_TIMEOUT_SECONDS: float = env.float("KEFU_IMAP_TIMEOUT_SECONDS", default=30.0)
# At most this many mails per poll of one mailbox; the next poll takes the rest.
IMAP_BATCH_SIZE: int = env.int("KEFU_IMAP_BATCH_SIZE", default=200)
# A poll stops taking new mails after this long, well inside its lock's 300 s.
IMAP_POLL_BUDGET_SECONDS = 120.0
# A customer's reply to a ticket closed less than this long ago reopens it; later replies
# open a new ticket linked to the old one.
REOPEN_WINDOW_DAYS: int = env.int("REOPEN_WINDOW_DAYS", default=7)
# Presence (docs/workspace.md): an online agent with no input on any page for this long is
# away; an agent's socket whose process stopped refreshing it drops out after the TTL.
KEFU_PRESENCE_AWAY_MINUTES: float = env.float("KEFU_PRESENCE_AWAY_MINUTES", default=10.0)
KEFU_PRESENCE_SOCKET_TTL_SECONDS: int = env.int("KEFU_PRESENCE_SOCKET_TTL_SECONDS", default=90)
if KEFU_PRESENCE_AWAY_MINUTES <= 0 or KEFU_PRESENCE_SOCKET_TTL_SECONDS < 10:
    raise ImproperlyConfigured(
        "KEFU_PRESENCE_AWAY_MINUTES must be positive, KEFU_PRESENCE_SOCKET_TTL_SECONDS at least 10"
    )
# How long after delivery (or after the order was placed, while it is not delivered) a
# customer may open an after-sales case, in hours, per product type (aftersales.models).
AFTERSALES_WINDOW_HOURS: dict[str, int] = {
    "fresh": env.int("AFTERSALES_WINDOW_HOURS_FRESH", default=48),
    "electronics": env.int("AFTERSALES_WINDOW_HOURS_ELECTRONICS", default=15 * 24),
    "general": env.int("AFTERSALES_WINDOW_HOURS_GENERAL", default=7 * 24),
}
# A photo a customer sends with an after-sales case may be at most this large (each; at
# most six per case). It is re-encoded as a JPEG of at most 2048 px (aftersales.photos).
AFTERSALES_PHOTO_MAX_BYTES: int = env.int("AFTERSALES_PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
# The shop's webhook for after-sales case changes (docs/aftersales.md, "Outbound webhook"):
# "" sends nothing. Each body is signed with HMAC-SHA256 under the secret.
AFTERSALES_WEBHOOK_URL: str = env.str("AFTERSALES_WEBHOOK_URL", default="")
AFTERSALES_WEBHOOK_SECRET: str = env.str("AFTERSALES_WEBHOOK_SECRET", default="")
AFTERSALES_WEBHOOK_TIMEOUT_SECONDS: float = env.float(
    "AFTERSALES_WEBHOOK_TIMEOUT_SECONDS", default=10.0
)
# After this many failed attempts a delivery is failed for good (and holds its case's later
# ones until it is retried from the admin).
AFTERSALES_WEBHOOK_MAX_ATTEMPTS: int = env.int("AFTERSALES_WEBHOOK_MAX_ATTEMPTS", default=15)
if AFTERSALES_WEBHOOK_URL and not AFTERSALES_WEBHOOK_SECRET:
    raise ImproperlyConfigured("AFTERSALES_WEBHOOK_URL needs AFTERSALES_WEBHOOK_SECRET")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "kefu" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if EMBEDDED or DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = EMBEDDED or DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS is terminated by the proxy (deploy/nginx.conf), which says so in X-Forwarded-Proto;
# kefu.middleware.ProxyHeadersMiddleware drops that header from anyone but a trusted proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_PRODUCTION)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if _PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=_PRODUCTION)
# The proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or networks).
KEFU_TRUSTED_PROXIES: list[str] = env.list("KEFU_TRUSTED_PROXIES", default=["127.0.0.1", "::1"])
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Every page loads its script and style from our own static files (no inline script, style
# or event handler: tests/test_csp.py scans the templates; htmx runs with eval off), so the
# policy allows nothing else. 'self' covers the same host's ws:/wss: for the live sockets.
# The chat widget runs on shops' pages under their policy, not this one.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tickets.authentication.IntegrationTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "tickets.api.schema.ScopedAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "kefu.json_input.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min"},
    "EXCEPTION_HANDLER": "tickets.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kefu API",
    "DESCRIPTION": "Omnichannel customer-service ticketing: intake, tickets and integrations.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Fields named "status" with different choices: each choice set by its own name.
    "ENUM_NAME_OVERRIDES": {
        "TicketStatus": "tickets.models.Status",
        "CaseEventStatus": "aftersales.models.EventStatus",
    },
}

# SLA timers: how often Celery beat (or the embedded ticker) looks for due warnings and breaches.
SLA_TICK_SECONDS: float = env.float("SLA_TICK_SECONDS", default=5.0)
# The outbox (tickets/services/outbox.py): how long a worker may take over a send or a bot
# decision before the sweep gives it to another, and how often the sweep runs.
OUTBOX_LEASE_SECONDS: int = env.int("OUTBOX_LEASE_SECONDS", default=120)
OUTBOX_SWEEP_SECONDS: float = env.float("OUTBOX_SWEEP_SECONDS", default=10.0)
# Stored inbound payloads still waiting after INBOUND_STALE_SECONDS (their task was lost, or
# their worker died) are taken in by the inbound sweep, which runs every INBOUND_SWEEP_SECONDS.
INBOUND_STALE_SECONDS: int = env.int("INBOUND_STALE_SECONDS", default=60)
INBOUND_SWEEP_SECONDS: float = env.float("INBOUND_SWEEP_SECONDS", default=30.0)
# The sweep stands back while more than INBOUND_SWEEP_BACKLOG tasks wait in the task queue (the
# workers are behind, and the records it would drain are queued already). A few periodic tasks
# queued beside it are no backlog.
INBOUND_SWEEP_BACKLOG: int = env.int("INBOUND_SWEEP_BACKLOG", default=20)
# How often the logistics anomaly scan looks for parcels without news, stuck at a sorting
# centre or late (docs/aftersales.md).
LOGISTICS_SCAN_SECONDS: float = env.float("LOGISTICS_SCAN_SECONDS", default=300.0)
# Carrier event webhooks (`/webhooks/logistics/<source>/`): each source and its secret, e.g.
# "generic=…,kuaidi100=…" (the generic format's HMAC key; kuaidi100's salt). A source that is
# not listed is answered 404.
LOGISTICS_WEBHOOK_SECRETS: dict[str, str] = env.dict("LOGISTICS_WEBHOOK_SECRETS", default={})
# How far a generic webhook's X-Kefu-Timestamp may be from now before it is refused as a replay.
LOGISTICS_WEBHOOK_REPLAY_WINDOW_SECONDS: int = env.int(
    "LOGISTICS_WEBHOOK_REPLAY_WINDOW_SECONDS", default=300
)

# Retention of personal data, in days (docs/privacy.md); 0 keeps that kind for ever. Enforced
# every night at RETENTION_HOUR:30 (TIME_ZONE) by Celery beat or the embedded ticker.
RETENTION_INBOUND_PAYLOAD_DAYS: int = env.int("RETENTION_INBOUND_PAYLOAD_DAYS", default=30)
RETENTION_OUTBOX_DAYS: int = env.int("RETENTION_OUTBOX_DAYS", default=30)
RETENTION_ACCESS_CODE_DAYS: int = env.int("RETENTION_ACCESS_CODE_DAYS", default=30)
RETENTION_CLOSED_TICKET_DAYS: int = env.int("RETENTION_CLOSED_TICKET_DAYS", default=3 * 365)
RETENTION_HOUR: int = env.int("RETENTION_HOUR", default=3)
for _name in (
    "RETENTION_INBOUND_PAYLOAD_DAYS",
    "RETENTION_OUTBOX_DAYS",
    "RETENTION_ACCESS_CODE_DAYS",
    "RETENTION_CLOSED_TICKET_DAYS",
):
    if globals()[_name] < 0:
        raise ImproperlyConfigured(f"{_name} must be 0 (keep for ever) or a number of days")
if not 0 <= RETENTION_HOUR <= 23:
    raise ImproperlyConfigured("RETENTION_HOUR must be an hour of the day, 0 to 23")

# How often the ticket facts and rollups that reports read catch up with the tickets
# (analytics.facts; docs/metrics.md): reports trail live data by about this much.
ANALYTICS_FACTS_SECONDS: float = env.float("ANALYTICS_FACTS_SECONDS", default=10.0)
# Scheduled reports (docs/metrics.md): a week's or a month's report goes out at this hour
# (TIME_ZONE) on the day after the period ends; a failed send is tried again each hour, at
# most REPORTS_SEND_ATTEMPTS times.
REPORTS_SEND_HOUR: int = env.int("REPORTS_SEND_HOUR", default=8)
REPORTS_SEND_ATTEMPTS: int = env.int("REPORTS_SEND_ATTEMPTS", default=5)
if not 0 <= REPORTS_SEND_HOUR <= 23:
    raise ImproperlyConfigured("REPORTS_SEND_HOUR must be an hour of the day, 0 to 23")
if REPORTS_SEND_ATTEMPTS < 1:
    raise ImproperlyConfigured("REPORTS_SEND_ATTEMPTS must be at least 1")

# Celery. Without a broker every task runs eagerly, in the process that queued it.
# (memory://localhost/ rather than memory://: kombu warns about a URL without a host.)
CELERY_BROKER_URL: str = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost/")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER: bool = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# The queue of the tasks that apply the shop's case events (docs/aftersales.md): the default
# queue, or one of its own for workers started with `-Q` that do nothing else.
AFTERSALES_EVENTS_QUEUE: str = env.str("AFTERSALES_EVENTS_QUEUE", default="celery")
CELERY_TASK_ROUTES = {
    "aftersales.tasks.events_apply": {"queue": AFTERSALES_EVENTS_QUEUE},
    "aftersales.tasks.events_sweep": {"queue": AFTERSALES_EVENTS_QUEUE},
}
CELERY_BEAT_SCHEDULE = {
    # A tick not started within two intervals is dropped: the next one scans the same clocks,
    # so a backlog of stale ticks would only repeat work.
    "sla-tick": {
        "task": "sla.tasks.sla_tick",
        "schedule": SLA_TICK_SECONDS,
        "options": {"expires": SLA_TICK_SECONDS * 2},
    },
    "inbound-sweep": {
        "task": "channels_ingest.tasks.inbound_sweep",
        "schedule": INBOUND_SWEEP_SECONDS,
    },
    "imap-poll": {
        "task": "channels_ingest.tasks.imap_poll",
        "schedule": IMAP_POLL_SECONDS,
        "options": {"expires": IMAP_POLL_SECONDS},
    },
    "notifications-release": {"task": "tickets.tasks.notifications_release", "schedule": 30.0},
    # Agents with no live socket go offline, idle ones away; waiting tickets are given out.
    "presence-sweep": {
        "task": "tickets.tasks.presence_sweep",
        "schedule": 30.0,
        "options": {"expires": 60.0},
    },
    "logistics-scan": {
        "task": "aftersales.tasks.logistics_scan",
        "schedule": LOGISTICS_SCAN_SECONDS,
        "options": {"expires": LOGISTICS_SCAN_SECONDS},
    },
    "outbox-sweep": {
        "task": "tickets.tasks.outbox_sweep",
        "schedule": OUTBOX_SWEEP_SECONDS,
        "options": {"expires": OUTBOX_SWEEP_SECONDS * 2},
    },
    # The shop's webhook for case changes: retries and deliveries whose task was lost.
    "aftersales-webhook-sweep": {
        "task": "aftersales.tasks.webhook_sweep",
        "schedule": OUTBOX_SWEEP_SECONDS,
        "options": {"expires": OUTBOX_SWEEP_SECONDS * 2},
    },
    # Last week's quality sample, Monday night (docs/quality.md); a second run adds nothing.
    "quality-sample": {
        "task": "feedback.tasks.quality_sample_draw",
        "schedule": crontab(day_of_week=1, hour=2, minute=15),
        "options": {"expires": 3600.0},
    },
    # Survey invitations whose delay has passed, and the quarter's NPS sample
    # (docs/feedback.md).
    "surveys-sweep": {
        "task": "feedback.tasks.surveys_sweep",
        "schedule": OUTBOX_SWEEP_SECONDS,
        "options": {"expires": OUTBOX_SWEEP_SECONDS * 2},
    },
    "nps-quarter": {
        "task": "feedback.tasks.nps_quarter",
        "schedule": crontab(day_of_month=1, month_of_year="1,4,7,10", hour=10, minute=0),
        "options": {"expires": 3600.0},
    },
    # The shop's case events still queued (a lost ring, a worker that died).
    "aftersales-events-sweep": {
        "task": "aftersales.tasks.events_sweep",
        "schedule": OUTBOX_SWEEP_SECONDS,
        "options": {"expires": OUTBOX_SWEEP_SECONDS * 2},
    },
    "bot-ignored": {
        "task": "tickets.tasks.bot_answers_ignored",
        "schedule": 300.0,
        "options": {"expires": 300.0},
    },
    "analytics-facts": {
        "task": "analytics.tasks.facts_refresh",
        "schedule": ANALYTICS_FACTS_SECONDS,
        "options": {"expires": ANALYTICS_FACTS_SECONDS * 2},
    },
    # The contact forecast of the next two weeks (docs/staffing.md), every night.
    "analytics-forecast": {
        "task": "analytics.tasks.forecast_compute",
        "schedule": crontab(hour=1, minute=45),
        "options": {"expires": 3600.0},
    },
    # Scheduled reports that are due (docs/metrics.md), every hour; a second run sends nothing.
    "analytics-scheduled-reports": {
        "task": "analytics.tasks.reports_send_due",
        "schedule": crontab(minute=0),
        "options": {"expires": 3600.0},
    },
    # Personal data past its retention period (docs/privacy.md), every night.
    "retention": {
        "task": "tickets.tasks.retention_enforce",
        "schedule": crontab(hour=RETENTION_HOUR, minute=30),
        "options": {"expires": 3600.0},
    },
}

# Queued inbound processing: edges that only tell the sender the payload is stored (the app
# API, with a promised ticket number; the SMS webhooks) answer once it is, and a worker takes
# it in. Needs PostgreSQL (ticket ids are reserved from its sequence) and a broker; elsewhere,
# and when this is off, every edge takes the payload in before answering. APP_INTAKE_QUEUED is
# this variable's former name, still read when INBOUND_QUEUED is not set.
INBOUND_QUEUED: bool = env.bool(
    "INBOUND_QUEUED",
    default=env.bool("APP_INTAKE_QUEUED", default=not CELERY_TASK_ALWAYS_EAGER),
)
# Processing a stored inbound payload commits without waiting for PostgreSQL to flush it
# (synchronous_commit off for that transaction): the payload itself was committed durably
# before, and a crash only sends it back to the sweep. See docs/adr/0004.
INBOUND_ASYNC_COMMIT: bool = env.bool("INBOUND_ASYNC_COMMIT", default=True)
# A bot answer the customer has not replied to for this long is recorded as ignored.
BOT_FEEDBACK_WINDOW_HOURS: float = env.float("BOT_FEEDBACK_WINDOW_HOURS", default=24.0)

# SMS (Twilio or a Twilio-compatible gateway). SMS channels configured in the admin win; these
# serve a single-provider deployment.
TWILIO_ACCOUNT_SID: str = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN: str = env.str("TWILIO_AUTH_TOKEN", default="")
# Generic SMS gateway webhooks: how far a request's signed timestamp may be from our clock.
SMS_GATEWAY_REPLAY_WINDOW_SECONDS: int = env.int("SMS_GATEWAY_REPLAY_WINDOW_SECONDS", default=300)
TWILIO_FROM_NUMBER: str = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_API_BASE: str = env.str("TWILIO_API_BASE", default="https://api.twilio.com")
# The public base URL (https://helpdesk.shop.example) providers call back; also what webhook
# signatures are computed over when Kefu sits behind a proxy.
KEFU_PUBLIC_URL: str = env.str("KEFU_PUBLIC_URL", default="")
USE_X_FORWARDED_HOST: bool = env.bool("USE_X_FORWARDED_HOST", default=False)
# Customer notices (aftersales.services.notices): no non-urgent SMS in these hours (TIME_ZONE,
# "HH:MM-HH:MM", may cross midnight; "off": none); one due then waits until they end.
NOTICE_QUIET_HOURS: str = env.str("NOTICE_QUIET_HOURS", default="21:00-08:00")

# Delivery backends per channel, chosen like EMAIL_BACKEND. The outbox stores what would
# have been sent and shows it at /outbox/.
_OUTBOX = "channels_ingest.outbox.OutboxBackend"
APP_OUTBOUND_WEBHOOK_URL: str = env.str("APP_OUTBOUND_WEBHOOK_URL", default="")
APP_OUTBOUND_WEBHOOK_SECRET: str = env.str("APP_OUTBOUND_WEBHOOK_SECRET", default="")
KEFU_DELIVERY_BACKENDS: dict[str, str] = {
    "app": env.str(
        "DELIVERY_BACKEND_APP",
        default="channels_ingest.app.delivery.AppWebhookBackend"
        if APP_OUTBOUND_WEBHOOK_URL
        else _OUTBOX,
    ),
    "sms": env.str(
        "DELIVERY_BACKEND_SMS",
        default="channels_ingest.sms.delivery.TwilioBackend"
        if TWILIO_ACCOUNT_SID
        else "channels_ingest.outbox.SmsOutboxBackend",
    ),
    "email": env.str(
        "DELIVERY_BACKEND_EMAIL",
        default="channels_ingest.email.delivery.SmtpBackend" if EMAIL_HOST else _OUTBOX,
    ),
    # Chat replies go straight to the visitor's open widget (they wait in its history).
    "chat": env.str(
        "DELIVERY_BACKEND_CHAT", default="channels_ingest.chat.delivery.ChatSocketBackend"
    ),
    "phone": env.str("DELIVERY_BACKEND_PHONE", default=_OUTBOX),
}
DELIVERY_MAX_ATTEMPTS: int = env.int("DELIVERY_MAX_ATTEMPTS", default=5)

# The shop's orders API (tickets/orders.py): `{number}` in the URL is replaced by an order
# number a customer wrote; the answer names who placed it. Empty: no lookups.
ORDERS_API_URL: str = env.str("ORDERS_API_URL", default="")
ORDERS_API_TOKEN: str = env.str("ORDERS_API_TOKEN", default="")
KEFU_ORDERS_BACKEND: str = env.str(
    "ORDERS_BACKEND", default="channels_ingest.orders.ShopOrdersApi" if ORDERS_API_URL else ""
)
# An order stored longer ago than this is fetched again (in the background) when an agent
# opens a ticket linked to it (docs/aftersales.md).
ORDERS_STALE_SECONDS: int = env.int("ORDERS_STALE_SECONDS", default=600)

# Web chat widget (docs/chat.md): longest visitor message, messages per minute per socket
# (with a short burst allowance), messages shown again on reconnect, and how far ahead a
# shop may set the expiry of a visitor signature.
CHAT_MAX_MESSAGE_CHARS: int = env.int("CHAT_MAX_MESSAGE_CHARS", default=2000)
CHAT_MESSAGES_PER_MINUTE: int = env.int("CHAT_MESSAGES_PER_MINUTE", default=20)
CHAT_MESSAGE_BURST: int = env.int("CHAT_MESSAGE_BURST", default=5)
CHAT_HISTORY_SIZE: int = env.int("CHAT_HISTORY_SIZE", default=50)
CHAT_SIGNATURE_MAX_SECONDS: int = env.int("CHAT_SIGNATURE_MAX_SECONDS", default=7 * 24 * 3600)
# New anonymous chat conversations a minute, per client address and per chat site (0: no
# limit). Signed-in visitors and visitors already in a conversation are not counted.
CHAT_NEW_CONVERSATIONS_PER_ADDRESS: int = env.int("CHAT_NEW_CONVERSATIONS_PER_ADDRESS", default=10)
CHAT_NEW_CONVERSATIONS_PER_SITE: int = env.int("CHAT_NEW_CONVERSATIONS_PER_SITE", default=120)
# Photos and PDFs a chat visitor may send a minute (three times this per client address);
# their size and count limits are KEFU_UPLOAD_MAX_BYTES and KEFU_UPLOAD_MAX_FILES.
CHAT_UPLOADS_PER_MINUTE: int = env.int("CHAT_UPLOADS_PER_MINUTE", default=10)

# Self-service status page.
STATUS_CODE_TTL_SECONDS: int = env.int("STATUS_CODE_TTL_SECONDS", default=600)
# Attempts at a code per ticket per hour, across all the codes it was sent (a new code does
# not bring new attempts).
STATUS_CODE_MAX_ATTEMPTS: int = env.int("STATUS_CODE_MAX_ATTEMPTS", default=5)
# Codes sent per ticket, and per phone or email, in any hour and any day.
STATUS_CODES_PER_HOUR: int = env.int("STATUS_CODES_PER_HOUR", default=3)
STATUS_CODES_PER_DAY: int = env.int("STATUS_CODES_PER_DAY", default=10)
# A code request takes at least this long, whether or not the ticket and contact matched.
STATUS_LOOKUP_MIN_SECONDS: float = env.float("STATUS_LOOKUP_MIN_SECONDS", default=0.25)
STATUS_RATE_LIMIT: str = env.str("STATUS_RATE_LIMIT", default="10/m")
# The public help centre (/kb/), per client IP.
KB_PUBLIC_RATE_LIMIT: str = env.str("KB_PUBLIC_RATE_LIMIT", default="120/m")
RATELIMIT_ENABLE: bool = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_VIEW = "tickets.views.portal.rate_limited"
RATELIMIT_USE_CACHE = "ratelimit"
# Rate limits count the client, not the proxy in front of Kefu: X-Forwarded-For is believed
# only from KEFU_TRUSTED_PROXIES, read from the right (kefu/client_ip.py). A bad entry
# stops Kefu from starting rather than silently trusting nobody.
for _proxy in KEFU_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"KEFU_TRUSTED_PROXIES: {_error}") from None
RATELIMIT_IP_META_KEY = "kefu.client_ip.client_ip"


# Logs go to stdout: JSON lines in production (LOG_FORMAT=json), plain text in embedded mode
# and DEBUG. Every line of a request carries its id (request_id), which the answer returns in
# X-Request-ID; a server error is logged by django.request with its traceback.
DJANGO_GUID = {"GUID_HEADER_NAME": "X-Request-ID", "EXPOSE_HEADER": False}
_LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "django_guid.log_filters.CorrelationId"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(correlation_id)s %(message)s",
            "rename_fields": {"correlation_id": "request_id"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": env.str("LOG_FORMAT", default="json" if _PRODUCTION else "plain"),
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # Both reach the console through the root logger.
        "kefu": {"level": _LOG_LEVEL},
        # Refused requests, and server errors with their tracebacks (Django's default only
        # mails those, to ADMINS).
        "django.request": {"level": "WARNING", "filters": ["request_id"]},
        # The embedded server's (daphne's runserver) line per request: method, path, status,
        # seconds taken.
        "django.channels.server": {"level": "INFO"},
    },
}
