"""tags feature of the members service."""
