"""Events and background jobs that are never lost and never sent for a write that did not
happen: a transactional outbox, a relay that hands its rows on, idempotent consumers.

Application code calls `publish(session, event)` or `enqueue(session, job)`: both only add a
row to the outbox in the caller's session, so the message commits or rolls back with the
business write. The relay (`relay.py`) claims due rows with a lease, hands each on and marks
it sent only once the hand-off succeeded; a failure is retried later with a growing delay,
and after `OUTBOX_MAX_ATTEMPTS` the row is dead until `outbox requeue` puts it back.
Consumers and jobs run at most once per message, whatever is delivered twice: the inbox
(`handlers.py`) records each message a consumer handled in the same transaction as its
effect.
"""
