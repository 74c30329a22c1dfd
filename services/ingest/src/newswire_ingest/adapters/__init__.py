"""What ingest touches the world with: its collections, HTTP fetching, publishing."""
