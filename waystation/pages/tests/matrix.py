"""Read the URL matrix from docs/permissions.md, list every URL the project serves, and
build the objects its rows are about."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from waystation.accounts.models import User
from waystation.cases import services as cases
from waystation.cases.models import Case, CrisisQuestion, CrisisResponse, ReplyTemplate, Task
from waystation.partners.models import AttestationRequest, IndividualVerifier, Partner
from waystation.planning import services as planning
from waystation.planning.models import CountryFacts, Milestone, Plan, TravelDocument
from waystation.vault import crypto
from waystation.vault.models import Keyring

PERMISSIONS_DOC = Path(__file__).resolve().parents[3] / "docs" / "permissions.md"

# URLs about something other than a case: the kind of object their `pk` names. A row
# without a variant is about an existing one; "missing" about none. Tasks and attestation
# requests have an "own" one (on the user's own case; a task the user owns) and a
# "foreign" one (on someone else's case, owned by them).
ABOUT = {
    "cases:surge": "crisis",
    "cases:crisis_edit": "crisis",
    "cases:surge_account_new": "crisis",
    "cases:surge_share": "crisis",
    "cases:crisis_questions": "crisis",
    "cases:crisis_question": "question",
    "cases:crisis_question_move": "question",
    "cases:crisis_question_remove": "question",
    "cases:reply_template": "template",
    "planning:country": "country_facts",
    "cases:surge_account_end": "surge_account",
    "cases:task_done": "task",
    "attestations:verifier": "verifier",
    "attestations:verifier_deactivate": "verifier",
    "attestations:verifier_reactivate": "verifier",
    "attestations:cancel": "attestation",
    "planning:document": "document",
    "planning:document_remove": "document",
    "planning:milestone": "milestone",
    "planning:milestone_done": "milestone",
}
# The funding URLs and the kind of object each is about; with a variant (own, foreign,
# missing) the object of a case the user works, of someone else's, or none.
FUNDING_ABOUT = {
    "funding:fund": "fund",
    "funding:fund_deposit": "fund",
    "funding:fund_overdraft": "fund",
    "funding:fund_envelope": "fund",
    "funding:request": "request",
    "funding:request_items": "request",
    "funding:request_summary": "request",
    "funding:request_submit": "request",
    "funding:request_withdraw": "request",
    "funding:line_actual": "line",
    "funding:payment_received": "payment",
    "funding:meeting": "meeting",
    "funding:meeting_agenda": "meeting",
    "funding:meeting_status": "meeting",
    "funding:item_conflict": "item",
    "funding:item_score": "item",
    "funding:item_vote": "item",
    "funding:item_decide": "item",
    "funding:item_reconsider": "item",
    "funding:payment_authorize": "payment",
    "funding:payment_release": "payment",
    "funding:payment_cancel": "payment",
    "funding:payment_reissue": "payment",
    "funding:give_back": "commitment",
    "funding:payment": "payment",
    "funding:payment_receipts": "payment",
    "funding:receipt": "receipt",
    "funding:receipt_remove": "receipt",
}
ABOUT.update(FUNDING_ABOUT)
# The planning URLs about a case (own, foreign or missing), like those of cases.
PLANNING_CASE_URLS = {
    "planning:case",
    "planning:document_add",
    "planning:nationalities",
    "planning:pathway",
    "planning:milestone_add",
    "planning:options",
    "planning:dossier",
    "planning:dossier_export",
    "funding:case_requests",
}


@dataclass(frozen=True)
class Row:
    method: str
    name: str
    expected: dict[str, str]
    # For URLs about a case: "own" (assigned to the user), "foreign" (someone else's, not
    # in the user's queue) or "missing" (no such case); for the others, see ABOUT.
    variant: str = ""


def parse_matrix() -> list[Row]:
    text = PERMISSIONS_DOC.read_text(encoding="utf-8")
    block = text.split("<!-- matrix:start -->")[1].split("<!-- matrix:end -->")[0]
    lines = [line.strip() for line in block.strip().splitlines() if line.strip().startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    roles = header[2:]
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        name, _, variant = cells[1].partition(" ")
        rows.append(
            Row(
                cells[0],
                name.strip("`"),
                dict(zip(roles, cells[2:], strict=True)),
                variant.strip("()"),
            )
        )
    return rows


def url_names() -> set[str]:
    """Every named URL pattern, namespaced (e.g. `accounts:login`)."""
    names: set[str] = set()

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
                walk(pattern.url_patterns, namespace)
            elif pattern.name:
                names.add(f"{prefix}{pattern.name}")

    walk(get_resolver().url_patterns, "")
    return names


def url_for(name: str, objects: dict[str, object], variant: str = "") -> str:
    """Reverse `name`, filling a `pk` argument with the object the URL is about."""
    kind = "agreement" if "agreement_" in name else "person"
    if name.startswith(("cases:", "verification:")) or name in PLANNING_CASE_URLS:
        kind = f"case_{variant}"
        if kind not in objects:  # any case will do: the page is closed before the view
            objects = {**objects, kind: SimpleNamespace(pk=uuid.uuid4())}
    if name.startswith("registry:") or name == "partners:referral":
        # The registry's URLs are about a partner, the portal's about one referral.
        base = "partner" if name.startswith("registry:") else "referral"
        kind = f"{base}_{variant}" if variant else base
        if kind not in objects:  # "missing", or a test without partners
            objects = {**objects, kind: SimpleNamespace(pk=uuid.uuid4())}
    if name.startswith("attestations:") and variant:
        # About a case (own, foreign or missing).
        kind = f"case_{variant}"
        if kind not in objects:
            objects = {**objects, kind: SimpleNamespace(pk=uuid.uuid4())}
    if name in ABOUT:
        kind = f"{ABOUT[name]}_{variant}" if variant else ABOUT[name]
        if kind not in objects:  # "missing"
            objects = {**objects, kind: SimpleNamespace(pk=uuid.uuid4())}
    try:
        return reverse(name)
    except NoReverseMatch:
        pass
    if name == "planning:template":
        # A pathway's template: one that exists, or a name no pathway has.
        return reverse(name, kwargs={"pathway": "nothing" if variant == "missing" else "study"})
    if name == "guidance:country":
        # A country page: one the seed holds, or a code no country has.
        return reverse(name, kwargs={"code": "zz" if variant == "missing" else "ug"})
    if name.startswith("partners:attest"):
        # An attestation link's token, or the handle a link was exchanged for: none given out.
        return reverse(name, args=["0" * 43])
    pk = objects[kind].pk  # type: ignore[attr-defined]
    try:
        return reverse(name, kwargs={"pk": pk})
    except NoReverseMatch:
        pass
    if name == "cases:evidence":
        # One of the case's files: the variant's own (`evidence_own`), else an id of none.
        evidence = objects.get(f"evidence_{variant}", SimpleNamespace(pk=uuid.uuid4()))
        return reverse(name, kwargs={"pk": pk, "evidence": evidence.pk})  # type: ignore[attr-defined]
    # A URL about two cases (a duplicate decision): the same case on both sides.
    return reverse(name, kwargs={"pk": pk, "other": pk})


def post_data(name: str, objects: dict[str, object], variant: str = "") -> dict[str, str]:
    """The data a POST row sends: none, except the evidence item a review names (the
    variant's own file, `evidence_own`), so the roles allowed reach the form, and a reason
    to remove a receipt, so a removal allowed is done and one refused says so."""
    if name == "verification:review" and f"evidence_{variant}" in objects:
        return {"evidence": str(objects[f"evidence_{variant}"].pk)}  # type: ignore[attr-defined]
    if name == "funding:receipt_remove" and f"receipt_{variant}" in objects:
        receipt = objects[f"receipt_{variant}"]
        return {f"r-{receipt.pk}-reason": "duplicate"}  # type: ignore[attr-defined]
    return {}


def objects_about(name: str, user: User | None, objects: dict[str, Any]) -> dict[str, object]:
    """The objects a URL that is not about a case is about (ABOUT), built for its rows only.
    `objects` holds the person (someone else), the partner and the own and foreign cases."""
    someone_else: User = objects["person"]
    kind = ABOUT.get(name)
    if kind in ("crisis", "question"):
        crisis = make_crisis(by=someone_else)
        return {"crisis": crisis, "question": make_question(crisis, by=someone_else)}
    if kind == "template":
        return {"template": make_template(by=someone_else)}
    if kind == "country_facts":
        return {
            "country_facts": planning.save_country_facts(
                CountryFacts(country="TZ"), by=someone_else
            )
        }
    if kind == "verifier":
        return {"verifier": make_verifier(by=someone_else)}
    if kind == "task":
        return {
            "task_own": make_task(objects["case_own"], owner=user or someone_else),
            "task_foreign": make_task(objects["case_foreign"], owner=someone_else),
        }
    if name in FUNDING_ABOUT:
        from waystation.funding.tests.factories import matrix_objects

        return matrix_objects(objects["case_own"], objects["case_foreign"])
    if kind in ("document", "milestone"):
        return {
            f"{kind}_own": make_planning_row(kind, objects["case_own"]),
            f"{kind}_foreign": make_planning_row(kind, objects["case_foreign"]),
        }
    if kind == "attestation":
        partner = objects["partner"]
        return {
            "attestation_own": make_attestation(objects["case_own"], partner, by=user),
            "attestation_foreign": make_attestation(
                objects["case_foreign"], partner, by=someone_else
            ),
        }
    return {}


def make_crisis(*, by: User) -> CrisisResponse:
    """A crisis response under way, as a coordinator defines it."""
    return cases.create_crisis_response(
        name="Kabul evacuation",
        countries=["AF"],
        starts_on=timezone.localdate() - timedelta(days=3),
        ends_on=None,
        reply_template_name="",
        by=by,
    )


def make_question(crisis: CrisisResponse, *, by: User) -> CrisisQuestion:
    return cases.add_crisis_question(crisis, {"en": "Where are you staying?"}, by=by)


def make_template(*, by: User) -> ReplyTemplate:
    return cases.save_reply_template(
        ReplyTemplate(name="Received", language="en", text="We have your message."), by=by
    )


def make_verifier(*, by: User) -> IndividualVerifier:
    """An active individual verifier whose name and contact were never sealed (no keys)."""
    return IndividualVerifier.objects.create(
        kind=IndividualVerifier.Kind.RELOCATED,
        countries=["NG"],
        keyring=Keyring.objects.create(),
        added_by=by,
    )


def make_task(case: Case, *, owner: User) -> Task:
    """An open task of `owner` on the case, its title sealed under a stand-in key."""
    task = Task(case=case, keyring_id=case.keyring_id, owner=owner, due_on=timezone.localdate())
    task.seal(crypto.new_key(), title="Call back")
    task.save(force_insert=True)
    return task


def make_planning_row(kind: str, case: Case) -> TravelDocument | Milestone:
    """A document or a plan milestone of the case, nothing sealed in it."""
    if kind == "document":
        return TravelDocument.objects.create(
            case=case, keyring_id=case.keyring_id, kind="passport", status="held"
        )
    plan = Plan.objects.create(case=case, keyring_id=case.keyring_id, pathway="study")
    return Milestone.objects.create(
        plan=plan, case=case, keyring_id=case.keyring_id, owner="caseworker"
    )


def make_attestation(case: Case, partner: Partner, *, by: User | None) -> AttestationRequest:
    """An unanswered attestation request on the case, to the partner, its link never given
    out (nothing disclosed)."""
    return AttestationRequest.objects.create(
        case=case,
        partner=partner,
        token_hash=secrets.token_hex(32),
        disclosed_fields=["first_name"],
        disclosed=b"",
        created_by=by,
        expires_at=timezone.now() + timedelta(days=7),
    )
