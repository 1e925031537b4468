"""Groups: the brand's WeChat customer groups (社群), numbered and named per type and scope."""
