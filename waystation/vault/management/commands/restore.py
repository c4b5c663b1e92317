import base64
import binascii
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from waystation.vault.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore an encrypted backup into this empty, migrated instance."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--private-key-file",
            required=True,
            help="the offline backup private key (from backup_keygen)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            private = base64.b64decode(Path(options["private_key_file"]).read_text().strip())
        except (OSError, binascii.Error) as error:
            raise CommandError(f"Cannot read the private key: {error}") from None
        try:
            with Path(options["file"]).open("rb") as source:
                summary = restore_backup(source, private)
        except (OSError, BackupError) as error:
            raise CommandError(f"Restore failed: {error}") from None
        self.stdout.write(f"Restored {summary.entries} entries, {summary.files} files.")
