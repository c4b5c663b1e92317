"""Translation catalogs: compile .po to .mo without GNU gettext, and find gaps.

`python -m waystation.lib.catalogs compile` writes every .mo; `check` lists untranslated,
fuzzy or placeholder-breaking entries and exits non-zero when there are any.
"""

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
SOURCE_LANGUAGE = "en"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdf]|\{(\w+)\}|%[sd]")


@dataclass(frozen=True)
class Gap:
    language: str
    msgid: str
    problem: str


def catalogs() -> dict[str, Path]:
    return {
        path.parent.parent.name: path for path in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/django.po"))
    }


def load(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _texts(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _placeholders(text: str) -> set[str]:
    return {match.group(0) for match in PLACEHOLDER.finditer(text)}


def gaps_in(language: str, catalog: Catalog) -> list[Gap]:
    found: list[Gap] = []
    for message in catalog:
        if not message.id:
            continue
        msgid = _texts(message.id)[0]
        if language == SOURCE_LANGUAGE:
            continue
        if message.fuzzy:
            found.append(Gap(language, msgid, "fuzzy"))
            continue
        strings = _texts(message.string or "")
        if not all(s.strip() for s in strings):
            found.append(Gap(language, msgid, "untranslated"))
            continue
        found.extend(_placeholder_gaps(language, message, strings))
    return found


def _placeholder_gaps(language: str, message: Message, strings: list[str]) -> list[Gap]:
    ids = _texts(message.id)
    wanted = set().union(*(_placeholders(i) for i in ids))
    found = []
    for text in strings:
        extra = _placeholders(text) - wanted
        if extra:
            found.append(Gap(language, ids[0], f"unknown placeholder {sorted(extra)}"))
    named = {p for p in wanted if p.startswith("%(")}
    if message.pluralizable:
        # A plural form may spell its number out ("one second"), so a named placeholder
        # needs to survive in at least one form, not in all.
        present = set().union(*(_placeholders(t) for t in strings))
        missing = named - present
    else:
        missing = named - _placeholders(strings[0])
    if missing:
        found.append(Gap(language, ids[0], f"missing placeholder {sorted(missing)}"))
    return found


def all_gaps() -> list[Gap]:
    return [gap for lang, path in catalogs().items() for gap in gaps_in(lang, load(path))]


def compile_all() -> list[Path]:
    written = []
    for path in catalogs().values():
        catalog = load(path)
        target = path.with_suffix(".mo")
        with target.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "compile":
        for target in compile_all():
            print(f"wrote {target.relative_to(LOCALE_DIR.parent.parent)}")
        return 0
    gaps = all_gaps()
    for gap in gaps:
        print(f"{gap.language}: {gap.problem}: {gap.msgid!r}")
    print(f"{len(catalogs())} catalogs, {len(gaps)} gaps")
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
