"""Base classes that fix one configuration for every request and response schema."""

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, ClassVar, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError


class MultiLine:
    """Marks a text field that may hold several lines: `Annotated[str | None, MULTI_LINE]`."""


MULTI_LINE: Final = MultiLine()

# Control characters (Unicode Cc), line and paragraph separators, and the bidi embeddings,
# overrides and isolates that make text display in another order than stored (Trojan Source).
# Written as regular expression escapes, which Python and JSON Schema's patterns both read.
_BIDI_CONTROLS = r"\u202a-\u202e\u2066-\u2069"
_ONE_LINE_REFUSES = rf"\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI_CONTROLS}"
# Several lines may break with LF or CRLF and hold tabs; a lone CR rewrites what was shown.
_LINES_REFUSE = rf"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI_CONTROLS}"
_NOT_IN_ONE_LINE = re.compile(f"[{_ONE_LINE_REFUSES}]")
_NOT_IN_LINES = re.compile(rf"[{_LINES_REFUSE}]|\r(?!\n)")
# What trimming removes from either end that one line may hold: Unicode's White_Space
# (as `str.trim` in pydantic-core reads it) less the control characters refused anyway.
_SPACES = r" \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
# The same rules as the JSON schema states them, so clients know what is refused.
ONE_LINE_PATTERN = f"^[^{_ONE_LINE_REFUSES}]*$"
LINES_PATTERN = rf"^(?:[^{_LINES_REFUSE}\r]|\r\n)*$"
# One line with something left once trimmed: `"  "` is as empty as `""`.
FILLED_LINE_PATTERN = (
    f"^[^{_ONE_LINE_REFUSES}]*[^{_ONE_LINE_REFUSES}{_SPACES}][^{_ONE_LINE_REFUSES}]*$"
)


def refuse_control_characters(text: str, *, multi_line: bool = False) -> str:
    """`text` unchanged, or a validation error naming the first control character in it."""
    found = (_NOT_IN_LINES if multi_line else _NOT_IN_ONE_LINE).search(text)
    if found is None:
        return text
    raise PydanticCustomError(
        "control_character",
        "Control characters are not allowed here; found {character} at index {index}.",
        {"character": f"U+{ord(found.group()[0]):04X}", "index": found.start()},
    )


# For text outside a `RequestSchema`, such as a form field.
SingleLine = Annotated[
    str,
    AfterValidator(refuse_control_characters),
    Field(json_schema_extra={"pattern": ONE_LINE_PATTERN}),
]


def declare_text_rules(node: JsonSchemaValue, *, multi_line: bool) -> None:
    """Give every free-form string in a field's JSON schema the pattern of what it may hold."""
    if node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & node.keys():
        node["pattern"] = LINES_PATTERN if multi_line else ONE_LINE_PATTERN
    for option in node.get("anyOf", []):
        declare_text_rules(option, multi_line=multi_line)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            declare_text_rules(node[key], multi_line=multi_line)


def _texts(value: object) -> Iterator[str]:
    """Every string in a field's value, inside lists, sets and mappings too."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _texts(key)
            yield from _texts(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _texts(item)


class RequestSchema(BaseModel):
    """A request body: unknown fields are rejected, and so are control characters in text.

    Strings are kept as sent; fields that should be trimmed (names) say so with `Trimmed`,
    so a password's spaces are never silently removed. Every text field is one line, free
    of control characters; a field meant to hold several lines says so with `MULTI_LINE`
    in its own annotation (not inside a union), and may then hold LF, CRLF and tabs.
    """

    model_config = ConfigDict(extra="forbid")

    _multi_line_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: object) -> None:
        """Note, once per schema, which of its fields may hold several lines."""
        super().__pydantic_init_subclass__(**kwargs)
        cls._multi_line_fields = frozenset(
            name
            for name, field in cls.model_fields.items()
            if any(isinstance(marker, MultiLine) for marker in field.metadata)
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The schema, with the pattern of what each text field may hold."""
        reference = handler(core_schema)
        for name, field in handler.resolve_ref_schema(reference).get("properties", {}).items():
            declare_text_rules(field, multi_line=name in cls._multi_line_fields)
        return reference

    # Before the field's own parsing, so that trimming cannot remove a control character
    # unseen: the document's pattern refuses it wherever it stands.
    @field_validator("*", mode="before")
    @classmethod
    def _refuse_control_characters(cls, value: object, info: ValidationInfo) -> object:
        multi_line = info.field_name in cls._multi_line_fields
        for text in _texts(value):
            refuse_control_characters(text, multi_line=multi_line)
        # The document's `maxLength` bounds the text as sent; trimming comes later.
        limit = _declared_max_lengths(cls).get(info.field_name or "")
        if limit is not None and isinstance(value, str) and len(value) > limit:
            raise PydanticCustomError(
                "string_too_long",
                "String should have at most {max_length} characters",
                {"max_length": limit},
            )
        return value


Trimmed = Annotated[str, StringConstraints(strip_whitespace=True)]
# A trimmed line that must hold something, and a document that says what that means. Its
# pattern refuses control characters too; `RequestSchema` is what checks them, so outside one
# (a query or form parameter) add `refuse_control_characters` as `SingleLine` does.
FilledLine = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    Field(json_schema_extra={"pattern": FILLED_LINE_PATTERN}),
]


@functools.cache
def _declared_max_lengths(schema: type[BaseModel]) -> dict[str, int]:
    """The `maxLength` the API document gives each text field of `schema`, by field name."""
    properties = schema.model_json_schema()["properties"]
    limits = {}
    for name, field in schema.model_fields.items():
        declared = properties.get(field.alias or name, {})
        for option in (declared, *declared.get("anyOf", ())):
            if "maxLength" in option:
                limits[name] = option["maxLength"]
    return limits


def _integral_float_as_int(value: object) -> object:
    """227.0 as 227: JSON Schema counts a number with no fraction as an integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# With a strict int: an integer, also when written 227.0; never a string, a bool or 227.5.
# `Annotated[int, Field(strict=True, ge=..., le=...), WHOLE_NUMBER]`: bounds put after it
# would no longer show in the schema as `minimum` and `maximum`.
WHOLE_NUMBER = BeforeValidator(_integral_float_as_int)


class PatchSchema(RequestSchema):
    """A partial update: fields left out keep their values; only `nullable` ones take null.

    Its JSON schema says so too: the other fields' `null` branch and `null` default, which
    their Python type (`X | None = None`, to tell "left out" apart) would show, are removed.
    """

    nullable: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        reference = super().__get_pydantic_json_schema__(core_schema, handler)
        schema = handler.resolve_ref_schema(reference)
        for name, field in schema.get("properties", {}).items():
            if name in cls.nullable:
                continue
            field.pop("default", None)
            options = [option for option in field.pop("anyOf", []) if option != {"type": "null"}]
            if len(options) == 1:
                field.update(options[0])
            elif options:
                field["anyOf"] = options
        return reference

    @field_validator("*")
    @classmethod
    def _null_only_where_allowed(cls, value: object, info: ValidationInfo) -> object:
        if value is None and info.field_name not in cls.nullable:
            raise ValueError("may be omitted but not set to null")
        return value


class ResponseSchema(BaseModel):
    """A response body, built by attribute from ORM objects, or from a row's columns."""

    model_config = ConfigDict(from_attributes=True)
