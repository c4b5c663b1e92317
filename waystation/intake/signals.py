"""What intake tells later apps, without knowing them."""

from django.dispatch import Signal

# Sent inside the transaction that stores a request (argument: `request`), so whatever a
# receiver writes commits or rolls back with it.
request_stored = Signal()
