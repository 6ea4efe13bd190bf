"""Pages and servers for the web-capture tests (all on 127.0.0.1)."""
