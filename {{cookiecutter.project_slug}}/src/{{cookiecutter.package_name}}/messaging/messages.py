"""Typed, versioned messages: an event's or a job's fields are its payload.

A message type names itself (`TYPE`) and its payload's shape (`VERSION`). A change that
old consumers cannot read gets a new version beside the old one, so that rows and broker
messages written before a deployment are still understood after it.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from {{ cookiecutter.package_name }}.messaging.models import MessageKind


class Message(BaseModel):
    """A message's payload, checked when it is written and again when it is read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    KIND: ClassVar[MessageKind]
    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    # Every concrete message type, by (name, version).
    registry: ClassVar[dict[tuple[str, int], type["Message"]]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: object) -> None:
        """Register a concrete message type; two types may not share a name and version."""
        super().__pydantic_init_subclass__(**kwargs)
        if "TYPE" not in cls.__dict__:
            return  # Event and Job themselves
        key = (cls.TYPE, cls.VERSION)
        if key in Message.registry and Message.registry[key] is not cls:
            raise TypeError(f"two message types are named {cls.TYPE} v{cls.VERSION}")
        Message.registry[key] = cls


class Event(Message):
    """Something that happened: `user.registered`. Any number of consumers may react."""

    KIND: ClassVar[MessageKind] = MessageKind.EVENT


class Job(Message):
    """A piece of work to do once, later: `email.welcome`. One handler does it."""

    KIND: ClassVar[MessageKind] = MessageKind.JOB


class UnknownMessage(LookupError):
    """A message whose name and version no type of this service describes."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A message as the relay hands it on: the outbox row's id travels with it, so that a
    consumer recognises a message delivered twice."""

    id: uuid.UUID
    kind: MessageKind
    name: str
    version: int
    payload: Mapping[str, Any]

    def open(self) -> Message:
        """The typed message; `UnknownMessage` when no type describes it."""
        message_type = Message.registry.get((self.name, self.version))
        if message_type is None or self.kind != message_type.KIND:
            raise UnknownMessage(f"no {self.kind} type {self.name} v{self.version}")
        return message_type.model_validate(self.payload)
