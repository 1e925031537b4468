"""The community subgraph."""
