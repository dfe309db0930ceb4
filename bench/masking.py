"""``python -m bench.masking``: milliseconds to mask 100,000 characters of the masker's worst inputs.

The inputs are the shapes that made the former two-regex masker quadratic (a long run of
``a.a.a.``: every letter was a place an email could start, each scanning to the end) and the
shapes of real step results (timestamps, ids, addresses and numbers mixed). Decision 0030
records the figures.
"""

from __future__ import annotations

import time

from beez.kit.masking import mask_text

SIZE = 100_000

INPUTS = {
    "email-like run (a.a.a.)": "a." * (SIZE // 2),
    "at-signs (a@a@a@)": "a@" * (SIZE // 2),
    "digits": "1" * SIZE,
    "spaced digits then a letter": "1 " * (SIZE // 2 - 1) + "x",
    "step results": (
        "2026-12-02T17:40:39.126534+00:00 01a21597-3497-7233-9ea7-b9ba7d16fcef "
        "ada@example.com +2348012345678 " * (SIZE // 101)
    ),
}


def main() -> None:
    for name, text in INPUTS.items():
        best = min(_time(text) for _ in range(5))
        print(f"{name:32} {len(text):>7} chars {best * 1000:8.1f} ms")


def _time(text: str) -> float:
    start = time.perf_counter()
    mask_text(text)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
