import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from waystation.vault import crypto


class Command(BaseCommand):
    help = "Measure Argon2id on this server and print WAYSTATION_VAULT_KDF_OPS for a target time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--target", type=float, default=0.5, help="seconds (default 0.5)")

    def handle(self, *args: Any, **options: Any) -> None:
        memory = settings.VAULT_KDF_MEMORY_MIB * 1024 * 1024
        salt = crypto.new_salt()
        ops, elapsed = 1, 0.0
        while elapsed < options["target"] and ops < 1000:
            started = time.perf_counter()
            crypto.password_key("calibration", salt, ops, memory)
            elapsed = time.perf_counter() - started
            self.stdout.write(f"  ops={ops:<4} {elapsed:.3f} s")
            if elapsed < options["target"]:
                ops = max(ops + 1, int(ops * options["target"] / max(elapsed, 1e-3)))
        self.stdout.write(
            f"WAYSTATION_VAULT_KDF_MEMORY_MIB={settings.VAULT_KDF_MEMORY_MIB} "
            f"WAYSTATION_VAULT_KDF_OPS={ops}  ({elapsed:.2f} s per unlock)"
        )
