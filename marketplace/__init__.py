"""Curated marketplace: Solidity contracts plus the Python services around them."""

__version__ = "0.1.0"
