{%- if cookiecutter.messaging == "rabbitmq" -%}
"""RabbitMQ: the relay publishes each message with publisher confirms; the worker consumes.

Messages go to the topic exchange `<BROKER_PREFIX>` under `event.<type>` or `job.<type>`.
Each consumer and each job has a durable quorum queue of its own bound to its routing key,
declared by the relay as well as the worker, so that a message published before the worker
first ran is kept. A job no queue would take is a failed hand-off; an event nobody consumes
is not. A message a consumer fails on is delivered again after a growing delay, at most
BROKER_DELIVERY_LIMIT times; then RabbitMQ moves it to the queue `<BROKER_PREFIX>.dead`
(through the exchange of the same name), where it waits for an operator, never in a loop.
"""
{%- else -%}
"""NATS JetStream: the relay publishes each message and waits for the stream's
acknowledgement; the worker consumes.

Messages go to the stream `<BROKER_PREFIX>` under `<BROKER_PREFIX>.event.<type>` or
`<BROKER_PREFIX>.job.<type>`, with the outbox row's id as `Nats-Msg-Id`: the stream stores a
message published twice (a relay that died before marking it sent) once. Each consumer and
each job has a durable consumer of its own. A message a consumer fails on is delivered again
after a growing delay, at most BROKER_DELIVERY_LIMIT times; then the worker publishes it to
`<BROKER_PREFIX>.dead.<consumer>` and drops it, where it waits for an operator, never in a
loop. The stream keeps messages for OUTBOX_RETENTION_DAYS.
"""
{%- endif %}

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

{% if cookiecutter.messaging == "rabbitmq" -%}
from aio_pika import IncomingMessage
from aiormq.abc import ConfirmationFrameType
from faststream import AckPolicy
from faststream.rabbit import (
    ExchangeType,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitMessage,
    RabbitQueue,
)
from pamqp.commands import Basic
{%- else -%}
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.js.api import ConsumerConfig, StreamConfig
from nats.js.errors import BadRequestError
{%- endif %}

from {{ cookiecutter.package_name }}.messaging.handlers import (
    Consumer,
    Dispatcher,
    JobHandler,
)
from {{ cookiecutter.package_name }}.messaging.messages import Envelope, Message
from {{ cookiecutter.package_name }}.messaging.models import MessageKind
from {{ cookiecutter.package_name }}.messaging.outbox import RetryPolicy
from {{ cookiecutter.package_name }}.settings import Settings

logger = logging.getLogger(__name__)
# Headers every message carries besides its payload.
TYPE_HEADER, VERSION_HEADER, KIND_HEADER = "message-type", "message-version", "message-kind"
{%- if cookiecutter.messaging == "nats" %}
MESSAGE_ID_HEADER = "Nats-Msg-Id"
{%- endif %}


class HandOffRefused(RuntimeError):
    """The broker did not take the message; the relay tries again later."""


def route(message: type[Message] | Envelope) -> str:
    """Where a message type goes, below the prefix: `event.user.registered`,
    `job.email.welcome`."""
    kind = message.KIND if isinstance(message, type) else message.kind
    name = message.TYPE if isinstance(message, type) else message.name
    return f"{kind.value}.{name}"


def headers_of(envelope: Envelope) -> dict[str, Any]:
    """The headers that say what the payload is."""
    return {
        TYPE_HEADER: envelope.name,
        VERSION_HEADER: str(envelope.version),
        KIND_HEADER: envelope.kind.value,
    }


def envelope_from(message_id: str, headers: Mapping[str, Any], body: Mapping[str, Any]) -> Envelope:
    """The envelope a delivered message carries."""
    return Envelope(
        uuid.UUID(message_id),
        MessageKind(headers[KIND_HEADER]),
        headers[TYPE_HEADER],
        int(headers[VERSION_HEADER]),
        body,
    )


class Broker:
    """The service's connection to the broker: publishing for the relay, consuming for the
    worker. `prefix` names everything it declares (BROKER_PREFIX unless given)."""

    def __init__(self, settings: Settings, prefix: str | None = None) -> None:
        self.settings = settings
        self.prefix = prefix or settings.broker_prefix
        self.connected = False
        self._connecting = asyncio.Lock()
        options: dict[str, Any] = {
            "logger": logger,
            "log_level": logging.DEBUG,
            "graceful_timeout": settings.worker_graceful_shutdown_seconds,
        }
{%- if cookiecutter.messaging == "rabbitmq" %}
        self.broker = RabbitBroker(settings.broker_url.get_secret_value(), **options)
        self.exchange = RabbitExchange(self.prefix, type=ExchangeType.TOPIC, durable=True)
        self.dead_exchange = RabbitExchange(
            f"{self.prefix}.dead", type=ExchangeType.TOPIC, durable=True
        )
{%- else %}
        self.broker = NatsBroker(settings.broker_url.get_secret_value(), **options)
        self.stream_config = StreamConfig(
            name=self.prefix,
            subjects=[f"{self.prefix}.>"],
            # Longer than any relay takes to hand a claimed message on again.
            duplicate_window=settings.outbox_lease_seconds * 4,
            max_age=settings.outbox_retention_days * 86_400,
        )
        # `connect` declares the stream, for the relay and the worker alike.
        self.stream = JStream(self.prefix, subjects=self.stream_config.subjects, declare=False)
{%- endif %}

    async def ensure_connected(self, dispatcher: Dispatcher | None) -> None:
        """Connect once, whatever number of hand-offs ask at the same time; a broker that is
        down fails them soon, and the relay tries again later."""
        async with self._connecting:
            if not self.connected:
                async with asyncio.timeout(self.settings.broker_publish_timeout_seconds):
                    await self.connect(dispatcher)

    async def start(self, dispatcher: Dispatcher) -> None:
        """Declare what `dispatcher`'s handlers consume from, then consume."""
        await self.connect(dispatcher)
        await self.broker.start()

    async def close(self) -> None:
        """Stop consuming, letting the messages in hand finish for up to
        WORKER_GRACEFUL_SHUTDOWN_SECONDS, and close the connection (a half-made one too)."""
        await self.broker.stop()
        self.connected = False

    def handlers(self, dispatcher: Dispatcher) -> list[tuple[Consumer | JobHandler, str]]:
        """Every handler of the service, and the route of the messages it takes."""
        return [(consumer, route(consumer.event)) for consumer in dispatcher.consumers] + [
            (handler, route(handler.job)) for handler in dispatcher.jobs.values()
        ]
{%- if cookiecutter.messaging == "rabbitmq" %}

    def queue(self, handler: Consumer | JobHandler, routing_key: str) -> RabbitQueue:
        """A handler's own durable queue, bound to its routing key, dead-lettering after the
        delivery limit."""
        return RabbitQueue(
            f"{self.prefix}.{handler.name}",
            queue_type=QueueType.QUORUM,
            durable=True,
            routing_key=routing_key,
            arguments={
                "x-dead-letter-exchange": self.dead_exchange.name,
                "x-delivery-limit": self.settings.broker_delivery_limit,
            },
        )

    def dead_queue(self) -> RabbitQueue:
        """Where messages end after their last failed delivery."""
        return RabbitQueue(f"{self.prefix}.dead", durable=True, routing_key="#")

    async def connect(self, dispatcher: Dispatcher | None = None) -> None:
        """Connect, and declare the exchanges and every handler's queue and binding."""
        await self.broker.connect()
        exchange = await self.broker.declare_exchange(self.exchange)
        await self.broker.declare_exchange(self.dead_exchange)
        dead = await self.broker.declare_queue(self.dead_queue())
        await dead.bind(self.dead_exchange.name, routing_key="#")
        for handler, routing_key in self.handlers(dispatcher) if dispatcher else ():
            queue = await self.broker.declare_queue(self.queue(handler, routing_key))
            await queue.bind(exchange, routing_key=routing_key)
        self.connected = True

    async def deliver(self, envelope: Envelope, dispatcher: Dispatcher | None = None) -> None:
        """Publish `envelope` persistently and return once RabbitMQ confirmed it; raises
        `HandOffRefused` when it was refused or no queue took it. The first call connects
        and declares the queues of `dispatcher`'s handlers."""
        await self.ensure_connected(dispatcher)
        confirmation = await self.broker.publish(
            dict(envelope.payload),
            exchange=self.exchange,
            routing_key=route(envelope),
            message_id=str(envelope.id),
            headers=headers_of(envelope),
            content_type="application/json",
            persist=True,
            # A job must reach its queue; an event may have no consumer.
            mandatory=envelope.kind == MessageKind.JOB,
            timeout=self.settings.broker_publish_timeout_seconds,
        )
        if not isinstance(confirmation, Basic.Ack):
            raise HandOffRefused(f"RabbitMQ did not take {envelope.name}: {_why(confirmation)}")

    def consume(self, dispatcher: Dispatcher) -> None:
        """Subscribe every handler to its queue (before `start`)."""
        for handler, routing_key in self.handlers(dispatcher):
            subscriber = self.broker.subscriber(
                self.queue(handler, routing_key),
                self.exchange,
                ack_policy=AckPolicy.NACK_ON_ERROR,
                title=handler.name,
            )
            subscriber(_consumer(dispatcher, handler))


def _why(confirmation: ConfirmationFrameType | None) -> str:
    if isinstance(confirmation, IncomingMessage) or hasattr(confirmation, "delivery"):
        return "no queue is bound to its routing key"
    return type(confirmation).__name__


def _consumer(
    dispatcher: Dispatcher, handler: Consumer | JobHandler
) -> Callable[..., Awaitable[None]]:
    settings = dispatcher.settings
    retry = RetryPolicy.from_settings(settings, settings.broker_delivery_limit)

    async def consume(body: dict[str, Any], message: RabbitMessage) -> None:
        try:
            envelope = envelope_from(str(message.message_id), dict(message.headers), body)
            await dispatcher.handle_once(handler, envelope.id, envelope.open())
        except Exception:
            # Held before it goes back to the queue, longer each time: a failure that
            # passes (a server restarting) is not used up in a moment.
            failures = int(message.headers.get("x-delivery-count", 0)) + 1
            await asyncio.sleep(retry.delay(failures).total_seconds())
            raise

    consume.__name__ = handler.name.replace("-", "_").replace(":", "_").replace(".", "_")
    return consume
{%- else %}

    def durable(self, handler: Consumer | JobHandler) -> str:
        """The durable consumer's name of a handler (no dots: JetStream refuses them)."""
        return f"{self.prefix}-{handler.name}".replace(".", "-").replace(":", "-")

    async def connect(self, dispatcher: Dispatcher | None = None) -> None:
        """Connect, and declare the stream."""
        del dispatcher  # the worker's consumers are declared when it subscribes
        stream = (await self.broker.connect()).jetstream()
        try:
            await stream.add_stream(self.stream_config)
        except BadRequestError:  # there, with settings from before: take the current ones
            await stream.update_stream(self.stream_config)
        self.connected = True

    async def deliver(self, envelope: Envelope, dispatcher: Dispatcher | None = None) -> None:
        """Publish `envelope` and return once the stream stored it (or had it already);
        raises when the stream did not acknowledge it. The first call connects."""
        await self.ensure_connected(dispatcher)
        acknowledgement = await self.broker.publish(
            dict(envelope.payload),
            f"{self.prefix}.{route(envelope)}",
            headers={MESSAGE_ID_HEADER: str(envelope.id), **headers_of(envelope)},
            stream=self.prefix,
            timeout=self.settings.broker_publish_timeout_seconds,
        )
        if acknowledgement is None or acknowledgement.stream != self.prefix:
            raise HandOffRefused(f"the stream did not acknowledge {envelope.name}")

    def consume(self, dispatcher: Dispatcher) -> None:
        """Subscribe every handler with a durable consumer (before `start`)."""
        for handler, address in self.handlers(dispatcher):
            subscriber = self.broker.subscriber(
                f"{self.prefix}.{address}",
                stream=self.stream,
                durable=self.durable(handler),
                config=ConsumerConfig(
                    max_deliver=self.settings.broker_delivery_limit + 1,
                    ack_wait=self.settings.outbox_lease_seconds,
                ),
                pull_sub=PullSub(batch_size=16, timeout=1.0),
                ack_policy=AckPolicy.MANUAL,
                title=handler.name,
            )
            subscriber(self._consumer(dispatcher, handler))

    def _consumer(
        self, dispatcher: Dispatcher, handler: Consumer | JobHandler
    ) -> Callable[..., Awaitable[None]]:
        limit = self.settings.broker_delivery_limit
        retry = RetryPolicy.from_settings(self.settings, limit)

        async def consume(body: dict[str, Any], message: NatsMessage) -> None:
            headers = dict(message.headers)
            try:
                envelope = envelope_from(headers[MESSAGE_ID_HEADER], headers, body)
                await dispatcher.handle_once(handler, envelope.id, envelope.open())
            except Exception as error:
                delivered = message.raw_message.metadata.num_delivered
                if delivered <= limit or not await self._dead_letter(handler, message, error):
                    await message.nack(delay=retry.delay(delivered).total_seconds())
                    return
                await message.reject()  # never delivered again
                return
            await message.ack()

        consume.__name__ = self.durable(handler).replace("-", "_")
        return consume

    async def _dead_letter(
        self, handler: Consumer | JobHandler, message: NatsMessage, error: Exception
    ) -> bool:
        """Publish a message that failed its last delivery to the dead-letter subject;
        whether the stream took it (if not, the message is delivered again)."""
        logger.error("message_dead_lettered", exc_info=error, extra={"consumer": handler.name})
        headers = dict(message.headers)
        headers |= {
            # Not the original id, which the stream would take for a duplicate.
            MESSAGE_ID_HEADER: f"{headers.get(MESSAGE_ID_HEADER)}:dead:{handler.name}",
            "error": f"{type(error).__name__}: {error}"[:500],
        }
        try:
            await self.broker.publish(
                message.body,
                f"{self.prefix}.dead.{handler.name}",
                headers=headers,
                stream=self.prefix,
            )
        except Exception:
            logger.exception("dead_letter_failed", extra={"consumer": handler.name})
            return False
        return True
{%- endif %}
