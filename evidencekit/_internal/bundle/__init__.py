"""Bundles: the ZIP a worker hands over, its manifest and signature, and the sealed envelope."""
