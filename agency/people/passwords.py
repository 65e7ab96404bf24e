"""The password rule: at least 12 characters, and not one of the 30,000 most common passwords.

The list is the one zxcvbn ships (``zxcvbn.frequency_lists``: the passwords seen most often in
public breaches), compared without regard to case.  The rule applies when a password is set
(create, change, reset); existing passwords keep working.
"""
from functools import cache

MIN_LENGTH = 12

# problem -> the API's ``fields.password`` (pages say the same in their language: agency.people.forms)
MESSAGES = {
    "short": f"at least {MIN_LENGTH} characters",
    "common": "one of the most common passwords, easy to guess; choose another",
}


@cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS
    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def password_problem(password: str | None) -> str | None:
    """``"short"``, ``"common"`` or None when the password may be set."""
    if len(password or "") < MIN_LENGTH:
        return "short"
    if password.lower() in _common():
        return "common"
    return None
