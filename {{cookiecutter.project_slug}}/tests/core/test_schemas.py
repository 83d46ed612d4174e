"""Request text is free of control characters; only fields marked multi-line hold line breaks."""

import re
from typing import Annotated

import pytest
from pydantic import Field, TypeAdapter, ValidationError

from {{ cookiecutter.package_name }}.core.schemas import (
    FILLED_LINE_PATTERN,
    LINES_PATTERN,
    MULTI_LINE,
    ONE_LINE_PATTERN,
    FilledLine,
    RequestSchema,
    SingleLine,
    Trimmed,
)

CONTROLS = {
    "nul": "\x00",
    "esc": "\x1b",
    "del": "\x7f",
    "next-line": "\x85",
    "right-to-left-override": "\u202e",
    "first-strong-isolate": "\u2068",
}
LINE_BREAKS = {"newline": "\n", "tab": "\t", "carriage-return": "\r", "line-separator": "\u2028"}


class Note(RequestSchema):
    """A schema with every kind of text field."""

    title: str
    body: Annotated[str | None, MULTI_LINE] = None
    tags: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)


class LaterNote(Note):
    """A field added later, by someone who never heard of the rule."""

    subtitle: str = ""


def refused(**fields: object) -> dict[str, object]:
    """The one error `Note` reports for `fields`."""
    with pytest.raises(ValidationError) as caught:
        LaterNote.model_validate({"title": "Title", **fields})
    [error] = caught.value.errors()
    return dict(error)


@pytest.mark.parametrize("character", (CONTROLS | LINE_BREAKS).values(), ids=CONTROLS | LINE_BREAKS)
@pytest.mark.parametrize("field", ["title", "subtitle"])
def test_a_one_line_field_refuses_control_characters_and_line_breaks(
    field: str, character: str
) -> None:
    error = refused(**{field: f"ab{character}c"})

    assert (error["loc"], error["type"]) == ((field,), "control_character")
    assert f"found U+{ord(character):04X} at index 2" in str(error["msg"])


def test_a_multi_line_field_holds_line_breaks_and_tabs() -> None:
    text = "First line\n\tindented\r\nafter a CRLF\u2028after a line separator"

    assert Note(title="Title", body=text).body == text


@pytest.mark.parametrize("character", [*CONTROLS.values(), "\r"], ids=[*CONTROLS, "lone-cr"])
def test_a_multi_line_field_still_refuses_other_control_characters(character: str) -> None:
    error = refused(body=f"line\n{character}x")

    assert (error["loc"], error["type"]) == (("body",), "control_character")


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"tags": ["fine", "b\x00d"]}, ("tags",)),
        ({"labels": {"k\x1b": "v"}}, ("labels",)),
        ({"labels": {"k": "\u202ev"}}, ("labels",)),
    ],
)
def test_text_inside_lists_and_mappings_is_checked(
    fields: dict[str, object], where: tuple[str]
) -> None:
    assert refused(**fields)["loc"] == where


def test_plain_text_passes_untouched() -> None:
    note = Note(title="Caf\u00e9 \u2014 \u0645\u0642\u0647\u0649 \U0001f468\u200d\U0001f373")

    assert note.title.endswith("\u200d\U0001f373")


def test_single_line_text_outside_request_schemas() -> None:
    adapter = TypeAdapter(SingleLine)

    assert adapter.validate_python("ada@example.com") == "ada@example.com"
    with pytest.raises(ValidationError, match="U\\+0000"):
        adapter.validate_python("ada@example.com\x00")


class Named(RequestSchema):
    """A trimmed field, as names are."""

    name: Trimmed


def test_trimming_does_not_remove_a_control_character_unseen() -> None:
    with pytest.raises(ValidationError, match="found U\\+000B at index 0"):
        Named.model_validate({"name": "\x0bAda "})
    assert Named.model_validate({"name": " Ada "}).name == "Ada"


class Bounded(RequestSchema):
    """Trimmed fields with a length the document declares, required and optional."""

    name: Annotated[FilledLine, Field(max_length=5)]
    nickname: Annotated[Trimmed | None, Field(max_length=5)] = None


def test_the_declared_length_bounds_the_text_as_sent_before_trimming() -> None:
    # The document says maxLength 5: a client checking it refuses " abcde", so must we.
    for sent in ({"name": " abcde"}, {"name": "Ada", "nickname": "abcde "}):
        with pytest.raises(ValidationError, match="at most 5 characters"):
            Bounded.model_validate(sent)
    bounded = Bounded.model_validate({"name": " abc ", "nickname": "abcd "})
    assert (bounded.name, bounded.nickname) == ("abc", "abcd")


def test_the_json_schema_states_what_text_may_hold() -> None:
    properties = Note.model_json_schema()["properties"]

    assert properties["title"]["pattern"] == ONE_LINE_PATTERN
    assert properties["body"]["anyOf"][0]["pattern"] == LINES_PATTERN
    assert properties["tags"]["items"]["pattern"] == ONE_LINE_PATTERN
    assert properties["labels"]["additionalProperties"]["pattern"] == ONE_LINE_PATTERN
    one_line, lines = re.compile(ONE_LINE_PATTERN), re.compile(LINES_PATTERN)
    for text in [*CONTROLS.values(), *LINE_BREAKS.values()]:
        assert not one_line.match(f"a{text}b")
    assert lines.match("First\r\n\tsecond\nthird")
    assert not lines.match("lone\rreturn")
    assert not lines.match("\x1b")


FILLED = TypeAdapter(FilledLine)
# Every character trimming removes that one line may hold, and two it keeps.
SPACES = [" ", "\u00a0", "\u1680", "\u2000", "\u200a", "\u202f", "\u205f", "\u3000"]
KEPT = ["\ufeff", "\u200b"]


@pytest.mark.parametrize("text", [*SPACES, "".join(SPACES), *KEPT, " x ", "\u3000\ufeff"])
def test_a_filled_line_and_its_pattern_agree_on_blank_text(text: str) -> None:
    pattern = re.compile(FILLED_LINE_PATTERN)
    try:
        FILLED.validate_python(text)
    except ValidationError:
        assert not pattern.match(text), "the document admits what the field refuses"
    else:
        assert pattern.match(text), "the document refuses what the field admits"


def test_a_filled_line_states_its_own_pattern() -> None:
    assert FILLED.json_schema()["pattern"] == FILLED_LINE_PATTERN
    assert Named.model_json_schema()["properties"]["name"]["pattern"] == ONE_LINE_PATTERN
