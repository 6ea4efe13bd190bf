"""Trusted timestamps: OpenTimestamps (Bitcoin) and RFC 3161 (time-stamping authorities).

One module per job: ``http`` (bounded requests), ``bitcoin_headers`` (headers and their sources),
``checkpoints`` (the real difficulty periods a header that came with a proof must match),
``ots`` and ``rfc3161`` (each kind of proof), ``stamping`` (both kinds in one round), ``verify``
(a standalone proof against a file), ``model`` (results). The public face is
:mod:`evidencekit.timestamps`.
"""
