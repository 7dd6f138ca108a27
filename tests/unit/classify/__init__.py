"""Tests of the archetype classification engine (pipelines.classify)."""
