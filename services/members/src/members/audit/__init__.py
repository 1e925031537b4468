"""Audit: the append-only record of who did what in the members service (mutations, personal-data reveals,
exports, logins and token issues), queried by operations."""
