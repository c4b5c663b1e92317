"""Read the URL matrix from docs/permissions.md and list every URL the project serves."""

import uuid
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

PERMISSIONS_DOC = Path(__file__).resolve().parents[3] / "docs" / "permissions.md"


@dataclass(frozen=True)
class Row:
    method: str
    name: str
    expected: dict[str, str]
    # For URLs about a case: "own" (assigned to the user), "foreign" (someone else's, not
    # in the user's queue) or "missing" (no such case).
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
    if name.startswith(("cases:", "verification:")):
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
        # About a case (own, foreign or missing), or a verifier or request that is missing.
        kind = f"case_{variant}"
        if kind not in objects:
            objects = {**objects, kind: SimpleNamespace(pk=uuid.uuid4())}
    try:
        return reverse(name)
    except NoReverseMatch:
        pass
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
