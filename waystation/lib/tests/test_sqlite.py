"""The SQLite backend's writer queue: one write transaction at a time per database file,
taken and given back with the transaction, and a clear error past the timeout."""

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

from waystation.lib.sqlite.base import DatabaseWrapper


@pytest.fixture(autouse=True)
def _own_databases(django_db_blocker: Any) -> Any:
    # These tests open their own scratch databases, not the test database.
    with django_db_blocker.unblock():
        yield


def _connection(path: Path, timeout: float = 5.0) -> Any:
    settings = {
        "ENGINE": "waystation.lib.sqlite",
        "NAME": str(path),
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "ATOMIC_REQUESTS": False,
        "AUTOCOMMIT": True,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": timeout},
        "TIME_ZONE": None,
        "TEST": {},
    }
    return DatabaseWrapper(settings, alias=f"queue-{id(settings)}")


def _begin(connection: Any) -> None:
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def _end(connection: Any, *, commit: bool = True) -> None:
    connection.commit() if commit else connection.rollback()
    connection.set_autocommit(True)


def test_a_second_writer_waits_for_the_first_to_commit(tmp_path: Path) -> None:
    first = _connection(tmp_path / "db.sqlite3")
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
    events: list[str] = []

    _begin(first)
    first.cursor().execute("INSERT INTO t VALUES (1)")

    def write() -> None:
        second = _connection(tmp_path / "db.sqlite3")  # a connection belongs to its thread
        _begin(second)
        events.append("second began")
        second.cursor().execute("INSERT INTO t VALUES (2)")
        _end(second)
        second.close()

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.2)
    assert events == []  # queued behind the first writer, not failing
    events.append("first committed")
    _end(first)
    thread.join(5)
    assert events == ["first committed", "second began"]
    assert (tmp_path / "db.sqlite3-writer.lock").exists()
    with first.cursor() as cursor:
        cursor.execute("SELECT n FROM t ORDER BY n")
        assert cursor.fetchall() == [(1,), (2,)]
    first.close()


def test_rollback_and_close_give_the_queue_back(tmp_path: Path) -> None:
    first, second = _connection(tmp_path / "db.sqlite3"), _connection(tmp_path / "db.sqlite3")
    _begin(first)
    _end(first, commit=False)
    _begin(second)  # would wait forever if the rollback had kept the lock
    _end(second)
    _begin(first)
    first.close()
    _begin(second)
    _end(second)
    second.close()


def test_waiting_past_the_timeout_is_a_database_error(tmp_path: Path) -> None:
    first = _connection(tmp_path / "db.sqlite3")
    second = _connection(tmp_path / "db.sqlite3", timeout=0.1)
    _begin(first)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="locked"):
        _begin(second)
    assert time.monotonic() - started >= 0.1
    _end(first)
    _begin(second)  # a failed wait leaves nothing held
    _end(second)
    first.close()
    second.close()


def test_in_memory_databases_have_no_queue() -> None:
    connection = _connection(Path(":memory:"))
    _begin(connection)
    assert connection._writer_lock is None
    _end(connection)
    connection.close()


def test_checkpoints_run_after_commits_not_inside_them(tmp_path: Path, monkeypatch: Any) -> None:
    from waystation.lib.sqlite import base

    monkeypatch.setattr(base, "CHECKPOINT_EVERY", 3)
    path = tmp_path / "db.sqlite3"
    connection = _connection(path)
    connection.settings_dict["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 0
        cursor.execute("CREATE TABLE t (s TEXT)")
    # Nothing reaches the database file until the third commit's checkpoint copies it.
    size = path.stat().st_size
    for commit in range(1, 4):
        _begin(connection)
        connection.cursor().execute("INSERT INTO t VALUES (?)", ["x" * 20_000])
        _end(connection)
        if commit < 3:
            assert path.stat().st_size == size
    assert path.stat().st_size > size + 50_000
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone()[0] == 3
    connection.close()


def test_a_transaction_that_grows_the_log_past_its_limit_is_copied_back_at_once(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from waystation.lib.sqlite import base

    monkeypatch.setattr(base, "LOG_LIMIT_BYTES", 200_000)
    path = tmp_path / "db.sqlite3"
    connection = _connection(path)
    connection.settings_dict["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE t (s TEXT)")
    size = path.stat().st_size
    _begin(connection)
    for _ in range(30):
        connection.cursor().execute("INSERT INTO t VALUES (?)", ["y" * 20_000])
    _end(connection)
    assert path.stat().st_size > size + 500_000
    connection.close()
