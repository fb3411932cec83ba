from arende.operations.models.changes import (
    BlackoutPeriod,
    Change,
    ChangeApproval,
    ChangeTemplate,
    RiskLevel,
)
from arende.operations.models.incidents import (
    MajorIncident,
    PostIncidentReview,
    ReviewAction,
    TimelineEntry,
)
from arende.operations.models.problems import Problem, ProblemTicket
from arende.operations.models.status import PlannedMaintenance, StatusPageService

__all__ = [
    "BlackoutPeriod",
    "Change",
    "ChangeApproval",
    "ChangeTemplate",
    "MajorIncident",
    "PlannedMaintenance",
    "PostIncidentReview",
    "Problem",
    "ProblemTicket",
    "ReviewAction",
    "RiskLevel",
    "StatusPageService",
    "TimelineEntry",
]
