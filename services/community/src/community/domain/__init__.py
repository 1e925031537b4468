"""Community domain: tables and pure rules (no session, no GraphQL)."""
