"""Community service: the brand's WeChat groups (社群), who is in them, and in which role."""
