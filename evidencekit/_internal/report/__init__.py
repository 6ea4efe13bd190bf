"""The parts of a case report, one job per module.

``assemble`` gathers what the report says from the locker (using ``exhibits``, ``stamps``,
``timeline``, ``summary``, ``transcript``, ``pictures``, ``duplicates`` and ``proves``);
``render`` turns that into HTML with the templates in ``evidencekit/data/report/``; ``pdf``
prints the HTML with Chromium. The public entry points are in :mod:`evidencekit.report`.
"""
