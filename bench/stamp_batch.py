"""Timestamp requests per item: 1,000 items added in a burst, then one ``stamp`` round.

Like ``ots stamp`` with many files, a round sends each calendar one merkle tree, and the queue
stamps each case's newest custody-log head, which commits to every item before it. The reference
is the naive way run side by side: one calendar request per item per calendar.
Target: <= 0.01 requests per item per calendar. Run: ``python bench/stamp_batch.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from servers.chain import SyntheticChain  # noqa: E402
from servers.ots_calendar import LoopbackCalendar  # noqa: E402

from evidencekit.locker import Locker  # noqa: E402

ITEMS = 1000
PASSPHRASE = "bench"


def main() -> None:
    chain = SyntheticChain()
    calendars = [LoopbackCalendar(chain), LoopbackCalendar(chain)]
    os.environ["EVIDENCEKIT_OTS_CALENDARS"] = ",".join(c.url for c in calendars)
    os.environ["EVIDENCEKIT_TSA_URLS"] = ""
    try:
        with tempfile.TemporaryDirectory(prefix="ek-bench-") as scratch, Locker.open(Path(scratch) / "locker") as locker:
            locker.init_identity(PASSPHRASE, "interactive")
            locker.create_case("Burst", PASSPHRASE)
            sample = Path(scratch) / "message.txt"
            started = time.perf_counter()
            for n in range(ITEMS):
                sample.write_text(f"message {n}\n")
                locker.add_files([sample], PASSPHRASE)  # each add is its own change and log head
            burst = time.perf_counter() - started
            started = time.perf_counter()
            summary = locker.stamp()
            ours = time.perf_counter() - started
            assert summary.counts["queued"] == 0, summary.to_json()
        requests = sum(c.submissions for c in calendars)
        per_item = requests / ITEMS / len(calendars)
        print(f"stamp_batch: {ITEMS} items added in {burst:.1f} s, {len(calendars)} loopback calendars")
        print(f"  evidencekit stamp      : {requests} calendar requests in {ours:.2f} s"
              f" = {per_item:.4f} per item per calendar (target <= 0.01)")
        print(f"  naive, one per item    : {ITEMS * len(calendars)} requests = 1.0000 per item per calendar")
        print(f"  ratio (ours / naive)   : {per_item:.4f}")
    finally:
        for calendar in calendars:
            calendar.close()


if __name__ == "__main__":
    main()
