"""Synchronization domain logic (clone, reload, status, push). No Flask imports here."""
