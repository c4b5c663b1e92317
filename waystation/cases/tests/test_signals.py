"""Fraud and entrapment signals: seen by staff on the case, never by the person."""

import pytest
from django.test import Client

from conftest import make_user, sign_in
from waystation.accounts.models import Role
from waystation.cases.signals import signals_for

from .conftest import ask

pytestmark = pytest.mark.django_db


def test_one_phone_behind_several_names_is_a_signal(intake_team, settings) -> None:  # type: ignore[no-untyped-def]
    first = ask(name="Ada Okafor", handle="+234 803 123 4567").case
    assert signals_for(first) == []
    ask(name="Ada Okafor", handle="0803 123 4567")  # the same person again: no signal
    assert signals_for(first) == []
    third = ask(name="Chidi Eze", handle="0803 123 4567").case
    [signal] = signals_for(third)
    assert signal.code == "contact_names" and signal.message.endswith("e-mail address: 2.")
    settings.CASES_SIGNAL_NAMES_PER_CONTACT = 3
    assert signals_for(third) == []


def test_signals_show_on_the_case_page_for_staff_only(intake_team, client: Client) -> None:  # type: ignore[no-untyped-def]
    ask(name="Ada Okafor", handle="+234 803 123 4567")
    case = ask(name="Chidi Eze", handle="0803 123 4567").case
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "Signals to check" in page and "e-mail address: 2." in page
    follow_up = Client().get("/follow-up/").content.decode()
    assert "Signals" not in follow_up and "Different names" not in follow_up
