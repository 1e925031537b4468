"""Operator tasks: what staff must do by hand in WeCom (which has no API for it), and its effect once confirmed."""
