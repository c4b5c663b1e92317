from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from waystation.cases import synthetic


class Command(BaseCommand):
    help = (
        "Add synthetic cases for benchmarks and demos (no personal data, no keys). "
        "Runs only with WAYSTATION_DEMO=true or WAYSTATION_ALLOW_SYNTHETIC=1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, required=True, help="how many cases to add")
        parser.add_argument(
            "--batch", type=int, default=synthetic.BATCH, help="cases a transaction"
        )
        parser.add_argument("--seed", type=int, help="random seed, for the same distributions")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["cases"] < 1 or options["batch"] < 1:
            raise CommandError("--cases and --batch must be at least 1.")
        try:
            seeded = synthetic.seed_cases(
                options["cases"], batch=options["batch"], seed=options["seed"]
            )
        except synthetic.SyntheticRefusedError:
            raise CommandError(
                "seed_synthetic refused: it runs only with WAYSTATION_DEMO=true, or with "
                "WAYSTATION_ALLOW_SYNTHETIC=1 on a scratch database. Never on real cases."
            ) from None
        self.stdout.write(
            f"Created {seeded.cases:,} synthetic cases ({seeded.events:,} timeline events) in "
            f"{seeded.seconds:.1f} s: {seeded.rate:,.0f} cases/s."
        )
