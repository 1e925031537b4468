"""Points lots: expiry of lapsed lots, points expiring soon, and the lots' reconciliation."""
