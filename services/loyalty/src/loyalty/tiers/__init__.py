"""Tiers (会员等级): levels qualified on 12 months of orders, upgrades at once, downgrades at the review."""
