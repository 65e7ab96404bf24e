"""Department queue jobs of joint meetings: an invitation reaches the department (R6, R8)."""
from agency.meetings import services


def deliver_invitation(session, now, invitation_id: int, sequence: int | None = None) -> None:
    """Deliver one invitation (or its cancellation) of the meeting's version ``sequence``; records delivered_at = now."""
    services.deliver_invitation(session, now, invitation_id, sequence)
