"""Memberships: who is in which group, in which role, through which channel; capacity holds under concurrency."""
