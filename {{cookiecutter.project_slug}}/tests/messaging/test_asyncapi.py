"""The AsyncAPI document lists every message and who receives it; `docs/asyncapi.yaml` is it
as it stands."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from {{ cookiecutter.package_name }}.messaging.asyncapi import document, document_yaml
from {{ cookiecutter.package_name }}.messaging.messages import Event, Job, Message
from {{ cookiecutter.package_name }}.messaging.registry import (
    CONSUMERS,
    EVENTS,
    JOB_HANDLERS,
)

EXPORTED = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
REFRESH = "run `uv run {{ cookiecutter.project_slug }} asyncapi > docs/asyncapi.yaml`"
PACKAGE = "{{ cookiecutter.package_name }}."


def test_the_exported_document_is_current() -> None:
    assert EXPORTED.read_text(encoding="utf-8") == document_yaml(), (
        f"docs/asyncapi.yaml is stale: {REFRESH}"
    )


def the_service_s(kind: type[Message]) -> set[type[Message]]:
    """The message types of `kind` defined in the service (tests define others)."""
    return {
        message
        for message in Message.registry.values()
        if issubclass(message, kind) and message.__module__.startswith(PACKAGE)
    }


def test_every_event_is_listed_and_every_job_has_a_handler() -> None:
    assert the_service_s(Event) == set(EVENTS)
    assert the_service_s(Job) == {handler.job for handler in JOB_HANDLERS}


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def test_every_reference_resolves_and_every_consumer_is_a_receiver() -> None:
    built = yaml.safe_load(document_yaml())

    for reference in refs(built):
        node = built
        for part in reference.removeprefix("#/").split("/"):
            node = node[part]
    receivers = {name for name, op in built["operations"].items() if op["action"] == "receive"}
    assert receivers == {f"receive.{consumer.name}" for consumer in CONSUMERS} | {
        f"receive.{handler.name}" for handler in JOB_HANDLERS
    }
    assert built == document()
