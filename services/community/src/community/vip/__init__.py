"""VIP entry and review: applications checked against the entry rule, exceptions, graduation, monthly review."""
