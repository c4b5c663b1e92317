from typing import Any

import pytest
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.models import Session

from waystation.lib import sessions


@pytest.mark.django_db
def test_a_taken_key_is_never_reused(monkeypatch: Any) -> None:
    first = sessions.SessionStore()
    first["a"] = 1
    first.create()
    drawn = iter([first.session_key, "k" * 32])
    monkeypatch.setattr(sessions.SessionStore, "_get_new_session_key", lambda self: next(drawn))
    second = sessions.SessionStore()
    second["b"] = 2
    second.create()
    assert second.session_key == "k" * 32
    assert Session.objects.count() == 2
    assert sessions.SessionStore(first.session_key).load() == {"a": 1}


def test_new_keys_are_in_djangos_alphabet_and_long() -> None:
    keys = {sessions.SessionStore()._get_new_session_key() for _ in range(200)}
    assert len(keys) == 200
    assert all(len(key) == 32 and set(key) <= set(VALID_KEY_CHARS) for key in keys)


@pytest.mark.django_db
def test_a_session_saved_already_is_not_written_again_unchanged(
    django_assert_num_queries: Any,
) -> None:
    store = sessions.SessionStore()
    store["a"] = 1
    store.save()
    with django_assert_num_queries(0):
        store.save()
    store["a"] = 2
    store.save()
    assert sessions.SessionStore(store.session_key).load() == {"a": 2}


@pytest.mark.django_db
def test_a_new_key_after_a_saved_one_is_written() -> None:
    store = sessions.SessionStore()
    store["a"] = 1
    store.save()
    old = store.session_key
    store.cycle_key()
    store.save()
    assert store.session_key != old
    assert sessions.SessionStore(store.session_key).load() == {"a": 1}
    assert not Session.objects.filter(session_key=old).exists()
