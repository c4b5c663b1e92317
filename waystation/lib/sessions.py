"""Django's database session store, without the query that checks a new key is free.

Every person who asks for help gets a session (to add evidence at once), so in a surge each
request paid a SELECT for a key that cannot be taken: 32 characters from 36 (about 165
random bits) never collide. If one ever did, the INSERT would fail on the primary key and
Django's `create()` draws another key, as before.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.utils.crypto import get_random_string


class SessionStore(db.SessionStore):
    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)
