"""Implementation details; the public API is in the modules one level up."""
