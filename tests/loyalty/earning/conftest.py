"""The earning fault tests use the event backbone tests' own NATS server and database (they kill the server)."""

from tests.shared.events.conftest import bus, events_database_url, events_engine, js, sessions, vault

__all__ = ["bus", "events_database_url", "events_engine", "js", "sessions", "vault"]
