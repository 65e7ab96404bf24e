"""Failed sign-ins, counted per account and per client address (the page and POST /auth/token).

Only failures count, so a whole office behind one address is not locked out by its own successful
sign-ins; the account limit (``LOGIN_ACCOUNT_RATE_LIMIT``) is lower than the address limit
(``LOGIN_RATE_LIMIT``), so one person's typos stop that account before they stop the address, and an
attempt refused for its account is not counted against the address.  Many addresses guessing one
account meet the account limit.  While either limit is reached every attempt is refused, even with
the right password, and costs no Argon2 work.

Fixed windows of the injected clock (``agency.clock``), counted in the limiter's storage (Redis when
``REDIS_URL`` is set, so every process shares them).
"""
from datetime import datetime

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse

from agency.extensions import limiter


def _counters(now: datetime, username: str) -> list[tuple[RateLimitItem, str, int]]:
    """(limit, storage key, seconds to the end of its window) of the account and of the address."""
    config = current_app.config
    counters = []
    for kind, setting, who in (("account", "LOGIN_ACCOUNT_RATE_LIMIT", username.strip().lower()),
                               ("address", "LOGIN_RATE_LIMIT", get_remote_address() or "")):
        item = parse(config[setting])
        seconds = item.get_expiry()
        window, elapsed = divmod(int(now.timestamp()), seconds)
        counters.append((item, f"signin-failures/{kind}/{seconds}/{window}/{who}", seconds - elapsed))
    return counters


def retry_after(now: datetime, username: str) -> int | None:
    """Seconds until ``username`` may try again from this address, or None when it may try now."""
    for item, key, left in _counters(now, username):
        if limiter.storage.get(key) >= item.amount:
            return left
    return None


def count_failure(now: datetime, username: str) -> None:
    for item, key, _left in _counters(now, username):
        limiter.storage.incr(key, item.get_expiry())
