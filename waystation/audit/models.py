from typing import Any, NoReturn

from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit entry through the ORM."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit entries cannot be changed.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Audit entries cannot be deleted.")


class AuditEntry(models.Model):
    """One event in the append-only, hash-chained log. Never holds content."""

    # Position in the chain: gapless, assigned under the head's row lock.
    position = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField(_("time"), db_index=True)
    # Plain UUIDs rather than foreign keys: entries outlive the rows they mention.
    actor_id = models.UUIDField(_("actor"), null=True, blank=True, db_index=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=40, blank=True)
    object_id = models.UUIDField(_("object"), null=True, blank=True, db_index=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-position"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"#{self.position} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit entries cannot be deleted.")


class AuditHead(models.Model):
    """The single row that holds the end of the chain; locking it orders all writers."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    position = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.position}"
