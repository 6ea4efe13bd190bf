"""A case for the report tests, built once per test module with real parts on loopback.

Holds: two captures of the demo chat page (look-alikes), a WhatsApp import, a signed e-mail
(DKIM verified with recorded keys), a diary note, and a picture marked sensitive; stamped by a
local TSA and a loopback OpenTimestamps calendar whose block is then mined, so the report has
verified timestamps of both kinds to speak about.
"""

from __future__ import annotations

import io
import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from PIL import Image, ImageDraw

from conftest import CORPUS, PASSPHRASE
from evidencekit import importers
from evidencekit.locker import Locker, Source
from evidencekit.models import IncidentFacts

EXPORTS = CORPUS / "exports"
WHATSAPP = EXPORTS / "whatsapp" / "WhatsApp Chat with Dmitry S EN+Media Android.txt"
EMAIL = EXPORTS / "email" / "rfc6376.signed.msg"
ED25519_RECORD = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
HOSTILE = '<script>alert("x")</script> "; } body { display: none } /*'


def needs_corpus() -> None:
    if not WHATSAPP.is_file() or not EMAIL.is_file():
        pytest.skip("the shared corpus (chat and e-mail exports) lives beside the repository and is absent")


def dkim_records() -> dict[str, str]:
    return {"test._domainkey.football.example.com": (EXPORTS / "email" / "test.txt").read_text(),
            "brisbane._domainkey.football.example.com": ED25519_RECORD}


def picture(seed: int, size: tuple[int, int] = (640, 420), text: str = "Evidence") -> bytes:
    """A PNG with fine detail (noise, lines, words): blurring or boxing it is measurable."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (250, 250, 245))
    draw = ImageDraw.Draw(image)
    for y in range(0, size[1], 14):
        draw.text((12, y), f"{text} {seed} line {y} " + "x" * rng.randint(5, 40), fill=(rng.randint(0, 90),) * 3)
    for _ in range(400):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.point((x, y), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def import_item(locker: Locker, path: Path, kind: str, facts: IncidentFacts, **options: object) -> str:
    """An import as the lead's ``evidencekit import`` stores it: the export, then its transcript."""
    transcript = importers.parse(path, **options)  # type: ignore[arg-type]
    sources = [Source(path.name, path=path), Source("transcript.json", data=importers.dump_json(transcript),
                                                     media_type="application/json")]
    acquired = {"method": "import", "format": transcript.format}
    return locker.add_items([(kind, sources, acquired, facts)], PASSPHRASE)[0].label


@dataclass
class ReportCase:
    home: Path
    labels: dict[str, str] = field(default_factory=dict)  # role -> item label
    roots: list[x509.Certificate] = field(default_factory=list)
    header_sources: list = field(default_factory=list)

    def locker(self) -> Locker:
        return Locker.open(self.home, PASSPHRASE)


@contextmanager
def stamping_servers() -> Iterator[tuple]:
    """A local TSA, a loopback calendar and a bitcoind-style RPC on one synthetic chain."""
    from servers.block_sources import BitcoindRpc
    from servers.chain import SyntheticChain
    from servers.ots_calendar import LoopbackCalendar
    from servers.tsa import LocalTsa, openssl

    if openssl() is None:
        pytest.skip("the openssl command is needed for the local TSA")
    chain = SyntheticChain()
    tsa, calendar, rpc = LocalTsa("Loopback TSA"), LoopbackCalendar(chain), BitcoindRpc(chain)
    try:
        yield tsa, calendar, rpc
    finally:
        for server in (tsa, calendar, rpc):
            server.close()


@contextmanager
def report_case(folder: Path, *, capture: bool = True) -> Iterator[ReportCase]:
    """Build the case (and keep the environment pointing at its servers while it is used)."""
    needs_corpus()
    from evidencekit._internal.timestamps.bitcoin_headers import BitcoinRpc

    with pytest.MonkeyPatch.context() as env, stamping_servers() as (tsa, calendar, rpc):
        home = folder / "locker"
        for name, value in {"EVIDENCEKIT_HOME": str(home), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE,
                            "EVIDENCEKIT_LANG": "en", "EVIDENCEKIT_OTS_CALENDARS": calendar.url,
                            "EVIDENCEKIT_TSA_URLS": tsa.url, "EVIDENCEKIT_MIN_CALENDARS": "1",
                            "EVIDENCEKIT_BITCOIN_NETWORK": "regtest"}.items():
            env.setenv(name, value)
        built = ReportCase(home, roots=[x509.load_pem_x509_certificate(tsa.ca_pem)],
                           header_sources=[BitcoinRpc(rpc.url)])
        with Locker.create(home, PASSPHRASE, "interactive") as locker:
            locker.create_case("Vaktrom – harassment by a colleague", PASSPHRASE)
            if capture:
                _captures(locker, built)
            built.labels["chat"] = import_item(locker, WHATSAPP, "chat",
                                               IncidentFacts(who="customer", channel="WhatsApp"))
            built.labels["email"] = import_item(locker, EMAIL, "email", IncidentFacts(who="leader", channel="e-mail"),
                                                dns_records=dkim_records())
            built.labels["note"] = locker.add_note(f"He came to my desk again and said it was a joke. {HOSTILE}",
                                                   PASSPHRASE, IncidentFacts("2025-03-02")).label
            sensitive = locker.add_items([("file", [Source("private.png", data=picture(7, text="Private"))],
                                           {"method": "file"}, IncidentFacts("2025-03-03", "colleague", "SMS",
                                                                             "Picture he sent"))], PASSPHRASE)[0]
            built.labels["sensitive"] = locker.mark_sensitive(sensitive.label, PASSPHRASE).label
            summary = locker.stamp()
            assert not summary.failures, [f.reason for f in summary.failures]
            calendar.mine()
            assert locker.upgrade_stamps().counts["pending"] == 0
        yield built


def _captures(locker: Locker, built: ReportCase) -> None:
    """Two captures of the demo chat page, stored as ``evidencekit capture`` stores them."""
    from capture_pages.site import session_or_skip
    from evidencekit import capture
    from evidencekit._internal.capture import capture_page
    from evidencekit._internal.demo_site import serve_demo

    session = session_or_skip()
    labels = []
    try:
        with serve_demo() as site:
            for facts in (IncidentFacts("2025-03-01", "colleague", "Teams", "Comments in the staff room"),
                          IncidentFacts()):
                work = locker.scratch()
                taken = capture_page(site.url("chat"), workdir=work, session=session)
                labels.append(capture.store(locker, taken, PASSPHRASE, facts).label)
                shutil.rmtree(work, ignore_errors=True)
    finally:
        session.close()
    built.labels["web"], built.labels["web_again"] = labels
