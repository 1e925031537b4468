"""Members use cases."""
