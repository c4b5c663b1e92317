"""What intake tells later apps, without knowing them."""

from django.dispatch import Signal

# Sent inside the transaction that stores a request (argument: `request`), so whatever a
# receiver writes commits or rolls back with it.
request_stored = Signal()

# Sent before a request is sealed (arguments: `country`, `received_at`); each receiver
# returns a list of further team keys (vault TeamKey) the request's case key is sealed to.
# Asked on every public request: receivers answer from an index or two, and hold no lock.
request_readers = Signal()
