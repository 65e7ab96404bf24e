"""Every model, imported once so the metadata is complete (Alembic, create_all)."""
from agency.audit.models import AuditCheckpoint, AuditEvent  # noqa: F401
from agency.calendar.models import CalendarOverride, CalendarYear  # noqa: F401
from agency.catalog.models import ApprovalItem, Department, ProjectType, StageTemplate  # noqa: F401
from agency.generations import CacheGeneration  # noqa: F401
from agency.enterprise.models import Complaint, DissatisfactionNotice, Rating  # noqa: F401
from agency.jobs.models import OutboxJob  # noqa: F401
from agency.meetings.models import Invitation, Meeting  # noqa: F401
from agency.notifications.models import Delivery, Message  # noqa: F401
from agency.people.models import ApiToken, User  # noqa: F401
from agency.projects.models import ContactCard, Project, ProjectSuspension, Stage  # noqa: F401
from agency.supervision.models import Card, Escalation, Report  # noqa: F401
from agency.tasks.models import MaterialFile, SupplementRequest, Task  # noqa: F401
from agency.materials.models import Deferral, ProjectMaterial  # noqa: F401
from agency.results.models import Shipment, TaskResult  # noqa: F401
from agency.visits.models import Visit  # noqa: F401
from agency.comments.models import TaskComment  # noqa: F401
