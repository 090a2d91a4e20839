"""LAYER."""
