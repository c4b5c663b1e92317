"""The person's follow-up session: which request, and their follow-up key encrypted under a
secret only their browser's `fk` cookie holds (the session store alone opens nothing)."""

import base64
import binascii
import secrets
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from waystation.vault import crypto

COOKIE = "fk"
SESSION_KEY = "followup"
ASSOCIATED = b"follow-up session"


def remember(request: HttpRequest, response: HttpResponse, request_id: str, private: bytes) -> None:
    secret = secrets.token_bytes(crypto.KEY_BYTES)
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "request": request_id,
        "key": base64.b64encode(crypto.encrypt(secret, private, ASSOCIATED)).decode(),
        "at": time.time(),
    }
    response.set_cookie(
        COOKIE,
        base64.urlsafe_b64encode(secret).decode(),
        max_age=None,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def current(request: HttpRequest) -> tuple[str, bytes] | None:
    """(request id, person's private key) for a signed-in follow-up session, or None."""
    held = request.session.get(SESSION_KEY)
    cookie = request.COOKIES.get(COOKIE)
    if not held or not cookie:
        return None
    if time.time() - held.get("at", 0) > settings.SESSION_IDLE_TIMEOUT.total_seconds():
        forget(request)
        return None
    try:
        secret = base64.urlsafe_b64decode(cookie.encode())
        private = crypto.decrypt(secret, base64.b64decode(held["key"]), ASSOCIATED)
    except (binascii.Error, ValueError, KeyError, crypto.DecryptionError):
        return None
    held["at"] = time.time()
    request.session.modified = True
    return held["request"], private


def forget(request: HttpRequest, response: HttpResponse | None = None) -> None:
    request.session.flush()
    if response is not None:
        response.delete_cookie(COOKIE, samesite="Strict")
