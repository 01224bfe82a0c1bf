"""Thin adapters from web frameworks to the engine and stores: no policy here."""
