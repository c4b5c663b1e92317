"""Which state a case may move to from which, what each move needs, and the one place
where later apps add conditions (guards) without editing this app.

    from waystation.cases.workflow import register_guard, TransitionRefusedError

    def verified_first(case, target):
        if not is_verified(case):
            raise TransitionRefusedError(_("Verify the case before planning."))

    register_guard(State.PLANNING, verified_first)   # in the app's AppConfig.ready()
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .models import Case, Reason, State

MAIN_PATH = [
    State.NEW,
    State.TRIAGED,
    State.IN_VERIFICATION,
    State.VERIFIED,
    State.PLANNING,
    State.AWAITING_FUNDING,
    State.FUNDED,
    State.TRAVELLING,
    State.ARRIVED,
    State.IN_SUPPORT,
]
# Open cases on the main path: the ones that can be held, withdrawn or quarantined.
ACTIVE = frozenset(MAIN_PATH)
# Side states a case leaves only by being reopened.
ENDED = frozenset({State.CLOSED, State.DECLINED, State.WITHDRAWN, State.DUPLICATE, State.REFERRED})
BEFORE_TRAVEL = frozenset(MAIN_PATH[: MAIN_PATH.index(State.FUNDED)])


@dataclass(frozen=True)
class Rule:
    allowed_from: frozenset[str]
    reasons: frozenset[str] = frozenset()  # empty: no reason asked
    needs_duplicate: bool = False


def _next(state: State) -> frozenset[str]:
    return frozenset({MAIN_PATH[MAIN_PATH.index(state) - 1]})


RULES: dict[str, Rule] = {
    **{state: Rule(_next(state)) for state in MAIN_PATH[1:]},
    State.CLOSED: Rule(
        frozenset({State.ARRIVED, State.IN_SUPPORT}),
        frozenset({Reason.SUPPORT_ENDED, Reason.PERSON_SAFE, Reason.OTHER}),
    ),
    State.ON_HOLD: Rule(ACTIVE),
    State.DECLINED: Rule(
        BEFORE_TRAVEL,
        frozenset(
            {
                Reason.OUTSIDE_MANDATE,
                Reason.NOT_REACHABLE,
                Reason.NOT_VERIFIABLE,
                Reason.NO_FUNDS,
                Reason.OTHER,
            }
        ),
    ),
    State.WITHDRAWN: Rule(
        ACTIVE | {State.ON_HOLD},
        frozenset({Reason.PERSON_WITHDREW, Reason.PERSON_SAFE, Reason.NOT_REACHABLE}),
    ),
    State.DUPLICATE: Rule(
        frozenset({State.NEW, State.TRIAGED, State.IN_VERIFICATION}), needs_duplicate=True
    ),
    State.REFERRED: Rule(
        BEFORE_TRAVEL, frozenset({Reason.OTHER_ORGANIZATION, Reason.OUTSIDE_MANDATE})
    ),
    State.QUARANTINED: Rule(
        ACTIVE | {State.ON_HOLD},
        frozenset({Reason.SUSPECTED_FRAUD, Reason.SUSPECTED_ENTRAPMENT, Reason.OTHER}),
    ),
}
REOPEN_REASONS = frozenset({Reason.NEW_INFORMATION, Reason.MISTAKE, Reason.OTHER})


class TransitionRefusedError(Exception):
    """A move the workflow or a guard does not allow; `message` says why, in words for
    the person who asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


Guard = Callable[[Case, str], None]
_guards: dict[str, list[Guard]] = defaultdict(list)


def register_guard(target: str, guard: Guard) -> None:
    """Add a condition for moving into `target`, by a move, a resume after a hold or a
    reopening: `guard(case, target)` raises TransitionRefusedError to stop it. Registering
    the same guard twice is harmless."""
    if target not in State.values:
        raise ValueError(f"not a case state: {target!r}")
    if guard not in _guards[target]:
        _guards[target].append(guard)


def unregister_guard(target: str, guard: Guard) -> None:
    if guard in _guards[target]:
        _guards[target].remove(guard)


def check(case: Case, target: str, *, reason: str = "", duplicate_of: Case | None = None) -> None:
    """Raise TransitionRefusedError unless `case` may move to `target` with this reason."""
    rule = RULES.get(target)
    if rule is None or case.state not in rule.allowed_from:
        raise TransitionRefusedError(
            _("A case that is “%(state)s” cannot become “%(target)s”.")
            % {"state": State(case.state).label, "target": State(target).label}
        )
    if rule.reasons and reason not in rule.reasons:
        raise TransitionRefusedError(_("Choose a reason for this change."))
    if not rule.reasons and reason:
        raise TransitionRefusedError(_("This change takes no reason."))
    if rule.needs_duplicate and (duplicate_of is None or duplicate_of.pk == case.pk):
        raise TransitionRefusedError(_("Choose the other case this one duplicates."))
    run_guards(case, target)


def run_guards(case: Case, target: str) -> None:
    """Run every guard registered for `target`; the first that refuses raises
    TransitionRefusedError."""
    # .get: a lookup must not add an empty entry for every state ever asked about.
    for guard in list(_guards.get(target, ())):
        guard(case, target)


def reopen_target(case: Case) -> str:
    """Where reopening takes a case: a quarantined one back to where it was, any other to
    triage."""
    if case.state == State.QUARANTINED and case.resume_state:
        return case.resume_state
    return State.TRIAGED


def check_reopen(case: Case, reason: str) -> None:
    """Raise TransitionRefusedError unless `case` may be reopened with this reason,
    guards of the state it would return to included."""
    if case.state not in ENDED | {State.QUARANTINED}:
        raise TransitionRefusedError(_("This case is open: there is nothing to reopen."))
    if reason not in REOPEN_REASONS:
        raise TransitionRefusedError(_("Choose a reason for reopening."))
    # Reopening returns a case to a state like any move does: the same guards hold, or
    # a quarantined case would come back "verified" without a verification in force.
    run_guards(case, reopen_target(case))


def check_resume(case: Case) -> None:
    """Raise TransitionRefusedError unless `case` is on hold and the guards of the state it
    was held in let it back."""
    if case.state != State.ON_HOLD:
        raise TransitionRefusedError(_("Only a case on hold can be resumed."))
    run_guards(case, case.resume_state)
