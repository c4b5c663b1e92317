from typing import Any

import pytest
from django.contrib.sessions.models import Session

from waystation.lib import sessions


@pytest.mark.django_db
def test_a_taken_key_is_never_reused(monkeypatch: Any) -> None:
    first = sessions.SessionStore()
    first["a"] = 1
    first.create()
    drawn = iter([first.session_key, "k" * 32])
    monkeypatch.setattr(sessions, "get_random_string", lambda *args: next(drawn))
    second = sessions.SessionStore()
    second["b"] = 2
    second.create()
    assert second.session_key == "k" * 32
    assert Session.objects.count() == 2
    assert sessions.SessionStore(first.session_key).load() == {"a": 1}
