from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from waystation.vault.blind import current_key_version, rotate_tokens, unreachable_token_count


class Command(BaseCommand):
    help = (
        "Move blind-index tokens to the newest key in WAYSTATION_BLIND_INDEX_KEYS, without "
        "decrypting anything. Run after putting a new key first in the list."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        moved = rotate_tokens(batch_size=options["batch_size"])
        self.stdout.write(
            f"Moved {moved} blind-index tokens to key version {current_key_version()}."
        )
        unreachable = unreachable_token_count()
        if unreachable:
            self.stderr.write(
                f"{unreachable} tokens carry a newer key version than the configured keys: a key "
                "was removed from WAYSTATION_BLIND_INDEX_KEYS. Put it back; lookups cannot reach "
                "these tokens."
            )
