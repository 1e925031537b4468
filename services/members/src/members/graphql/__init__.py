"""The members subgraph."""
