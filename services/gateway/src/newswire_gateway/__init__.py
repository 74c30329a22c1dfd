"""Newswire gateway: the HTTP API for clients."""
