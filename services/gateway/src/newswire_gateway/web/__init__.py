"""The reader's web pages, served by the gateway: server-rendered, live with JavaScript."""

from .routes import install, router

__all__ = ["install", "router"]
