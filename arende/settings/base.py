"""Ärende settings. Everything that differs between installations comes from the environment.

See README.md, "Configuration", for the variables. In production mode the process refuses to
start with a default secret, with DEBUG on or without ALLOWED_HOSTS.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from arende.settings.env import Env

env = Env()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env.str("ARENDE_VAR_DIR", str(BASE_DIR / "var")))

MODE = env.choice("ARENDE_MODE", "development", ("development", "production", "test"))
PRODUCTION = MODE == "production"

DEVELOPMENT_SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", "" if PRODUCTION else DEVELOPMENT_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=MODE == "development")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)

if PRODUCTION:
    if not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY or SECRET_KEY.startswith("insecure"):
        raise ImproperlyConfigured("SECRET_KEY must be set to a secret value in production.")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production.")
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be false in production.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must name the host names in production.")

INSTALLED_APPS = [
    "arende.core",
    "arende.people",
    "arende.servicedesk",
    "arende.sla",
    "arende.mail",
    "arende.operations",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "arende.core.middleware.RequestContextMiddleware",
    "arende.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "arende.core.middleware.PreferredLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "arende.urls"
WSGI_APPLICATION = "arende.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "arende" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "arende.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'arende.sqlite3'}"),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "arende.core.access.LoginBackend",  # allauth's login; no permissions of Django's own
    "arende.core.access.RoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: log in with e-mail, no self sign-up (the IT unit creates the accounts).
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "arende.core.auth_adapter.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Ärende"

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "arende" / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True
# Off, so that ids printed into links and form values stay plain digits ("1264", not "1 264").
# Figures meant for people are grouped with |intcomma, which uses the Swedish separator.
USE_THOUSAND_SEPARATOR = False
FORMAT_MODULE_PATH = ["arende.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "arende" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = not PRODUCTION

# Security headers. The Content-Security-Policy allows nothing but this origin: every asset is
# vendored, and no page makes a request elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sessions are read from the cache (written through to the database): one query less on every
# page. Logging out, a password change and deactivation still act at once (the user row is read
# on every request).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])
if env.bool("BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# Mail. Outbound goes through SMTP in production; in development it is printed to the console.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
# Links in mails point here (the address people reach Ärende at).
SITE_URL = env.str("SITE_URL", "http://localhost:8000")
# Mailbox passwords and client secrets are encrypted with a key derived from this (default:
# SECRET_KEY). Set it to keep them readable when SECRET_KEY is rotated.
MAIL_SECRET_KEY = env.str("MAIL_SECRET_KEY", "")
EMAIL_HOST = env.str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true.")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", 30, minimum=1, maximum=600)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "arende@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background jobs: one API (arende.core.jobs). Embedded default keeps the queue in SQLite under
# var/, so no server is needed; with REDIS_URL the queue lives in Redis and any number of workers
# on any number of machines consume it.
REDIS_URL = env.redis_url("REDIS_URL")
JOB_WORKERS = env.int("JOB_WORKERS", 2, minimum=1, maximum=64)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": env.str("JOB_QUEUE_NAME", "arende"),
        "url": REDIS_URL,
        "immediate": False,
        "utc": True,
        "consumer": {"workers": JOB_WORKERS, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": env.str("JOB_QUEUE_NAME", "arende"),
        "filename": str(VAR_DIR / "jobs.sqlite3"),
        "immediate": False,
        "utc": True,
        "consumer": {"workers": JOB_WORKERS, "worker_type": "thread"},
    }
# The cache holds login rate limits and used one-time codes, so it must be shared by every web
# process: Redis when scaled out, a file cache on the one machine of the embedded default.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "arende",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
HEARTBEAT_STALE_AFTER_SECONDS = env.int("HEARTBEAT_STALE_AFTER_SECONDS", 180, minimum=30)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "arende.core.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ärende API",
    "DESCRIPTION": "Service desk and IT governance for Swedish municipal IT units.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Without deep links the operation headers hold no link inside their button (axe:
    # nested-interactive); the page is still fully usable.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False, "persistAuthorization": False},
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind"; name each enum after its model so the schema reads well.
    "ENUM_NAME_OVERRIDES": {
        "TicketKindEnum": "arende.servicedesk.models.tickets.Ticket.Kind",
        "TicketActivityKindEnum": "arende.servicedesk.models.tickets.TicketActivity.Kind",
        "TicketLinkKindEnum": "arende.servicedesk.models.tickets.TicketLink.Kind",
        "StatusEnum": "arende.servicedesk.models.tickets.Ticket.Status",
        "ImpactEnum": "arende.servicedesk.models.catalogue.Impact",
        "MajorIncidentStatusEnum": "arende.operations.models.incidents.MajorIncident.Status",
        "MajorIncidentImpactEnum": "arende.operations.models.incidents.MajorIncident.Impact",
        "TimelineEntryKindEnum": "arende.operations.models.incidents.TimelineEntry.Kind",
        "ReviewStatusEnum": "arende.operations.models.incidents.PostIncidentReview.Status",
        "ProblemStatusEnum": "arende.operations.models.problems.Problem.Status",
        "ChangeStatusEnum": "arende.operations.models.changes.Change.Status",
        "ChangeOutcomeEnum": "arende.operations.models.changes.Change.Outcome",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
}
