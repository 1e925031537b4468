"""Events between services on NATS JetStream: streams, the outbox relay, inbox consumers with a dead-letter
stream, and the background workers a service app runs (see docs/events.md)."""
