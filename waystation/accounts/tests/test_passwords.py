import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "weak",
    [
        "short pass 1",
        "aaaaaaaaaaaaaaaaaaa",
        "abcabcabcabcabcabc",
        "12345678901234567",
        "passwordpassword",
    ],
)
def test_weak_passwords_are_refused(weak: str) -> None:
    with pytest.raises(ValidationError):
        validate_password(weak)


def test_a_long_passphrase_is_accepted() -> None:
    validate_password("violet tractor sings at dawn")


def test_change_form_explains_and_keeps_no_secret(client) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_user(Role.CASEWORKER))
    response = client.post(
        "/staff/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "tooshort",
            "new_password2": "tooshort",
        },
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "at least 14 characters" in content
    assert "tooshort" not in content and PASSWORD not in content
