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


def _associated(user_id: object) -> bytes:
    return f"session-keys:{user_id}".encode()


def seal_under_cookie(response: HttpResponse, cookie: str, key: bytes, associated: bytes) -> str:
    """Encrypt `key` under a new random secret sent only in the browser-session cookie
    `cookie` (HttpOnly, SameSite=Strict); return the ciphertext, for the session store."""
    secret = secrets.token_bytes(crypto.KEY_BYTES)
    response.set_cookie(
        cookie,
        base64.urlsafe_b64encode(secret).decode(),
        max_age=None,
        path="/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    return base64.b64encode(crypto.encrypt(secret, key, associated)).decode()


def open_with_cookie(
    request: HttpRequest, cookie: str, sealed: str, associated: bytes
) -> bytes | None:
    """The key sealed by `seal_under_cookie`, or None without the cookie or when either
    half was tampered with."""
    value = request.COOKIES.get(cookie)
    if not sealed or not value:
        return None
    try:
        secret = base64.urlsafe_b64decode(value.encode())
        return crypto.decrypt(secret, base64.b64decode(sealed), associated)
    except (binascii.Error, ValueError, crypto.DecryptionError):
        return None


def remember(request: HttpRequest, response: HttpResponse, keys: UnlockedKeys) -> None:
    """Keep `keys` for this session: ciphertext in the session, its key in a cookie."""
    request.session[SESSION_KEY] = seal_under_cookie(
        response, COOKIE, keys.private_key, _associated(keys.user_id)
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
    private = open_with_cookie(
        request, COOKIE, request.session.get(SESSION_KEY, ""), _associated(user.pk)
    )
    if private is None:
        return None
    keys = UnlockedKeys(user.pk, private)
    request._vault_keys = keys  # type: ignore[attr-defined]
    return keys


def forget(request: HttpRequest, response: HttpResponse | None = None) -> None:
    request.session.pop(SESSION_KEY, None)
    request._vault_keys = None  # type: ignore[attr-defined]
    if response is not None:
        response.delete_cookie(COOKIE, path="/", samesite="Strict")
