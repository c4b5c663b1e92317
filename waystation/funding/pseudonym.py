"""Whether a summary written for the committee gives away who the person is: their name,
any word of it, or their contact handle, compared after folding case, accents and scripts
(`anyascii`), so "Okéllo" and "OKELLO" are both found. The committee decides on need, not
on identity; a summary that names the person is refused before it is sealed."""

import re

from anyascii import anyascii

# Name words shorter than this are too common to look for ("Al", "Li").
MIN_WORD = 3
# A handle is looked for by its digits when it has this many (phone numbers).
MIN_DIGITS = 6


def _fold(text: str) -> str:
    return anyascii(text).casefold()


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", _fold(text)))


def identifying_words(summary: str, *, name: str, handle: str) -> list[str]:
    """The words of `name` (and the handle) found in `summary`, as written in the name, in
    its order; empty when it gives none of them away."""
    found = []
    words = _words(summary)
    for word in re.findall(r"\w+", name):
        if len(word) >= MIN_WORD and _fold(word) in words and word not in found:
            found.append(word)
    digits = re.sub(r"\D", "", handle)
    if len(digits) >= MIN_DIGITS and digits in re.sub(r"\D", "", summary):
        found.append(handle)
    elif (
        len(handle.strip()) >= MIN_WORD
        and not digits
        and _fold(handle.strip()).lstrip("@") in _fold(summary)
    ):
        found.append(handle.strip())
    return found
