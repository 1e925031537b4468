"""insights feature of the members service."""
