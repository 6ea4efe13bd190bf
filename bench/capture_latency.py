"""How long a full web capture takes next to a bare Chromium screenshot of the same page.

Both sides start cold in a fresh process, run alternately on the same loopback pages, and the
medians are compared:

* library: ``capture_page`` — full-page and viewport PNG, MHTML, DOM, HAR, visible text and
  every recorded fact, with scrolling for lazy content and a wait for the network to settle;
* cli: ``evidencekit capture URL --no-stamp`` into a fresh locker — the same capture, then
  unlocking the key, hashing, perceptual hashes, the signed item and the custody log
  (stamping is left out: it waits on outside servers);
* reference: ``chromium --headless --screenshot --window-size=1280,<page height>`` — one picture
  and nothing else, the floor any browser-based capture stands on (same quiet launch flags).

A warm line shows the per-page cost once the browser is running (demo, interactive mode).
The cli side includes writing the capture's WACZ (its traffic as WARC, indexed and packaged);
the ``wacz`` column times that step alone on the warm capture, and ``w/o wacz`` is the cli
ratio with it taken out, so both ratios print side by side.
Run: ``.venv/bin/python bench/capture_latency.py [--runs N]``. The target (issue 5) is a CLI
ratio ≤ 2.0; issue 17: WARC recording adds at most 10 % to it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evidencekit._internal.browser import BrowserSession, find_browser, launch_args
from evidencekit._internal.capture import capture_page, wacz
from evidencekit._internal.demo_site import DemoHandler, serve_loopback

COLD_CAPTURE = """
import sys
from pathlib import Path
from evidencekit._internal.capture import capture_page
capture_page(sys.argv[1], workdir=Path(sys.argv[2]))
"""


class BenchHandler(DemoHandler):
    """The demo pages, plus ``/bands.html``: 1280×5000 px of colour bands (the issue's page)."""

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/bands.html":
            bands = "".join(f'<div style="height:500px;background:hsl({i * 36},70%,50%)">'
                            f"band {i}</div>" for i in range(10))
            body = f'<!doctype html><title>5000 px</title><body style="margin:0">{bands}'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            super().do_GET()


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env)
    return time.perf_counter() - start


def pack(files: tuple, metadata: dict) -> float:
    """Seconds to write a capture's WACZ, as storing a capture does."""
    by_name = {f.name: f.path for f in files}
    start = time.perf_counter()
    wacz.pack_capture(next(iter(by_name.values())).parent / "page.wacz", by_name, metadata, "bench")
    return time.perf_counter() - start


def cli_locker(home: Path) -> dict[str, str] | None:
    """Environment for a fresh locker with an identity and a case, or None if the CLI fails."""
    env = {**os.environ, "EVIDENCEKIT_HOME": str(home), "EVIDENCEKIT_PASSPHRASE": "bench only",
           "EVIDENCEKIT_LANG": "en"}
    for args in (["init", "--kdf", "interactive"], ["case", "new", "Benchmark"]):
        done = subprocess.run([sys.executable, "-m", "evidencekit", *args], env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(f"(no cli column: evidencekit {' '.join(args)} failed: {done.stderr.strip()})")
            return None
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    chromium = find_browser()
    print(f"browser: {chromium.path.name} (found by {chromium.source}); {runs} runs each, "
          "alternating; median wall time")
    pages = [("5000-px bands", "/bands.html", 5000), ("demo chat", "/chat.html", None),
             ("demo post", "/post.html", None)]
    with serve_loopback(BenchHandler) as base, tempfile.TemporaryDirectory() as tmp, \
            BrowserSession() as warm:
        env = cli_locker(Path(tmp, "locker"))
        print(f"{'page':<16}{'library':>9}{'cli':>8}{'reference':>11}{'lib ratio':>11}"
              f"{'cli ratio':>11}{'warm':>8}{'wacz':>8}{'w/o wacz':>10}")
        for label, path, height in pages:
            url = base + path
            if height is None:  # the reference needs a window as tall as the page
                probe = capture_page(url, workdir=Path(tmp, "probe"), session=warm)
                height = probe.metadata["page"]["page_height"]
            ours, cli, reference, warm_times, packing = [], [], [], [], []
            for run in range(runs):
                ours.append(timed([sys.executable, "-c", COLD_CAPTURE, url,
                                   str(Path(tmp, f"cold-{run}"))]))
                if env is not None:
                    cli.append(timed([sys.executable, "-m", "evidencekit", "capture", url,
                                      "--no-stamp"], env))
                reference.append(timed([
                    str(chromium.path), "--headless", *launch_args(), "--hide-scrollbars",
                    f"--screenshot={Path(tmp, 'reference.png')}", f"--window-size=1280,{height}",
                    url]))
                start = time.perf_counter()
                result = capture_page(url, workdir=Path(tmp, f"warm-{run}"), session=warm)
                warm_times.append(time.perf_counter() - start)
                packing.append(pack(result.files, result.metadata))
            a, b = statistics.median(ours), statistics.median(reference)
            c = statistics.median(cli) if cli else float("nan")
            w = statistics.median(packing)
            print(f"{label:<16}{a:>8.2f}s{c:>7.2f}s{b:>10.2f}s{a / b:>11.2f}{c / b:>11.2f}"
                  f"{statistics.median(warm_times):>7.2f}s{w:>7.2f}s{(c - w) / b:>10.2f}")


if __name__ == "__main__":
    main()
