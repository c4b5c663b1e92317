"""Reading sealed data in a request: unlock first, damaged items show a message, others 404."""

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from config import urls as project_urls
from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Role
from waystation.vault import services as vault
from waystation.vault.access import (
    KeysUnavailableError,
    NotUnlockedError,
    keys_required,
    open_sealed_fields,
    read_sealed,
)

from .conftest import CanaryRecord

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@keys_required
def record_page(request: HttpRequest, pk: str) -> HttpResponse:
    record = CanaryRecord.objects.get(pk=pk)
    try:
        shown = open_sealed_fields(request, record, ["name", "narrative"])
    except KeysUnavailableError:
        return HttpResponse(status=404)
    return HttpResponse(" | ".join(v.error or str(v.value) for v in shown.values()))


urlpatterns = [path("staff/records/<uuid:pk>/", record_page), *project_urls.urlpatterns]


def _record(user):  # type: ignore[no-untyped-def]
    keyring, key = vault.create_keyring(users=[user], by=None)
    record = CanaryRecord(keyring=keyring)
    record.seal(key, name="Noor", narrative="What happened")
    record.save()
    return record


def test_locked_session_goes_to_unlock_and_back(client: Client) -> None:
    user = make_user(Role.CASEWORKER, keys=True)
    record = _record(user)
    sign_in(client, user)
    url = f"/staff/records/{record.pk}/"
    response = client.get(url)
    assert response["Location"] == f"/staff/unlock/?next=%2Fstaff%2Frecords%2F{record.pk}%2F"


def test_unlock_page_then_record(client: Client) -> None:
    user = make_user(Role.CASEWORKER, keys=True)
    record = _record(user)
    sign_in(client, user)
    response = client.post(
        "/staff/unlock/", {"password": PASSWORD, "next": f"/staff/records/{record.pk}/"}
    )
    assert response["Location"] == f"/staff/records/{record.pk}/"
    page = client.get(response["Location"])
    assert page.content.decode() == "Noor | What happened"


def test_damaged_field_shows_a_message_and_the_rest(client: Client) -> None:
    user = make_user(Role.CASEWORKER, keys=True)
    record = _record(user)
    damaged = bytearray(record.narrative)
    damaged[-3] ^= 0xFF
    CanaryRecord.objects.filter(pk=record.pk).update(narrative=bytes(damaged))
    sign_in(client, user)
    client.post("/staff/unlock/", {"password": PASSWORD})
    content = client.get(f"/staff/records/{record.pk}/").content.decode()
    assert content.startswith("Noor | This item is damaged")


def test_someone_else_gets_404_not_content(client: Client) -> None:
    owner = make_user(Role.CASEWORKER, keys=True)
    other = make_user(Role.CASEWORKER, keys=True)
    record = _record(owner)
    sign_in(client, other)
    client.post("/staff/unlock/", {"password": PASSWORD})
    assert client.get(f"/staff/records/{record.pk}/").status_code == 404


def test_read_sealed_without_unlocked_keys_raises(rf) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.CASEWORKER, keys=True)
    record = _record(user)
    request = rf.get("/")
    request.user = user
    request.session = {}
    request.user.is_verified = lambda: True
    with pytest.raises(NotUnlockedError):
        read_sealed(request, record, "name")
