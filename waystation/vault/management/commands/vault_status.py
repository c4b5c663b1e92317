from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Count

from waystation.vault import blind
from waystation.vault.models import BlindIndexToken, Keyring, TeamKey, UserKey
from waystation.vault.services import kdf_parameters


class Command(BaseCommand):
    help = (
        "Report what rotation has left to do: personal keys wrapped with older Argon2id "
        "parameters (re-wrapped at their owner's next sign-in, the only time the password is "
        "known), blind-index tokens on older keys (run rotate_blind_index), team key versions."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        ops, memory = kdf_parameters()
        stale = UserKey.objects.exclude(kdf_ops=ops, kdf_mem=memory).count()
        self.stdout.write(
            f"Personal keys: {UserKey.objects.count()}; {stale} wrapped with older parameters "
            f"than ops={ops}, memory={memory // (1024 * 1024)} MiB (re-wrapped at next sign-in)."
        )
        current = blind.current_key_version()
        versions = dict(BlindIndexToken.objects.values_list("key_version").annotate(n=Count("id")))
        old = sum(n for version, n in versions.items() if version < current)
        self.stdout.write(
            f"Blind-index tokens: {sum(versions.values())} (key version {current}); "
            f"{old} on older keys{' - run rotate_blind_index' if old else ''}."
        )
        teams = TeamKey.objects.filter(retired_at__isnull=True).count()
        retired = TeamKey.objects.filter(retired_at__isnull=False).count()
        self.stdout.write(f"Team keys: {teams} current, {retired} retired versions.")
        shredded = Keyring.objects.filter(shredded_at__isnull=False).count()
        self.stdout.write(
            f"Keyrings: {Keyring.objects.count()}, {shredded} shredded. "
            f"Backup key configured: {'yes' if settings.BACKUP_PUBLIC_KEY else 'NO'}."
        )
