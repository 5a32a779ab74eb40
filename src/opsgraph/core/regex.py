"""Regular expressions that users write (silence and route matchers) run on RE2.

Python's `re` backtracks: a silence matcher `(a+)+b` against a label of 25 `a`s took 2.8 s and
doubled with each character, stalling the server. RE2 (`google-re2`) matches in time linear in
the input whatever the pattern, at the price of lookarounds and backreferences, which are
refused when the matcher is written, with the reason.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

import re2


class SafePattern(Protocol):
    """What callers use of a compiled pattern."""

    pattern: str

    def fullmatch(self, text: str) -> object | None: ...


_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a bad pattern is our user's error, reported to them, not logged


@lru_cache(maxsize=4096)
def compile_safe(pattern: str) -> SafePattern:
    """The pattern compiled by RE2; ValueError saying why when RE2 cannot take it."""
    try:
        compiled: SafePattern = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValueError(
            f"{detail} (patterns run on RE2: no lookarounds or backreferences)"
        ) from None
    return compiled


def full_match(pattern: str, text: str) -> bool:
    """Whether the whole of `text` matches `pattern`, in time linear in `text`."""
    return compile_safe(pattern).fullmatch(text) is not None
