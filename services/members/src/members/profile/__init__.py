"""Profile: the member entity (会员) this service owns, read by id, in pages and as a federated reference."""
