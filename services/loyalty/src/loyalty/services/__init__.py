"""Loyalty use cases."""
