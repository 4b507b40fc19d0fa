"""Settings for the coalition sign-on CRM, read from the environment.

Defaults are production-safe: DEBUG is off and SECRET_KEY is required. `make run` and the
test suite turn on what development needs.
"""

import json
import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import get_language_info

BASE_DIR = Path(__file__).resolve().parents[2]


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "development-only-key-not-for-production"  # noqa: S105
# Earlier keys, comma-separated, while rotating SECRET_KEY: sessions, signed links and the
# encrypted second-factor secrets made under them still read.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
WAGTAILADMIN_BASE_URL = SITE_URL

INSTALLED_APPS = [
    "coalition.project",
    "coalition.core",
    "coalition.crm",
    "letters",
    "signatories",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.simple_translation",
    "wagtail.locales",
    "wagtail.contrib.frontend_cache",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_tasks",
    "django_tasks_db",
    "anymail",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    # allauth's list of passkeys uses its filters ("added 3 days ago").
    "django.contrib.humanize",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "coalition.core.middleware.AdminContentSecurityPolicy",
    # Before anything reads the path: a NUL or a 10,000-character slug is a 404, never a query.
    "coalition.core.middleware.RefuseImpossiblePaths",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session and authentication: a cached public page costs no database query.
    "letters.caching.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # After authentication and messages: staff without a second factor are sent to enrol.
    "coalition.core.mfa.RequireStaffMFA",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # A staff form posted without the fields Wagtail's forms count on: 400 with a message.
    "coalition.core.middleware.IncompleteAdminForms",
]

ROOT_URLCONF = "coalition.project.urls"
WSGI_APPLICATION = "coalition.project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

if not env_str("DATABASE_URL"):
    (BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Sign-ons take row locks; SQLite serialises writers, and waiting beats "database is locked".
    # WAL lets readers (public pages, the admin's listings) read while a writer holds the lock;
    # NORMAL is the synchronous level SQLite recommends with it (safe from corruption).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL"):
    # psycopg's pool keeps a few connections open per process, so a request does not pay for a
    # new one; it replaces persistent connections, which Django refuses beside it.
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured("CONN_MAX_AGE must be 0 (or unset) when DATABASE_POOL is on")
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN_SIZE", 1),
        "max_size": env_int("DATABASE_POOL_MAX_SIZE", 4),
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Nobody has a password: everyone signs in by emailed code (and staff by a second factor). The one
# backend reads permissions as Django's does and authenticates nobody, so no form that posts a
# password signs anyone in; the one hasher stores any password set as an unusable one and
# verifies none, so a hash left from before, or set by code, opens nothing (coalition/crm/accounts.py).
AUTHENTICATION_BACKENDS = ["coalition.crm.accounts.NoPasswordBackend"]
PASSWORD_HASHERS = ["coalition.crm.accounts.NoPasswordHasher"]
AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
# The languages letters may be written and translated in (Wagtail's locales: staff add the ones
# the coalition uses under Settings → Locales), by their codes; the first is the letters' own.
CONTENT_LANGUAGES = env_list(
    "CONTENT_LANGUAGES",
    "en,fr,es,de,it,pt,nl,pl,el,ru,uk,tr,ar,he,fa,ur,zh-hans,ja,ko,hi,sw",
)
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES = [
    (code, get_language_info(code)["name_local"]) for code in CONTENT_LANGUAGES
]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Media and the letters' PDFs on S3-compatible storage (AWS, MinIO, R2, ...) once a bucket is
# named, so that every app server and worker reads the same files.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
# Where pages load media images from when it is not this site: the policy lets them in.
MEDIA_ORIGINS: list[str] = []
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "custom_domain": env_str("AWS_S3_CUSTOM_DOMAIN") or None,
            "location": env_str("AWS_LOCATION"),
            # As on a disk: a second upload named "logo.png" gets a name of its own instead of
            # replacing the first one's bytes under every letter that shows it.
            "file_overwrite": False,
            # Image addresses are kept in cached pages and frozen publications: unsigned, so they
            # do not expire. The bucket makes only images public; PDFs stream through the site.
            "querystring_auth": False,
        },
    }
    # Documents stream through Wagtail's view, which checks who may see them.
    WAGTAILDOCS_SERVE_METHOD = "serve_view"
    if env_str("AWS_S3_CUSTOM_DOMAIN"):
        MEDIA_ORIGINS = [f"https://{env_str('AWS_S3_CUSTOM_DOMAIN').split('/')[0]}"]
    elif env_str("AWS_S3_ENDPOINT_URL"):
        MEDIA_ORIGINS = ["/".join(env_str("AWS_S3_ENDPOINT_URL").split("/")[:3])]
    else:
        MEDIA_ORIGINS = [f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com"]
WHITENOISE_USE_FINDERS = DEBUG
if DEBUG:
    # Development serves static files from the apps; WhiteNoise still expects the folder.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Uploads. A request's form fields are held in memory up to DATA_UPLOAD_MAX_MEMORY_SIZE; a file
# past FILE_UPLOAD_MAX_MEMORY_SIZE goes to a temporary file instead. Each upload form caps its
# own file and names the limit: Word letters and members files 10 MB, images 5 MB (below).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The page editor posts four or five fields per block of a letter's body: Django's default of
# 1,000 refused to save a letter of 200 paragraphs. This fits the longest a Word import accepts.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20_000

# Email: the console in development, SMTP in production.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Coalition sign-on <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    # Prints each message as it reads, in any script (Django's console prints base64 for Greek).
    "coalition.core.mail.ConsoleEmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
# An email provider through django-anymail: EMAIL_BACKEND="anymail.backends.postmark.EmailBackend"
# (or mailgun, sendgrid, amazon_ses …), and its settings from the environment, each as
# ANYMAIL_<SETTING>: ANYMAIL_POSTMARK_SERVER_TOKEN, ANYMAIL_MAILGUN_API_KEY,
# ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY, and ANYMAIL_WEBHOOK_SECRET ("user:password"), the basic
# auth its tracking webhooks at /anymail/<provider>/tracking/ must give (signatories.webhooks).
ANYMAIL: dict[str, str] = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_") and value
}

# Wagtail's own jobs (search index, references) run inline so the admin never goes stale;
# ours (invitation emails, PDFs) go to the "background" backend, which is a database queue
# in production (run `manage.py db_worker --backend background --queue-name '*'`).
TASK_QUEUES = ["default", "email", "pdf"]
TASKS = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
    "background": (
        {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": TASK_QUEUES}
        if env_bool("TASKS_IMMEDIATE", DEBUG)
        else {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}
    ),
}

# What the task worker does beside the jobs for the apps, besides its own recovery and pruning:
# (what, at most every how many seconds, the function to call).
WORKER_CHORES: list[tuple[str, float, str]] = [
    # Uploads of Word imports nobody finished: gone within a day and an hour.
    ("deleting abandoned import uploads", 3600, "letters.services.delete_stale_imports"),
    # Letters under embargo whose moment passed, should their queued job have been lost.
    ("publishing embargoed letters", 60, "signatories.services.embargoes.release_due_embargoes"),
]

# How the apps take part in each other's work, named here where the project composes them (the
# dependencies point one way: signatories → letters → coalition; none registers itself).
# The member CRM's merges move the sign-on's rows through its chains; its timelines show them.
CRM_MERGE_PARTICIPANTS = ["signatories.crm.MERGE_PARTICIPANT"]
CRM_TIMELINE_SOURCES = ["signatories.crm.timeline_entries"]
# Who imports a finished letter with its signatures (the Word import's "finished" choice).
LETTER_IMPORTER = "signatories.interchange.LETTER_IMPORTER"
# A letter not yet published prints the signatures it has so far (previews, the archival PDF).
LETTER_SIGNATORY_LINES = "signatories.selectors.letter_lines"
# A letter's open data (its files, feeds and widget), mounted beside it by the sign-on app: the
# letter's page links them, and the caches drop them with the page.
LETTER_OPEN_DATA = "signatories.public_views.open_data"
# ... and the files each version's PDF carries inside it (its list and the record it came from).
LETTER_VERSION_FILES = "signatories.proof.version_files"
# ... and the answers of its recipients that staff published, beside its versions.
LETTER_ANSWERS = "signatories.public_views.published_answers"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if env_str("CACHE_URL"):
    if not env_str("CACHE_URL").startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"CACHE_URL must be a Redis URL (redis://host:6379/0), not {env_str('CACHE_URL')!r}"
        )
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("CACHE_URL"),
    }
elif not DEBUG:
    # The page cache's generation, the rate limits and allauth's limits live in this cache: in
    # each process's memory, every server would keep its own stale pages and its own counts.
    raise ImproperlyConfigured(
        "CACHE_URL must be set when DEBUG is off: a Redis URL such as redis://127.0.0.1:6379/0, "
        "shared by every app server and worker (the page cache and the rate limits live there)"
    )
# The public pages (letters/caching.py) live in a cache that may evict them: a page lost is
# only rendered again, whereas a rate limit or a used sign-in code lost lets someone through.
# The same store as the rest by default; PAGE_CACHE_URL puts them in a Redis of their own, set
# to evict (maxmemory and allkeys-lru: see the README), so that the default one never evicts.
CACHES["pages"] = {**CACHES["default"]}
if env_str("PAGE_CACHE_URL"):
    if not env_str("PAGE_CACHE_URL").startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            "PAGE_CACHE_URL must be a Redis URL (redis://host:6380/0), "
            f"not {env_str('PAGE_CACHE_URL')!r}"
        )
    CACHES["pages"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("PAGE_CACHE_URL"),
    }

# Accounts: staff sign in by email and a one-time code; nobody signs up.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/admin/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_SIGNUP_ENABLED = False
ACCOUNT_ADAPTER = "coalition.crm.accounts.AccountAdapter"
ACCOUNT_USER_DISPLAY = "coalition.crm.accounts.user_display"
ACCOUNT_FORMS = {
    "confirm_login_code": "coalition.crm.accounts.LoginCodeForm",
    # Member contacts: an account is made for a known contact when a code is asked for.
    "login": "coalition.crm.accounts.ContactLoginForm",
    "request_login_code": "coalition.crm.accounts.ContactLoginCodeRequestForm",
}
# allauth hands an address nobody has to the adapter as an "unknown account" email: ours renders
# a sign-in code email for it too and queues it for nobody, so that a known and an unknown address
# get the same answer after the same work, and nothing is sent to a stranger (coalition/crm/accounts.py).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = True
# Asked again before a second factor is added or removed: by emailed code or that factor.
ACCOUNT_REAUTHENTICATION_METHODS = ["code", "mfa"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
# Counted in Django's cache (Redis in production: CACHE_URL) per client address. No limit counts
# per account alone: anyone could use it up for a staff address and lock its owner out.
ACCOUNT_RATE_LIMITS = {
    "request_login_code": "5/m/ip,20/h/ip",
    "login_code_failed": "10/h/ip",  # wrong codes, whatever the address (coalition/crm/accounts.py)
}
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_ADAPTER = "coalition.core.mfa.MFAAdapter"  # authenticator secrets stored encrypted
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# Staff reach the admin only with an authenticator app or a passkey enrolled (coalition/core/mfa.py).
STAFF_MFA_REQUIRED = env_bool("STAFF_MFA_REQUIRED", not DEBUG)

# Wagtail
WAGTAIL_SITE_NAME = env_str("WAGTAIL_SITE_NAME", "Coalition letters")
WAGTAILADMIN_LOGIN_URL = "/accounts/login/"
# Pages and documents that need a sign-in send readers to the code login; none is opened with a
# shared password (coalition/project/urls.py answers Wagtail's password views with no form).
WAGTAIL_FRONTEND_LOGIN_URL = "/accounts/login/code/"
WAGTAIL_PRIVATE_PAGE_OPTIONS = {"SHARED_PASSWORD": False}
WAGTAILDOCS_PRIVATE_COLLECTION_OPTIONS = {"SHARED_PASSWORD": False}
WAGTAIL_PASSWORD_REQUIRED_TEMPLATE = "account/no_shared_password.html"  # noqa: S105
WAGTAILDOCS_PASSWORD_REQUIRED_TEMPLATE = WAGTAIL_PASSWORD_REQUIRED_TEMPLATE
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAIL_PASSWORD_RESET_ENABLED = False
WAGTAILUSERS_PASSWORD_ENABLED = False
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
# No SVG (a script in an image); every upload is decoded and written afresh without its metadata
# (coalition/core/images.py), within limits read from the header before anything is decoded.
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]
WAGTAILIMAGES_IMAGE_FORM_BASE = "coalition.core.images.ImageForm"
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 5 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 16_000_000  # all frames together; about 64 MB once decoded
WAGTAILDOCS_EXTENSIONS = ["pdf", "docx", "csv", "xlsx", "txt"]
WAGTAIL_ENABLE_UPDATE_CHECK = False
# Approving a letter's review approves it for circulation; it never publishes the letter.
WAGTAIL_FINISH_WORKFLOW_ACTION = "letters.workflows.finish_workflow"
# A CDN or caching proxy in front of the public pages, purged when a letter is published or
# corrected (letters/caching.py). Any of the three, or several; none by default.
WAGTAILFRONTENDCACHE: dict[str, dict[str, object]] = {}
_cdn_hostnames = env_list("FRONTEND_CACHE_HOSTNAMES") or ["*"]
if env_str("FRONTEND_CACHE_PURGE_URL"):  # Varnish, nginx or Fastly-style PURGE requests
    WAGTAILFRONTENDCACHE["http"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
        "LOCATION": env_str("FRONTEND_CACHE_PURGE_URL"),
        "HOSTNAMES": _cdn_hostnames,
    }
if env_str("CLOUDFLARE_ZONE_ID"):
    WAGTAILFRONTENDCACHE["cloudflare"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.CloudflareBackend",
        "ZONEID": env_str("CLOUDFLARE_ZONE_ID"),
        "BEARER_TOKEN": env_str("CLOUDFLARE_API_TOKEN"),
        "HOSTNAMES": _cdn_hostnames,
    }
if env_str("CLOUDFRONT_DISTRIBUTION_ID"):  # credentials as boto3 finds them (AWS_ACCESS_KEY_ID…)
    WAGTAILFRONTENDCACHE["cloudfront"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.CloudfrontBackend",
        "DISTRIBUTION_ID": env_str("CLOUDFRONT_DISTRIBUTION_ID"),
        "HOSTNAMES": _cdn_hostnames,
    }

# Security: everything on unless DEBUG; behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Public and signer pages run no inline script or style and load nothing from elsewhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *MEDIA_ORIGINS],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# The Wagtail admin (/admin/, coalition/core/middleware.py): its editor runs inline scripts and styles,
# but no script comes from another origin; its images include data: and blob: URLs (uploads, the
# focal point) and the media store's. frame-ancestors follows X-Frame-Options there.
ADMIN_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:", *MEDIA_ORIGINS],
    "connect-src": [CSP.SELF],
    "frame-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"  # Wagtail's preview views opt in to SAMEORIGIN themselves.
if env_bool("BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A load balancer asks over plain http, straight to the app server: answered, not redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Sign-ons: the key of the event chain (a secret outside the database; derived from SECRET_KEY
# when unset) and the limits on the signer pages, over the defaults in signatories/ratelimits.py,
# as JSON: SIGN_ON_RATE_LIMITS='{"sign": "120/h/ip,20/h/link", "open_link": "20/h/ip,3/h/address"}'.
EVENT_CHAIN_KEY = env_str("EVENT_CHAIN_KEY")
# Where the worker appends each sign-on's record head, outside the database (a file on another
# volume, or one shipped elsewhere); `verify_event_chains` compares with it. Unset: nowhere, and
# the deploy check warns.
EVENT_CHECKPOINTS = env_str("EVENT_CHECKPOINTS")
try:
    SIGN_ON_RATE_LIMITS: dict[str, str] = json.loads(env_str("SIGN_ON_RATE_LIMITS") or "{}")
except json.JSONDecodeError as error:
    raise ImproperlyConfigured(f"SIGN_ON_RATE_LIMITS is not JSON: {error}") from None
if not isinstance(SIGN_ON_RATE_LIMITS, dict) or not all(
    isinstance(rates, str) for rates in SIGN_ON_RATE_LIMITS.values()
):
    raise ImproperlyConfigured('SIGN_ON_RATE_LIMITS must map actions to rates: {"sign": "…"}')

# Letters
LETTER_PDF_TIMEOUT = env_int("LETTER_PDF_TIMEOUT", 300)
# The coalition's signature on each published version's PDF (letters.signing): a PKCS#12 file
# and its password; an RFC 3161 time-stamping authority dates each signature when set. Unset:
# versions are published unsigned, their pages say so and the deploy check warns.
PDF_SIGNING_CERT = env_str("PDF_SIGNING_CERT")
PDF_SIGNING_PASSWORD = env_str("PDF_SIGNING_PASSWORD")
PDF_TIMESTAMP_URL = env_str("PDF_TIMESTAMP_URL")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "ERROR"},
        # Django's default gives "django" a console handler of its own under DEBUG, so each of its
        # lines (the worker's "Task … state=…", the autoreloader's) would print twice.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Errors to Sentry when SENTRY_DSN is set (coalition/project/sentry.py says what stays out of
# the reports); SENTRY_TRACES_SAMPLE_RATE, from 0 to 1, also sends that share of the requests'
# timings.
# Read here and kept out of the settings, which the debug page lists.
_sentry_dsn = env_str("SENTRY_DSN")
if _sentry_dsn:
    from coalition.project import sentry

    _traces = env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0)
    if not 0 <= _traces <= 1:
        raise ImproperlyConfigured(f"SENTRY_TRACES_SAMPLE_RATE must be from 0 to 1, not {_traces}")
    sentry.init(
        dsn=_sentry_dsn,
        environment=env_str("SENTRY_ENVIRONMENT", "development" if DEBUG else "production"),
        release=env_str("SENTRY_RELEASE") or None,
        traces_sample_rate=_traces,
    )
