"""Skerry's one settings module: every value comes from the environment (see .env.example)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from webapp.core.params import MAX_ID
from webapp.env import (
    ImproperSetting,
    env_bool,
    env_int,
    env_list,
    env_path,
    env_str,
    parse_database_url,
    writable_dir,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("SKERRY_VAR_DIR", BASE_DIR / "var")

DEBUG = env_bool("DJANGO_DEBUG", False)
if DEBUG:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-debug-only-key-not-for-production-use-0123456789")
else:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperSetting("DJANGO_SECRET_KEY must be at least 50 characters outside DEBUG")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "webapp.accounts.admin_config.ThrottledAdminConfig",  # django.contrib.admin, its login throttled
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "webapp.accounts",
    "webapp.catalog",
    "webapp.jobs",
    "webapp.detectors",
    "webapp.uploads",
    "webapp.reports",
    "webapp.maps",
    "webapp.api",
    "webapp.core",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "webapp.core.middleware.SecurityHeadersMiddleware",
    "webapp.core.middleware.BadParameterMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"

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
                "webapp.accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {"default": parse_database_url(env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'skerry.sqlite3'}"))}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not :memory:, so that worker processes started by tests share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"skerry-test-{os.getpid()}.sqlite3")}
    # The demo's web process and its workers write to one file: wait for the lock instead of failing with
    # "database is locked", take write locks at BEGIN (no deadlocked upgrades), and let readers run beside
    # a writer (WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=30, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# Failed logins are counted per username (as the backend looks it up) and per client address, in the database.
LOGIN_FAILURE_LIMIT = env_int("SKERRY_LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("SKERRY_LOGIN_ADDRESS_FAILURE_LIMIT", 20)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("SKERRY_LOGIN_FAILURE_WINDOW", 900)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env_path("SKERRY_STATIC_ROOT", BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed static files after collectstatic in production; served from the source folders otherwise.
STATIC_MANIFEST = env_bool("SKERRY_STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

MEDIA_ROOT = env_path("SKERRY_MEDIA_ROOT", VAR_DIR / "media")
UPLOAD_MAX_BYTES = env_int("SKERRY_UPLOAD_MAX_BYTES", 20 * 1024**3)
# Largest manifest import from the browser (the manifest and all its videos in one request), refused before
# the body is read.
IMPORT_MAX_BYTES = env_int("SKERRY_IMPORT_MAX_BYTES", 4 * 1024**3)
# Largest telemetry sidecar (.SRT, .GPX, .CSV) accepted with a video; it is read in the request that sends it.
TELEMETRY_MAX_BYTES = env_int("SKERRY_TELEMETRY_MAX_BYTES", 64 * 1024**2)
UPLOAD_CHUNK_BYTES = env_int("SKERRY_UPLOAD_CHUNK_BYTES", 8 * 1024**2)
# Unfinished uploads one user may hold at once (each reserves its remaining bytes of the disk).
MAX_ACTIVE_UPLOADS_PER_USER = env_int("SKERRY_MAX_ACTIVE_UPLOADS_PER_USER", 8)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_CHUNK_BYTES + 1024**2
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024**2

# `make demo` trains its CAE this many epochs when it creates it (fewer for a quicker first look).
DEMO_CAE_EPOCHS = env_int("SKERRY_DEMO_CAE_EPOCHS", 60)

# Frame sampling defaults for ingest (the origin report used 2 fps at 124x124).
SAMPLE_FPS = float(env_str("SKERRY_SAMPLE_FPS", "2"))
SAMPLE_SIZE = env_int("SKERRY_SAMPLE_SIZE", 124)

# Celery: Redis when REDIS_URL is set, else kombu's filesystem transport under var/ (no server needed).
REDIS_URL = env_str("REDIS_URL", "")
BROKER_DIR = env_path("SKERRY_BROKER_DIR", VAR_DIR / "broker")
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
JOB_HEARTBEAT_SECONDS = env_int("SKERRY_JOB_HEARTBEAT_SECONDS", 10)
JOB_STALE_SECONDS = env_int("SKERRY_JOB_STALE_SECONDS", 60)
JOB_MAX_ATTEMPTS = env_int("SKERRY_JOB_MAX_ATTEMPTS", 3)
# Heavy jobs (train, score, evaluate) queued or running at once that a person may start, per user and per area.
MAX_ACTIVE_JOBS_PER_USER = env_int("SKERRY_MAX_ACTIVE_JOBS_PER_USER", 3)
MAX_ACTIVE_JOBS_PER_AREA = env_int("SKERRY_MAX_ACTIVE_JOBS_PER_AREA", 6)
# Prefix of every broker key, so that several deployments (or test runs) can share one Redis database.
CELERY_KEY_PREFIX = env_str("SKERRY_CELERY_KEY_PREFIX", "")

# The folders the embedded defaults write to are made on first use (a fresh clone has no var/); a folder that
# cannot be made or written is one clear error naming it and its setting (manage.py and the worker print it).
_sqlite_file = DATABASES["default"]["NAME"] if DATABASES["default"]["ENGINE"].endswith("sqlite3") else ":memory:"
if _sqlite_file != ":memory:":
    writable_dir(Path(_sqlite_file).parent, "DATABASE_URL" if os.environ.get("DATABASE_URL") else "SKERRY_VAR_DIR")
writable_dir(MEDIA_ROOT, "SKERRY_MEDIA_ROOT" if os.environ.get("SKERRY_MEDIA_ROOT") else "SKERRY_VAR_DIR")
if not REDIS_URL:
    writable_dir(BROKER_DIR, "SKERRY_BROKER_DIR" if os.environ.get("SKERRY_BROKER_DIR") else "SKERRY_VAR_DIR")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies only: what the docs and the OpenAPI schema describe (tus PATCH bodies are read raw).
    "DEFAULT_PARSER_CLASSES": ["webapp.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "webapp.api.schema.ApiSchema",
    "DEFAULT_PAGINATION_CLASS": "webapp.api.pagination.BoundedLimitOffsetPagination",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Skerry API", "VERSION": "1", "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components, so that read-only fields are not offered as request fields.
    "COMPONENT_SPLIT_REQUEST": True,
    # <id:...> (webapp.core.converters): a whole number that fits a 64-bit column.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_ID}},
}

# Security: strict by default, relaxed only for DEBUG on loopback.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
# Behind our reverse proxy: trust its X-Forwarded-Proto, and take the client address from X-Forwarded-For.
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("SKERRY_LOG_LEVEL", "INFO")},
}
