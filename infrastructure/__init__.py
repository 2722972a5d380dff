"""Adapters: persistence, configuration, logging, key material, data files."""
