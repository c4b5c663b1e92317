"""What the planning import commands share: a date option, and a file read through an
import service whose refusal becomes the command's error."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import BinaryIO, TypeVar

from django.core.management.base import CommandError

from waystation.planning.services import ImportRefusedError

T = TypeVar("T")


def date_option(option: str, value: str) -> date:
    """The option's value as a date; CommandError when it is not one."""
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{option} must be a date as YYYY-MM-DD, not {value!r}") from error


def import_file(path: Path, importer: Callable[[BinaryIO], T]) -> T:
    """`importer` run over the file opened in binary mode; CommandError when the file cannot
    be read or the import is refused (with its report)."""
    try:
        with path.open("rb") as lines:
            return importer(lines)
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from error
    except ImportRefusedError as error:
        raise CommandError(f"{path.name}: nothing imported.\n{error}") from error
