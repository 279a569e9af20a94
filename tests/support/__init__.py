"""Helpers shared by test modules: test modules import from here (or from their folder's
helper modules), never from one another."""
