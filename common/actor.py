"""Who did something, and through which interface: every timeline event records both."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from common.exceptions import PermissionDeniedError


class Source(models.TextChoices):
    ADMIN = "admin", "Admin"
    API = "api", "API"
    CLI = "cli", "Command line"
    TASK = "task", "Background task"
    SYSTEM = "system", "System"
    PAGE_LINK = "page_link", "Page link"
    SLACK = "slack", "Slack"
    SMS = "sms", "SMS reply"


@dataclass(frozen=True)
class Actor:
    """A user acting through an interface, or the system itself (user is None)."""

    user: AbstractBaseUser | None
    source: str
    # Free-form origin for system actors, e.g. "log-monitor" or "sla-sweeper".
    label: str = ""

    @classmethod
    def system(cls, source: str = Source.SYSTEM, label: str = "") -> "Actor":
        return cls(user=None, source=source, label=label)

    @property
    def is_system(self) -> bool:
        return self.user is None

    def has_perm(self, perm: str) -> bool:
        # The system acts on behalf of configuration an admin already approved.
        return self.user is None or self.user.has_perm(perm)

    def require(self, perm: str, what: str = "", *, people_only: bool = False, refusal: str = "") -> None:
        """Refuse with "You may not <what>." (or `refusal`) unless the actor has the permission.
        A `people_only` permission is a person's judgement (approving a run): the system never has it."""
        if (people_only and self.is_system) or not self.has_perm(perm):
            raise PermissionDeniedError(refusal or f"You may not {what}.")

    def __str__(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        return self.label or "system"
