"""Members service: who the brand's members are, where they came from, how to reach them."""
