"""Matchers that users write run on RE2: no pattern can stall the server."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from opsgraph.core.models import Matcher
from opsgraph.core.regex import compile_safe, full_match
from opsgraph.notify.settings import parse_matcher


def test_a_catastrophic_pattern_matches_in_linear_time() -> None:
    # With Python's backtracking `re` this call would not return in any useful time (2.8 s at
    # 25 characters, doubling with each); RE2 answers at once whatever the length.
    evil = Matcher(label="owner", value="(a+)+b", regex=True)
    assert evil.matches({"owner": "a" * 100_000}) is False
    assert evil.matches({"owner": "a" * 100_000 + "b"}) is True
    route = parse_matcher('owner=~"(a+)+b"').compiled()
    assert route is not None and route.fullmatch("a" * 100_000) is None


def test_full_match_is_anchored_and_negation_works() -> None:
    assert full_match("db-.*", "db-1") and not full_match("db", "db-1")
    assert Matcher(label="resource", value="db-.*", regex=True, negate=True).matches(
        {"resource": "web-1"}
    )


@pytest.mark.parametrize("pattern", ["(?<=a)b", r"(a)\1", "(unclosed"])
def test_patterns_re2_cannot_take_are_refused_with_the_reason(pattern: str) -> None:
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        Matcher(label="resource", value=pattern, regex=True)
    with pytest.raises(ValueError, match="bad regular expression"):
        parse_matcher(f'resource=~"{pattern}"')
    with pytest.raises(ValueError, match="RE2"):
        compile_safe(pattern)
