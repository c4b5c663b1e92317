"""Unlocked keys live only for the session, encrypted under a secret only the browser holds.

The session row (server side) keeps the private key encrypted with a random 32-byte secret;
the secret travels only in the `vk` cookie (HttpOnly, SameSite=Strict, browser session).
The session store alone, or the cookie alone, opens nothing. Signing out, the idle timeout
and "Lock me out now" flush the session and with it the encrypted key.
"""

import base64
import binascii
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from . import crypto
from .services import UnlockedKeys

COOKIE = "vk"
SESSION_KEY = "vault_sealed"


def _associated(request: HttpRequest, user_id: object) -> bytes:
    return f"session-keys:{user_id}".encode()


def remember(request: HttpRequest, response: HttpResponse, keys: UnlockedKeys) -> None:
    """Keep `keys` for this session: ciphertext in the session, its key in a cookie."""
    secret = secrets.token_bytes(crypto.KEY_BYTES)
    request.session[SESSION_KEY] = base64.b64encode(
        crypto.encrypt(secret, keys.private_key, _associated(request, keys.user_id))
    ).decode()
    response.set_cookie(
        COOKIE,
        base64.urlsafe_b64encode(secret).decode(),
        max_age=None,
        path="/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    request._vault_keys = keys  # type: ignore[attr-defined]


def keys_for(request: HttpRequest) -> UnlockedKeys | None:
    """The signed-in, second-factor-verified user's unlocked keys, or None."""
    cached = getattr(request, "_vault_keys", None)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return None
    if cached is not None and cached.user_id == user.pk:
        return cached
    sealed, cookie = request.session.get(SESSION_KEY), request.COOKIES.get(COOKIE)
    if not sealed or not cookie:
        return None
    try:
        secret = base64.urlsafe_b64decode(cookie.encode())
        private = crypto.decrypt(secret, base64.b64decode(sealed), _associated(request, user.pk))
    except (binascii.Error, ValueError, crypto.DecryptionError):
        return None
    keys = UnlockedKeys(user.pk, private)
    request._vault_keys = keys  # type: ignore[attr-defined]
    return keys


def forget(request: HttpRequest, response: HttpResponse | None = None) -> None:
    request.session.pop(SESSION_KEY, None)
    request._vault_keys = None  # type: ignore[attr-defined]
    if response is not None:
        response.delete_cookie(COOKIE, path="/", samesite="Strict")
