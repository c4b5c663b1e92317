"""Cases attach to intake: a request stored is a case opened, in the same transaction."""

from typing import Any

from django.dispatch import receiver

from waystation.intake.models import HelpRequest
from waystation.intake.signals import request_stored

from .services import open_case


@receiver(request_stored)
def _open_case(sender: Any, request: HelpRequest, **kwargs: Any) -> None:
    open_case(request)
