"""Community use cases."""
