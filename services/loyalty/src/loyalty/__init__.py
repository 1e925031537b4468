"""Loyalty service: points ledger and balances (later tiers, check-in, rewards)."""
