"""Notification jobs (queue ``notifications``)."""
from agency.notifications.services import deliver_all as _deliver_all
def deliver_all(session, now, outgoing: list) -> None:
    """The e-mails and webhook calls of one notification: ``[[delivery key, payload], ...]``."""
    _deliver_all(session, now, outgoing)
