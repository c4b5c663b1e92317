"""Verified cases the way staff verify them: a proposal and a second person's confirmation,
through the services. Tests of other apps use `verify` to move a case past the guard."""

from conftest import make_user
from waystation.accounts.models import Role, User
from waystation.cases.models import Case
from waystation.vault import crypto
from waystation.verification import services
from waystation.verification.models import Decision


def verify(case: Case, *, proposer: User | None = None, confirmer: User | None = None) -> Decision:
    """A decided "verified" decision on `case` (in verification, verified or further on),
    proposed and confirmed by two different staff members. The summary is sealed under a
    stand-in key: tests that read it seal their own with the case key."""
    proposer = proposer or make_user(Role.CASEWORKER)
    confirmer = confirmer or make_user(Role.VERIFIER)
    proposal = services.propose_verified(
        case,
        "Two attestations and a consistent letter.",
        by=proposer,
        keyring_key=crypto.new_key(),
        expected_version=None,
    )
    return services.confirm_verified(case, proposal.pk, by=confirmer)
