"""Settings.  The only place that reads the environment.

``load(name)`` picks a class by name (``development``, ``testing``,
``production``); ``AGENCY_ENV`` chooses when no name is given.
"""
import base64
import os
import secrets
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("AGENCY_INSTANCE", ROOT / "instance"))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    INSTANCE.mkdir(parents=True, exist_ok=True)
    path = INSTANCE / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _audit_keys() -> str:
    """AUDIT_KEYS from the environment (``id:base64secret,...``, the first signs), else one key generated once
    into instance/ (kept outside the database: whoever can write the audit table must not hold it)."""
    if os.environ.get("AUDIT_KEYS"):
        return os.environ["AUDIT_KEYS"]
    INSTANCE.mkdir(parents=True, exist_ok=True)
    path = INSTANCE / "audit_keys"
    if not path.exists():
        path.write_text(f"local1:{base64.b64encode(secrets.token_bytes(32)).decode()}")
        path.chmod(0o600)
    return path.read_text().strip()


def read_agency_now() -> datetime | None:
    """The AGENCY_NOW override, read at each use (API.md "Clock")."""
    raw = os.environ.get("AGENCY_NOW")
    if not raw:
        return None
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise ValueError("AGENCY_NOW must carry a UTC offset, e.g. 2026-11-23T09:00:00+08:00")
    return value


class Base:
    NAME = "base"
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'agency.db'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL = os.environ.get("REDIS_URL") or None  # None: embedded stand-in
    SECRET_KEY = None  # filled lazily by load()
    AUDIT_KEYS = None  # filled lazily by load(): "id:base64secret,...", the first is the signing key
    AUDIT_CHECKPOINT_MINUTES = int(os.environ.get("AUDIT_CHECKPOINT_MINUTES", "10"))
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    HALL_CLOSING_TIME = os.environ.get("HALL_CLOSING_TIME", "17:30")
    HALL_NAME = os.environ.get("HALL_NAME", "行政服务大厅代办中心")
    SUPERVISION_PHONE = os.environ.get("SUPERVISION_PHONE", "12345")
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    MEETING_NOTICE_WORKING_DAYS = int(os.environ.get("MEETING_NOTICE_WORKING_DAYS", "1"))
    RECTIFICATION_WORKING_DAYS = int(os.environ.get("RECTIFICATION_WORKING_DAYS", "5"))
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE / "uploads"))
    REPORT_DIR = os.environ.get("REPORT_DIR", str(INSTANCE / "reports"))
    MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
    MAX_CONTENT_LENGTH = MAX_UPLOAD_BYTES + 64 * 1024  # a multipart upload with its form fields
    MAX_JSON_BYTES = int(os.environ.get("MAX_JSON_BYTES", str(1024 * 1024)))  # any other API request body
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")  # console | smtp | memory
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0") == "1"
    MAIL_FROM = os.environ.get("MAIL_FROM", "daiban@hall.example.cn")
    WEBHOOK_URL = os.environ.get("WEBHOOK_URL")  # SMS gateway / messaging app
    EMBEDDED_WORKER = True  # run a worker thread and the scheduler in-process when REDIS_URL is unset
    HONOUR_AGENCY_NOW = True
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_ENABLED = True
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    PASSWORD_HASH_PROFILE = "RFC_9106_LOW_MEMORY"
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")  # failed sign-ins per client address
    LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "5 per 5 minutes")  # ... per account
    API_TOKEN_HOURS = int(os.environ.get("API_TOKEN_HOURS", "12"))
    # flask-smorest / OpenAPI
    API_TITLE = "Agency service (代办) API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"


class Development(Base):
    NAME = "development"


class Testing(Base):
    NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    REDIS_URL = None
    EMBEDDED_WORKER = False  # tests drain the queues explicitly
    MAIL_BACKEND = "memory"
    WTF_CSRF_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    PASSWORD_HASH_PROFILE = "CHEAPEST"
    AUDIT_KEYS = "test1:dGVzdC1hdWRpdC1rZXktZml4ZWQtMzItYnl0ZXMhISE="  # fixed, so hashes are reproducible


class Production(Base):
    NAME = "production"
    HONOUR_AGENCY_NOW = False
    EMBEDDED_WORKER = False
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}


CONFIGS = {c.NAME: c for c in (Development, Testing, Production)}


def load(name: str | None = None) -> type[Base]:
    name = name or os.environ.get("AGENCY_ENV", "development")
    try:
        cls = CONFIGS[name]
    except KeyError:
        raise ValueError(f"unknown configuration {name!r}; use one of {sorted(CONFIGS)}") from None
    if cls.SECRET_KEY is None:
        cls.SECRET_KEY = _secret_key()
    if cls.AUDIT_KEYS is None:
        cls.AUDIT_KEYS = _audit_keys()
    if cls is Production and not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        raise RuntimeError("production needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    return cls
