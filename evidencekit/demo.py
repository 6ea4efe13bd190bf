"""The built-in demonstration: the whole job on fictional sample pages, on this computer only.

A fresh demo locker is made, the two sample pages are served on 127.0.0.1 and captured with
Chromium, a diary note is added, the case is checked, sealed into a bundle and the bundle
verified — what a worker and a case handler would do, end to end. Timestamp servers are off:
the demo contacts nothing beyond this computer.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evidencekit import bundle
from evidencekit import capture as web
from evidencekit._internal.browser import BrowserSession
from evidencekit._internal.demo_site import serve_demo
from evidencekit.errors import UserError
from evidencekit.i18n import t
from evidencekit.locker import Locker
from evidencekit.models import BundleReport, IncidentFacts, Item

PASSPHRASE = "demo"  # printed to the user: a demo locker holds no real evidence
MARKER = ".evidencekit-demo"


@dataclass(frozen=True)
class DemoResult:
    home: Path
    items: tuple[Item, ...]
    bundle: Path
    report: BundleReport


def run(folder: Path, say: Callable[[str], None] = print) -> DemoResult:
    folder = _fresh(folder)
    (folder / MARKER).write_text("made by evidencekit demo\n")
    home = folder / "locker"
    with Locker.create(home, PASSPHRASE, "interactive") as locker:
        locker.set_setting("ots_calendars", "")
        locker.set_setting("tsa_urls", "")
        case = locker.create_case(t("demo.case_title"), PASSPHRASE)
        say(t("demo.step_case", title=case.title, home=str(home)))
        items = []
        with serve_demo() as site, BrowserSession() as session:
            for page, who, note_key in (("chat", "colleague", "demo.note_chat"), ("post", "customer", "demo.note_post")):
                say(t("demo.step_capture", url=site.url(page)))
                facts = IncidentFacts(who=who, channel=t(f"demo.channel_{page}"), description=t(note_key))
                items.append(web.capture(locker, site.url(page), PASSPHRASE, facts=facts, session=session))
        items.append(locker.add_note(t("demo.diary"), PASSPHRASE))
        for item in items:
            say(t("demo.step_item", item=item.label, kind=t("kinds." + item.kind), count=len(item.files)))
        report = locker.check()
        say(report.summary(case.title))
        sealed = bundle.seal(locker, PASSPHRASE, items=[i.label for i in items[:2]], output=folder / "bundle.zip")
        say(t("bundle.sealed", path=str(sealed.path), count=len(sealed.items), withheld=sealed.withheld,
              recipients=0))
    verdict = bundle.verify(sealed.path)
    say(t("demo.step_verify", path=str(sealed.path)))
    return DemoResult(home, tuple(items), sealed.path, verdict)


def _fresh(folder: Path) -> Path:
    """The demo folder, emptied only if an earlier demo made it; anything else is left alone."""
    if folder.exists():
        if not (folder / MARKER).exists():
            raise UserError("demo.folder_taken", path=str(folder))
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder
