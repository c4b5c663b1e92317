import base64
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from waystation.vault.backup import write_backup


class Command(BaseCommand):
    help = "Write an encrypted backup (database and encrypted files) to FILE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the archive to write; must not exist")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.BACKUP_PUBLIC_KEY:
            raise CommandError("Set WAYSTATION_BACKUP_PUBLIC_KEY (see `manage.py backup_keygen`).")
        path = Path(options["file"])
        try:
            with path.open("xb") as out:
                summary = write_backup(out, base64.b64decode(settings.BACKUP_PUBLIC_KEY))
        except FileExistsError:
            raise CommandError(f"{path} exists; choose a new file name.") from None
        self.stdout.write(
            f"Backup written to {path}: {summary.entries} entries, {summary.files} files, "
            f"{summary.plaintext_bytes:,} bytes before encryption."
        )
