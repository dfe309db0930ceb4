"""What the projection and the condition triggers derive from raw values, offline.

* The device class of a user agent (``mobile``, ``tablet``, ``desktop``, ``bot``, ``other``),
  parsed with ``ua-parser`` (its Rust-accelerated resolver when installed), cached per agent.
* The sentiment of a message's text: VADER's compound score in ``[-1, 1]`` (``vaderSentiment``,
  an offline lexicon); ``positive`` at or above 0.05, ``negative`` at or below -0.05.
* A country from a phone number (``phonenumbers``) when the contact has none.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import phonenumbers

POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
DEVICES = ("mobile", "tablet", "desktop", "bot", "other")
_MOBILE_OS = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Symbian OS"})
_DESKTOP_OS = frozenset({"Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora", "FreeBSD"})
_TABLETS = ("iPad", "Tablet", "Kindle", "Nexus 7", "Nexus 9", "Nexus 10", "SM-T")


@lru_cache(maxsize=4096)
def device_class(agent: str) -> str:
    """The device class of a user agent string."""
    from ua_parser import parse

    result = parse(agent[:1000])
    device = result.device.family if result.device else "Other"
    os_family = result.os.family if result.os else "Other"
    if device == "Spider":
        return "bot"
    if any(mark in device for mark in _TABLETS) or any(mark in agent for mark in ("iPad", "Tablet")):
        return "tablet"
    if os_family == "Android" and "Mobile" not in agent:
        return "tablet"
    if os_family in _MOBILE_OS or "Mobi" in agent:
        return "mobile"
    if os_family in _DESKTOP_OS:
        return "desktop"
    return "other"


class Signals:
    """The derivations the projection applies to events (one instance per process: VADER's
    lexicon loads once, on first use)."""

    def __init__(self) -> None:
        self._analyzer: Any = None

    def device(self, agent: str) -> str:
        return device_class(agent)

    def sentiment(self, text: str) -> float:
        """VADER's compound score of ``text``."""
        if self._analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._analyzer = SentimentIntensityAnalyzer()
        return round(float(self._analyzer.polarity_scores(text)["compound"]), 4)


def sentiment_label(score: float) -> str:
    """``positive``, ``negative`` or ``neutral`` for a compound score."""
    if score >= POSITIVE_AT:
        return "positive"
    if score <= NEGATIVE_AT:
        return "negative"
    return "neutral"


@lru_cache(maxsize=4096)
def country_of_phone(phone: str) -> str | None:
    """The ISO 3166-1 alpha-2 region of an international phone number, or None."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    return region if region and region != "ZZ" else None
