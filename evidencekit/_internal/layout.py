"""The names of what a locker folder holds, in one place: the locker itself reads them, and so
does ``upgrade``, which must tell the encrypted locker from one made before encryption at rest."""

from __future__ import annotations

DATABASE = "locker.db"  # SQLCipher
BLOBS = "store"  # sealed blobs under HMAC names
KEY = "locker.key"  # the locker key sealed under the passphrase: its presence makes the locker encrypted
PROFILES = "profiles"
PLAIN_DATABASE = "locker.sqlite"  # a locker from before encryption at rest
PLAIN_BLOBS = "blobs"
STAGING = "upgrade.tmp"  # where ``upgrade`` builds the encrypted locker before the switch
