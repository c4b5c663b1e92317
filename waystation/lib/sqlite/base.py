"""Django's SQLite backend with one writer queue per database file, shared by every process.

SQLite lets one transaction write at a time. A second writer that finds the file locked
sleeps in SQLite's busy handler for 1, 2, 5, 10 ms and more before it looks again, while a
write transaction of ours lasts about a millisecond: under a surge, cores sat idle waiting
on sleeps. Here each write transaction first takes an exclusive `flock` on a lock file next
to the database, so a waiting writer starts as soon as the one before it ends. The kernel
drops the lock when a process dies, so a crash cannot leave it held.

Only transactions (`transaction.atomic`, which begin IMMEDIATE) queue here; a single
statement in autocommit mode still relies on SQLite's own lock. In-memory databases
(the tests' default) have no file and no queue.
"""

import fcntl
import os
import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# Polling intervals while the lock is held elsewhere: short at first (transactions are
# short), never longer than a millisecond.
FIRST_WAIT = 0.00005
LONGEST_WAIT = 0.001


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writer_lock: int | None = None
        self._writer_locked = False

    def _lock_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None
        return f"{name}-writer.lock"

    def _acquire_writer_lock(self) -> None:
        path = self._lock_path()
        if path is None or self._writer_locked:
            return
        if self._writer_lock is None:
            self._writer_lock = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        deadline = time.monotonic() + timeout
        wait = FIRST_WAIT
        while True:
            try:
                fcntl.flock(self._writer_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OperationalError("database is locked") from None
                time.sleep(wait)
                wait = min(wait * 2, LONGEST_WAIT)
            else:
                self._writer_locked = True
                return

    def _release_writer_lock(self) -> None:
        if self._writer_locked and self._writer_lock is not None:
            fcntl.flock(self._writer_lock, fcntl.LOCK_UN)
        self._writer_locked = False

    def _start_transaction_under_autocommit(self) -> None:
        self._acquire_writer_lock()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private: not in the stubs
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]  # private: not in the stubs
        finally:
            self._release_writer_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]  # private: not in the stubs
        finally:
            self._release_writer_lock()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]  # private: not in the stubs
        finally:
            self._release_writer_lock()
            if self._writer_lock is not None:
                os.close(self._writer_lock)
                self._writer_lock = None
