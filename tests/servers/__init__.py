"""Loopback servers for the timestamp tests: calendar, block sources, TSA, and misbehaving peers."""
