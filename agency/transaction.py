"""What one transaction remembers (in ``session.info``) and forgets when it ends.

The audit chains' heads, the projects locked, the calendar read: each is true
only while the transaction that read or locked it lasts, so every one is
dropped at commit or rollback (a savepoint's too) by the one listener below.
"""
from sqlalchemy import event
from sqlalchemy.orm import Session

_KEYS: set[str] = set()


def remembered(session: Session, key: str) -> dict:
    """This transaction's dict under ``key``, empty at its start."""
    _KEYS.add(key)
    return session.info.setdefault(key, {})


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, *_args) -> None:
    for key in _KEYS:
        session.info.pop(key, None)
