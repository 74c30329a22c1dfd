"""The newswire command-line client."""
