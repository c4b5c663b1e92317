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

SQLite's automatic checkpoint (copying the write-ahead log back into the database, with
its fsyncs) runs inside the COMMIT that passes 1,000 pages, so it held the queue for
milliseconds while every other writer waited. Here each connection turns it off and, every
CHECKPOINT_EVERY commits of its own (or at once after a transaction that grew the log past
LOG_LIMIT_BYTES), runs a PASSIVE checkpoint after giving the queue back: writers go on
while it copies, and the log stays short.
"""

import contextlib
import fcntl
import os
import sqlite3
import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# Polling intervals while the lock is held elsewhere: short at first (transactions are
# short), never longer than a millisecond.
FIRST_WAIT = 0.00005
LONGEST_WAIT = 0.001
# About SQLite's own 1,000-page threshold with the dozen pages a request for help writes,
# spread over the processes that write.
CHECKPOINT_EVERY = 64
# A log grown past this (large transactions: imports, seeding) is copied back at once, and
# SQLite truncates it to this size when it starts over.
LOG_LIMIT_BYTES = 64 * 1024 * 1024


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writer_lock: int | None = None
        self._writer_locked = False
        self._commits = 0

    def get_new_connection(self, conn_params: Any) -> Any:
        conn = super().get_new_connection(conn_params)
        if self._lock_path() is not None:
            conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.execute(f"PRAGMA journal_size_limit={LOG_LIMIT_BYTES}")
        return conn

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
        held = self._writer_locked
        try:
            super()._commit()  # type: ignore[misc]  # private: not in the stubs
        finally:
            self._release_writer_lock()
        if held:
            self._commits += 1
            if self._commits % CHECKPOINT_EVERY == 0 or self._log_size() > LOG_LIMIT_BYTES:
                self.checkpoint()

    def _log_size(self) -> int:
        try:
            return os.stat(f"{self.settings_dict['NAME']}-wal").st_size
        except OSError:
            return 0

    def checkpoint(self) -> None:
        """Copy what the write-ahead log holds into the database file without waiting for
        readers or writers (PASSIVE); a busy database is left for the next time."""
        if self.connection is None or self._lock_path() is None:
            return
        with contextlib.suppress(sqlite3.OperationalError):
            self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

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
