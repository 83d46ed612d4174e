"""The AsyncAPI 3.0 document of the service's messages, built from `registry.py`: a channel
per message type and version, the service sending each, and who receives it (each consumer,
each job's handler). `docs/asyncapi.yaml` holds it; a test fails when it is stale.
"""

from typing import Any

import yaml

from {{ cookiecutter.package_name }}.application import DESCRIPTION, TITLE, VERSION
from {{ cookiecutter.package_name }}.messaging.handlers import Consumer, JobHandler
from {{ cookiecutter.package_name }}.messaging.messages import Message
from {{ cookiecutter.package_name }}.messaging.registry import (
    CONSUMERS,
    EVENTS,
    JOB_HANDLERS,
)

Document = dict[str, Any]


def _key(message: type[Message]) -> str:
    """`user.registered` v1 -> `user.registered.v1`."""
    return f"{message.TYPE}.v{message.VERSION}"


def _message(message: type[Message]) -> Document:
    return {
        "name": message.TYPE,
        "title": message.__name__,
        "summary": (message.__doc__ or "").strip().splitlines()[0],
        "description": (
            "Its id is the outbox row's, the same on every delivery: the AMQP message-id "
            "property on RabbitMQ, the Nats-Msg-Id header on NATS. Headers message-type, "
            "message-version and message-kind say what the payload is."
        ),
        "contentType": "application/json",
        "payload": message.model_json_schema(),
    }


def _receive(handler: Consumer | JobHandler, message: type[Message]) -> Document:
    channel = {"$ref": f"#/channels/{_key(message)}"}
    return {
        "action": "receive",
        "channel": channel,
        "summary": (handler.handle.__doc__ or "").strip().splitlines()[0],
        "messages": [{"$ref": f"#/channels/{_key(message)}/messages/{message.__name__}"}],
    }


def document() -> Document:
    """The whole document, as plain data."""
    messages: list[type[Message]] = [*EVENTS, *(handler.job for handler in JOB_HANDLERS)]
    channels: Document = {}
    operations: Document = {}
    for message in messages:
        key = _key(message)
        channels[key] = {
            "address": message.TYPE,
            "description": f"{message.KIND.value} {message.TYPE}, version {message.VERSION}",
            "messages": {message.__name__: _message(message)},
        }
        operations[f"send.{key}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"Published through the outbox when {message.__name__} is written.",
            "messages": [{"$ref": f"#/channels/{key}/messages/{message.__name__}"}],
        }
    for consumer in CONSUMERS:
        operations[f"receive.{consumer.name}"] = _receive(consumer, consumer.event)
    for handler in JOB_HANDLERS:
        operations[f"receive.{handler.name}"] = _receive(handler, handler.job)
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"{TITLE} messages", "version": VERSION, "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
    }


def document_yaml() -> str:
    """The document as `docs/asyncapi.yaml` holds it."""
    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)
