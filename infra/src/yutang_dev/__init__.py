"""Yutang's local development stack: embedded PostgreSQL, keys, tokens, migrations and the process supervisor."""
