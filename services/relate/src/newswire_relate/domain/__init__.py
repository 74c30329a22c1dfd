"""The relation engine: features, candidate index, scoring, relation graph, documents. No I/O."""
