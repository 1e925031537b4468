"""The loyalty subgraph."""
