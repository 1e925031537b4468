"""Community's own copy of the facts VIP entry needs: members' orders (from members) and tiers (from loyalty)."""
