"""Random input to the public forms never causes a server error or a lost answer."""

import pytest
from django.test import Client
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import ANSWERS

pytestmark = pytest.mark.django_db

text = st.text(max_size=400) | st.sampled_from(["", " ", "١٢٣", "NG", "now", "\u202e", "a" * 20000])
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _clean(data: dict[str, object]) -> dict[str, object]:
    return {k: (v.replace("\x00", "") if isinstance(v, str) else v) for k, v in data.items()}


@FUZZ
@given(
    changes=st.dictionaries(
        st.sampled_from([*sorted(ANSWERS), "form_token", "x"]), text, max_size=6
    )
)
def test_request_form(client: Client, intake_team, changes: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    data = _clean({**ANSWERS, "form_token": "fuzz-token", **changes})
    response = client.post("/ask/", data)
    assert response.status_code < 500 or response.status_code == 503
    if response.status_code == 400:
        # Whatever was typed comes back in the form, escaped.
        region = data.get("region")
        if isinstance(region, str) and region.isprintable() and len(region) <= 80:
            assert escape(region) in response.content.decode()


@FUZZ
@given(
    data=st.dictionaries(st.sampled_from(["action", "code", "text", "message"]), text, max_size=4)
)
def test_follow_up_forms(client: Client, data: dict[str, str]) -> None:
    assert client.post("/follow-up/", _clean(data)).status_code < 500
    assert client.post("/follow-up/files/", _clean(data)).status_code < 500
    assert client.post("/exit/", _clean(data)).status_code < 500
