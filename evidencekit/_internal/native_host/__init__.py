"""The browser extension's side door into the locker: Chrome's native messaging.

``host`` runs the conversation (one browser port, one process), ``framing`` reads and writes
the length-prefixed frames, ``schema`` checks every message, ``transfer`` assembles a capture's
chunks in a private folder inside the locker, ``record`` turns what the browser reports into the
same web-capture record the CLI writes, and ``install`` puts the host manifests where browsers
look for them.
"""

HOST_NAME = "org.evidencekit.native_host"
PROTOCOL = 1
