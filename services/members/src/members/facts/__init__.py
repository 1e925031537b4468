"""facts feature of the members service."""
