"""Points: the append-only ledger, balances and manual adjustments (积分)."""
