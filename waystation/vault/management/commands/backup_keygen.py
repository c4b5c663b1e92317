import base64
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from waystation.vault import crypto


class Command(BaseCommand):
    help = (
        "Make a backup keypair. Run it on an offline machine: keep the private key file there, "
        "and set the printed public key as WAYSTATION_BACKUP_PUBLIC_KEY on the server."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("private_key_file", help="where to write the private key (mode 600)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["private_key_file"])
        if path.exists():
            raise CommandError(f"{path} exists; refusing to overwrite a backup key.")
        private, public = crypto.new_keypair()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(base64.b64encode(private).decode() + "\n")
        self.stdout.write(f"Private key written to {path}. Keep it offline.")
        self.stdout.write(f"WAYSTATION_BACKUP_PUBLIC_KEY={base64.b64encode(public).decode()}")
