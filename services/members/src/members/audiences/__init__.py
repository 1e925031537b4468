"""audiences feature of the members service."""
