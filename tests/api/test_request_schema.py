"""The published request schema accepts exactly what validation accepts (whitespace and
length edges included), checked with the JSON-schema validator schemathesis uses."""

from __future__ import annotations

import jsonschema_rs
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from miot_harness.schemas import MAX_IDENTIFIER_CHARS, MAX_MESSAGE_CHARS, UserRequest

SPACES = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
EDGES = "\x1c\x1f\ufeff\u200b"  # look like space, are not stripped
VALIDATOR = jsonschema_rs.validator_for(UserRequest.model_json_schema())


def _accepted(body: dict[str, str]) -> bool:
    try:
        UserRequest.model_validate(body)
    except ValidationError:
        return False
    return True


def _padded(core: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pad = st.text(alphabet=SPACES + EDGES, max_size=3)
    return st.tuples(pad, core, pad).map("".join)


def _around(limit: int, alphabet: str) -> st.SearchStrategy[str]:
    """Strings of every length near `limit`, and short ones."""
    sizes = st.one_of(st.integers(0, 4), st.integers(limit - 2, limit + 2))
    return sizes.flatmap(lambda n: st.text(alphabet=alphabet, min_size=n, max_size=n))


MESSAGE_CHARS = "ab ñ\t" + EDGES
IDENTIFIER_LIKE = "aZ09_.:@-é /" + EDGES


@settings(max_examples=300, deadline=None)
@given(message=_padded(_around(MAX_MESSAGE_CHARS, MESSAGE_CHARS)))
def test_message_schema_matches_validation(message: str) -> None:
    body = {"message": message}
    assert VALIDATOR.is_valid(body) == _accepted(body)


@settings(max_examples=300, deadline=None)
@given(thread_id=_padded(_around(MAX_IDENTIFIER_CHARS, IDENTIFIER_LIKE)))
def test_identifier_schema_matches_validation(thread_id: str) -> None:
    body = {"message": "hola", "thread_id": thread_id}
    assert VALIDATOR.is_valid(body) == _accepted(body)
