"""Check the ledger's books: every transaction balanced, every account's kept balance the
sum of its entries, every fund's committed balance what its commitments hold open."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from waystation.funding import ledger


class Command(BaseCommand):
    help = "Check that the funding ledger balances; exits with an error naming what does not."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = [
            *(
                f"transaction {pk} does not add up to zero"
                for pk in ledger.unbalanced_transactions()
            ),
            *(f"account {pk} is not the sum of its entries" for pk in ledger.drifted_accounts()),
            *(
                f"fund {pk}: committed is not what its commitments hold open"
                for pk in ledger.committed_mismatch()
            ),
        ]
        if problems:
            raise CommandError("\n".join(problems))
        self.stdout.write("The ledger balances.")
