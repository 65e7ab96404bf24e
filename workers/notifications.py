"""Notification jobs (queue ``notifications``)."""
from agency.notifications.services import deliver as _deliver


def deliver(session, now, delivery_id: int, payload: str) -> None:
    _deliver(session, now, delivery_id, payload)
