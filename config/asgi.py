"""ASGI entry point. Refuses to start when a system check reports an error."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()

from waystation.pages.checks import refuse_to_start_on_errors  # noqa: E402

refuse_to_start_on_errors()
