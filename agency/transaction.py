"""Reads outside a transaction, and what one transaction remembers (in ``session.info``) and forgets when it ends.

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


def read_outside_transaction(session: Session) -> None:
    """The session's next statements run without BEGIN and COMMIT (autocommit) until it commits.

    For a request that reads: on PostgreSQL it saves two of its round trips, and psycopg keeps
    the statements it prepared on the connection (a ROLLBACK would drop them).  ``commit()``
    ends it without a statement; whatever the request then writes runs in a real transaction
    (the connection is handed back and the next one taken in the engine's isolation level).
    Nothing changes when the session is already in a transaction (a test's app context shares
    its session with the requests it makes).
    """
    if not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
