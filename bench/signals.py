"""Tokens for the fraud signals: what they add to a submission's CPU time, and how well the
narrative bands tell near-identical narratives from unrelated ones. Prints figures; asserts
nothing about time.

    python bench/signals.py [--keys 40] [--seed 1]

Time: `narrative_tokens` on narratives of 2,000 and 10,000 characters (the form's limit),
`evidence_token`, and for comparison the contact and name tokens every submission computes.
Quality: over `--keys` random blind-index keys, the share of pairs that share enough bands
to count as near-identical, for variants of a few real-sounding narratives (words changed,
sentences reordered or dropped) and for every pair of unrelated ones.
"""

import argparse
import itertools
import random
import secrets
import statistics
import time
import timeit
from collections.abc import Callable

from _django import setup

NARRATIVES = [
    "My family found out that I am gay after my brother read the messages on my phone. My "
    "father beat me and said he would kill me if I stayed in the house. I left at night and "
    "now I sleep at a friend's place, but his neighbours are asking questions. The police in "
    "our town arrested two men last month for the same thing and they are still in prison.",
    "I am a transgender woman living in Kampala. Since the new law passed, my landlord "
    "evicted me and my name and photo were shared in a group calling for people like me to "
    "be reported. Two days ago a group of men followed me from the market and threatened to "
    "burn my room. I cannot go to the police because they would arrest me.",
    "I was arrested in March during a raid on a private party and held for eleven days. The "
    "officers took my phone and found pictures of me with my partner. I was released on bail "
    "but the trial is next month and my lawyer says I could get fourteen years. My employer "
    "fired me when the story appeared in the newspaper.",
    "My parents are forcing me to marry a man I do not know in two weeks. They found out I "
    "have a girlfriend and locked me in the house. My uncle says a marriage will cure me. I "
    "am writing from my cousin's phone, who is helping me. I have my passport but no money "
    "to leave.",
    "People in my village attacked me because they say I behave like a woman. They beat me "
    "with sticks and I was in hospital for a week with a broken arm. The chief said I must "
    "leave the village or they will finish the job. I am staying in the city now with no job "
    "and no place to live.",
    "Someone created a fake profile on a dating app and invited me to meet. When I arrived, "
    "five men were waiting; they filmed me, robbed me and said they would send the video to "
    "my family and to the police unless I pay them every month. I already paid twice and "
    "they want more.",
    "After the protest in the capital, my photo with a rainbow flag was shown on national "
    "television. The next morning the police came to my workplace and asked for me by name. "
    "My colleagues hid me. Since then I have not returned home and I change places every few "
    "nights.",
    "I am a gay man and a refugee in a camp. Other residents found out and they attack me at "
    "night. The guards laugh and do nothing. I asked the organization to move me but they "
    "said there is no space. I have scars on my face and hands from the last attack.",
]
FILLERS = ["really", "very", "quite", "also", "just", "then", "now", "there", "here", "again"]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def per_call(function: Callable[[], object], number: int) -> float:
    # CPU time of this process: the figure the submission budget is written in, and steady
    # when other work shares the machine.
    runs = timeit.repeat(function, number=number, repeat=5, timer=time.process_time)
    return statistics.median(runs) / number


def sentences(text: str) -> list[str]:
    return [s.strip() for s in text.split(".") if s.strip()]


def variants(rng: random.Random) -> dict[str, Callable[[str], str]]:
    def change(text: str, count: int) -> str:
        words = text.split(" ")
        for _ in range(count):
            words[rng.randrange(len(words))] = rng.choice(FILLERS)
        return " ".join(words)

    def reorder(text: str) -> str:
        parts = sentences(text)
        rng.shuffle(parts)
        return ". ".join(parts) + "."

    def drop(text: str) -> str:
        parts = sentences(text)
        parts.pop(rng.randrange(len(parts)))
        return ". ".join(parts) + "."

    return {
        "3 words changed": lambda text: change(text, 3),
        "6 words changed": lambda text: change(text, 6),
        "sentences reordered": reorder,
        "reordered, 3 words changed": lambda text: change(reorder(text), 3),
        "one sentence dropped": drop,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=40, help="random blind-index keys")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    setup()

    from django.conf import settings

    from waystation.vault import blind

    rng = random.Random(args.seed)
    story = " ".join(NARRATIVES)
    # The form's longest narrative, without repeats (repeated text has fewer shingles).
    vocabulary = story.split()
    longest = " ".join(rng.choice(vocabulary) for _ in range(3000))[:10_000]
    short = story[:2000]
    digest = secrets.token_hex(32)

    def contact_tokens() -> object:
        return blind.tokens_for(phones=["+2348031234567"], names=["Ada Okafor"], region="NG")

    timed: list[tuple[str, Callable[[], object], int]] = [
        ("narrative_tokens, 2,000 characters", lambda: blind.narrative_tokens(short), 500),
        ("narrative_tokens, 10,000 characters", lambda: blind.narrative_tokens(longest), 100),
        ("evidence_token", lambda: blind.evidence_token(digest), 2000),
        ("tokens_for (phone and name), before", contact_tokens, 2000),
    ]
    print("CPU per call (median of 5 runs):")
    for label, function, number in timed:
        print(f"  {label + ':':<38} {ms(per_call(function, number))}")

    pairs = {
        name: [(text, change(text)) for text in NARRATIVES for _ in range(3)]
        for name, change in variants(rng).items()
    }
    unrelated = list(itertools.combinations(NARRATIVES, 2))
    met = dict.fromkeys(pairs, 0)
    false = 0
    for _ in range(args.keys):
        settings.BLIND_INDEX_KEYS = [secrets.token_urlsafe(40)]
        for name, texts in pairs.items():
            for first, second in texts:
                shared = blind.narrative_tokens(first) & blind.narrative_tokens(second)
                met[name] += len(shared) >= blind.NARRATIVE_MIN_SHARED_BANDS
        for first, second in unrelated:
            shared = blind.narrative_tokens(first) & blind.narrative_tokens(second)
            false += len(shared) >= blind.NARRATIVE_MIN_SHARED_BANDS
    print(
        f"\nNear-identical by {blind.NARRATIVE_MIN_SHARED_BANDS}+ of {blind.NARRATIVE_BANDS} "
        f"bands ({args.keys} keys, narratives of about 60 words):"
    )
    for name, count in met.items():
        print(f"  {name:<28} {count / (args.keys * len(pairs[name])):6.1%} of pairs")
    print(f"  {'unrelated':<28} {false} of {args.keys * len(unrelated)} pairs")


if __name__ == "__main__":
    main()
