"""The person's follow-up session: which request, and their follow-up key encrypted under a
secret only their browser's `fk` cookie holds (the session store alone opens nothing)."""

import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from waystation.vault.session import open_with_cookie, seal_under_cookie

COOKIE = "fk"
SESSION_KEY = "followup"
ASSOCIATED = b"follow-up session"


def remember(request: HttpRequest, response: HttpResponse, request_id: str, private: bytes) -> None:
    # A new key for any session the browser already had (fixation); a browser without one
    # gets a fresh key when the session is first saved, at the end of this response.
    request.session.get(SESSION_KEY)  # Loading drops a key the store does not know.
    if request.session.session_key:
        request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "request": request_id,
        "key": seal_under_cookie(response, COOKIE, private, ASSOCIATED),
        "at": time.time(),
    }


def current(request: HttpRequest) -> tuple[str, bytes] | None:
    """(request id, person's private key) for a signed-in follow-up session, or None."""
    held = request.session.get(SESSION_KEY)
    if not held:
        return None
    if time.time() - held.get("at", 0) > settings.SESSION_IDLE_TIMEOUT.total_seconds():
        forget(request)
        return None
    private = open_with_cookie(request, COOKIE, held.get("key", ""), ASSOCIATED)
    if private is None:
        return None
    held["at"] = time.time()
    request.session.modified = True
    return held["request"], private


def forget(request: HttpRequest, response: HttpResponse | None = None) -> None:
    request.session.flush()
    if response is not None:
        response.delete_cookie(COOKIE, path="/", samesite="Strict")
