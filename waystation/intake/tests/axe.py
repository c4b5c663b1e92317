"""axe-core for the browser tests, read from disk: tests never download anything.

CI fetches it with `npm install --no-save --prefix .ci/node axe-core@4.14.1` and points
AXE_CORE_JS at `.ci/node/node_modules/axe-core/axe.min.js`; without AXE_CORE_JS the tests
look in `node_modules/` at the repository root. Missing: skipped locally, a failure in CI.
"""

import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# What a page must never have; "moderate" and "minor" findings are reviewed, not enforced.
BLOCKING = {"serious", "critical"}


def source() -> str:
    """axe.min.js's text. Skips the test when it is missing, fails it in CI (CI is set)."""
    configured = os.environ.get("AXE_CORE_JS", "")
    # A relative AXE_CORE_JS is taken from the repository root, wherever pytest runs.
    path = ROOT / Path(configured).expanduser() if configured else DEFAULT_PATH
    if not path.is_file():
        reason = (
            f"axe-core is not at {path}: run `npm install --no-save --prefix .ci/node "
            "axe-core@4.14.1` and set AXE_CORE_JS=.ci/node/node_modules/axe-core/axe.min.js"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path.read_text(encoding="utf-8")


def blocking_violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """Run axe on the page's current document; its serious and critical violations.

    The page's context needs `bypass_csp=True`: the CSP forbids the injected script."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source)
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]],
        }
        for violation in results["violations"]
        if violation["impact"] in BLOCKING
    ]


def describe(found: dict[str, list[dict[str, Any]]]) -> str:
    """One line per violation, under the page it was found on, for an assertion message."""
    lines = []
    for page_name, violations in found.items():
        for violation in violations:
            lines.append(
                f"{page_name}: {violation['id']} ({violation['impact']}) {violation['help']}; "
                f"targets {violation['targets']}"
            )
    return "\n".join(lines)
