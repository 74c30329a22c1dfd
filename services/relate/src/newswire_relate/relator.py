"""Where index_reader and its test import the Relator from, until they import domain.relator."""

from .domain.relator import Relator

__all__ = ["Relator"]
