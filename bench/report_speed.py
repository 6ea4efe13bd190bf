"""How long a case report takes, and how much memory, next to Chromium printing the same HTML.

Builds a case of ``--items`` items (default 500), ``--screenshots`` of them pictures (default
200, one in ten a look-alike of another), the rest chat imports, e-mails and diary notes (diary
notes only when the shared corpus is absent). Then, each in a fresh process so peak memory is
its own:

* ``html``: ``report.write(… .html)`` — seconds and peak memory (RSS) of the Python process;
* ``pdf``: ``report.write(… .pdf)`` — the same HTML printed by Chromium through Playwright;
* reference: ``chromium --headless --print-to-pdf`` on the very HTML file from the first step.

Prints seconds, peak memory and the ratio of our print to the reference print.
Run: ``python bench/report_speed.py [--items 500] [--screenshots 200] [--lang nb]``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSPHRASE = "bench"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "exports"
WHATSAPP = CORPUS / "whatsapp" / "WhatsApp Chat with Dmitry S EN+Media Android.txt"
EMAIL = CORPUS / "email" / "rfc6376.signed.msg"


def _screenshot(seed: int) -> bytes:
    """A 1280 × 2400 'page': lines of text on a light background, different for every seed."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (1280, 2400), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1280, 90), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    for y in range(120, 2400, 22):
        indent = rng.randrange(20, 400)
        draw.text((indent, y), f"post {seed} line {y}: " + "lorem ipsum " * rng.randrange(1, 8), fill=(30, 30, 30))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def build(home: Path, items: int, screenshots: int) -> None:
    from evidencekit import importers
    from evidencekit.locker import Locker, Source
    from evidencekit.models import IncidentFacts

    with Locker.open(home) as locker:
        locker.init_identity(PASSPHRASE, "interactive")
        locker.create_case("Benchmark case", PASSPHRASE)
        drafts: list = []
        chat = email = None
        if WHATSAPP.is_file() and EMAIL.is_file():
            chat = importers.dump_json(importers.parse(WHATSAPP))
            email = importers.dump_json(importers.parse(EMAIL))
        who = ("customer", "colleague", "leader", "unknown")
        for n in range(items):
            facts = IncidentFacts(f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}", who[n % 4], f"channel {n % 5}",
                                  f"Incident number {n}")
            if n < screenshots:
                seed = n - 1 if n % 10 == 9 else n  # every tenth picture repeats the one before
                drafts.append(("file", [Source(f"shot-{n}.png", data=_screenshot(seed))], {"method": "file"}, facts))
            elif chat is not None and n % 3 == 0:
                drafts.append(("chat", [Source(WHATSAPP.name, path=WHATSAPP), Source("transcript.json", data=chat)],
                               {"method": "import", "format": "whatsapp"}, facts))
            elif email is not None and n % 3 == 1:
                drafts.append(("email", [Source(EMAIL.name, path=EMAIL), Source("transcript.json", data=email)],
                               {"method": "import", "format": "email"}, facts))
            else:
                drafts.append(("diary", [Source("diary.txt", data=f"Note {n}: it happened again.".encode())],
                               {"method": "diary"}, facts))
            if len(drafts) == 50:
                locker.add_items(drafts, PASSPHRASE)
                drafts = []
        if drafts:
            locker.add_items(drafts, PASSPHRASE)


def measure(step: str, home: Path, output: Path, lang: str) -> None:
    """One step in this (fresh) process; prints JSON: seconds and peak memory in MB."""
    from evidencekit import report
    from evidencekit.locker import Locker

    options = report.Options(lang=lang)
    with Locker.open(home) as locker:
        started = time.perf_counter()
        report.write(locker, output, options=options)  # .html or .pdf, as the command writes them
        seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": own, "child_peak_mb": children}))


def _step(step: str, home: Path, output: Path, lang: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--measure", step, str(home), str(output), "--lang", lang],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def reference(html: Path, pdf: Path) -> dict[str, float]:
    """Chromium's own --print-to-pdf of the same HTML file, timed with its peak memory."""
    from evidencekit._internal.browser import find_browser, launch_args

    with tempfile.TemporaryDirectory(prefix="ek-ref-") as profile:
        command = [str(find_browser().path), "--headless", *launch_args(), f"--user-data-dir={profile}",
                   "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri()]
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    if status != 0 or not pdf.is_file():
        sys.exit(f"the reference print failed (status {status})")
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024}


def _pages(pdf: Path) -> str:
    try:
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--screenshots", type=int, default=200)
    parser.add_argument("--lang", default="nb", choices=("nb", "en"))
    parser.add_argument("--measure", nargs=3, metavar=("STEP", "HOME", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        step, home, output = args.measure
        measure(step, Path(home), Path(output), args.lang)
        return
    os.environ.update({"EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": ""})  # nothing leaves this machine
    with tempfile.TemporaryDirectory(prefix="ek-bench-report-") as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        build(root / "locker", args.items, min(args.screenshots, args.items))
        built = time.perf_counter() - started
        html, pdf, ref_pdf = root / "report.html", root / "report.pdf", root / "reference.pdf"
        ours_html = _step("html", root / "locker", html, args.lang)
        ours_pdf = _step("pdf", root / "locker", pdf, args.lang)
        ref = reference(html, ref_pdf)
        html_mb = html.stat().st_size / 1e6
        print_only = max(ours_pdf["seconds"] - ours_html["seconds"], 1e-9)
        print(f"report_speed: {args.items} items ({min(args.screenshots, args.items)} screenshots), lang {args.lang}"
              f" (case built in {built:.1f} s)")
        print(f"  html  report.write (html)          : {ours_html['seconds']:7.2f} s"
              f"  peak {ours_html['peak_mb']:6.0f} MB  ({html_mb:.1f} MB of HTML)")
        print(f"  pdf   report.write (html + print)  : {ours_pdf['seconds']:7.2f} s  peak {ours_pdf['peak_mb']:6.0f} MB"
              f" python, {ours_pdf['child_peak_mb']:.0f} MB largest child  ({_pages(pdf)} pages,"
              f" {pdf.stat().st_size / 1e6:.1f} MB)")
        print(f"  ref   chromium --print-to-pdf      : {ref['seconds']:7.2f} s  peak {ref['peak_mb']:6.0f} MB"
              f"  ({_pages(ref_pdf)} pages, same HTML file)")
        print(f"  ratio our print / reference print  : {print_only / ref['seconds']:7.2f}"
              f"  (our print ≈ pdf − html = {print_only:.2f} s)")
        print(f"  ratio whole PDF / reference print  : {ours_pdf['seconds'] / ref['seconds']:7.2f}")


if __name__ == "__main__":
    main()
