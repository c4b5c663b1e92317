"""Set up Django for a benchmark on a scratch database: a temporary SQLite file by default,
or a scratch PostgreSQL database when BENCH_DATABASE_URL is given."""

import os
import secrets
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup() -> str:
    sys.path.insert(0, str(ROOT))
    scratch = tempfile.mkdtemp(prefix="waystation-bench-")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "WAYSTATION_SECRET_KEY": secrets.token_urlsafe(64),
            "WAYSTATION_ALLOWED_HOSTS": "localhost",
            "WAYSTATION_HTTPS": "false",
            "WAYSTATION_DATA_DIR": scratch,
            "DATABASE_URL": os.environ.get(
                "BENCH_DATABASE_URL", f"sqlite:///{scratch}/bench.sqlite3"
            ),
        }
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.conf import settings

    return str(settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1])
