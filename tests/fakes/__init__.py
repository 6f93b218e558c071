"""Fake platform servers on loopback that the real libraries talk to."""
