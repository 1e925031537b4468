"""Identity: how members, staff, partners and services get tokens (WeChat, WeCom, OAuth2 client credentials)."""
