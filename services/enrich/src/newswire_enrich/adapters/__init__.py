"""The models enrich loads: spaCy pipelines and the lingua language detector."""
