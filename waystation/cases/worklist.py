"""Where later apps add their own rows to "My tasks" and the daily digest, without this app
knowing them (as `workflow.register_guard` and `signals.register_signal` do for moves and
signals).

    from waystation.cases.worklist import WorkItem, register_work_source

    register_work_source(milestones_for, milestones_due)   # in the app's AppConfig.ready()

`rows(user)` lists the open items the user answers for, each naming the sealed field that
holds its title (decrypted on the page with the case key, like a task's); `due(user, day)`
counts those due on `day` or earlier, for the digest. Both read only.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from waystation.accounts.models import User
from waystation.vault.fields import SealedModel

from .models import Case


@dataclass(frozen=True)
class WorkItem:
    # The case, with its keyring loaded (the page opens it to read the title).
    case: Case
    due_on: date | None
    # The row and sealed field holding the item's title.
    sealed: SealedModel
    field: str
    # What kind of item it is, in words ("Plan milestone").
    label: str
    # Where a POST marks it done (with `back=mine`); "" when the user cannot from the list.
    done_url: str = ""


Rows = Callable[[User], list[WorkItem]]
Due = Callable[[User, date], int]

_sources: list[tuple[Rows, Due]] = []


def register_work_source(rows: Rows, due: Due) -> None:
    """Add an app's items to "My tasks" and its count to the digest (once per process)."""
    if (rows, due) not in _sources:
        _sources.append((rows, due))


def work_items(user: User) -> list[WorkItem]:
    """Every registered source's open items for the user."""
    return [item for rows, _due in _sources for item in rows(user)]


def work_due(user: User, day: date) -> int:
    """How many registered items the user has due on `day` or earlier."""
    return sum(due(user, day) for _rows, due in _sources)
