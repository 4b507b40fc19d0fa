"""Helpers the tests import: factories, personas, sign-on builders and a whole little world."""
