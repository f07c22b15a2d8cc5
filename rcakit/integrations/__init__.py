"""Adapters that let other tools' harnesses call rcakit unchanged (``rcakit.integrations.petshop``)."""

__all__ = ["petshop"]
