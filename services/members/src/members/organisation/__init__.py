"""Organisation: the brand's regions (区域), stores (门店), warehouses (仓), staff, and guide handovers (离职继承)."""
