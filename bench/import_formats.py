"""How fast each channel importer reads a large export, next to the bare parse of the same bytes.

Run: ``.venv/bin/python bench/import_formats.py [--messages 100000] [--formats x,tiktok]``

For each format a synthetic export of ``--messages`` messages is written in a temporary folder
(Norwegian text, æøå, the layout the importer documents), then timed on the same file:

* ``evidencekit``: ``evidencekit.importers.parse`` — hashing, every field of the model, offsets;
* the reference: the bare parse alone — ``json.loads`` (Snapchat, X, TikTok, Google Chat),
  ``csv.reader`` over the decoded text (LinkedIn, Discord data package) or lxml's HTML parser
  (Facebook/Instagram HTML, the same parser settings the importer uses) — the least any importer of that format does.

Runs are interleaved and timed by this process's CPU time (best of ``--repeat``); the ratio is
evidencekit's messages per second over the reference's (goal: at least 0.3). Not a test: speed
depends on the machine, so nothing here asserts.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from lxml import etree

from evidencekit.importers import parse

NAMES = ["Kari Nordmann", "Ola Åsen", "Per Ørn", "Siri Æsir"]
WORDS = "hei på deg blåbær syltetøy møte i morgen klokka ni ærlig talt jeg synes ikke det er greit".split()
START = datetime(2024, 3, 20, 8, 0, tzinfo=timezone.utc)


def _words(i: int) -> str:
    return " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(3 + i % 11))


def _when(i: int) -> datetime:
    return START + timedelta(seconds=37 * i)


def snapchat(folder: Path, n: int) -> Path:
    chats: dict[str, list[dict[str, object]]] = {}
    for i in range(n):
        partner = f"venn.{i % 40}"
        mine = i % 3 == 0
        chats.setdefault(partner, []).append({
            "From": "kari.n" if mine else partner, "Media Type": "TEXT",
            "Created": _when(i).strftime("%Y-%m-%d %H:%M:%S UTC"), "Content": _words(i),
            "Conversation Title": None, "IsSender": mine,
            "Created(microseconds)": int(_when(i).timestamp() * 1000), "IsSaved": True})
    path = folder / "chat_history.json"
    path.write_text(json.dumps(chats, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def linkedin(folder: Path, n: int) -> Path:
    path = folder / "messages.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["CONVERSATION ID", "CONVERSATION TITLE", "FROM", "SENDER PROFILE URL", "TO",
                         "RECIPIENT PROFILE URLS", "DATE", "SUBJECT", "CONTENT", "FOLDER"])
        for i in range(n):
            name = NAMES[i % 4]
            body = f"<p>{_words(i)}</p>" if i % 25 == 0 else _words(i)
            writer.writerow([f"2-{i % 300}", "", f"{name.split()[1]}, {name.split()[0]}",
                             f"https://www.linkedin.com/in/p{i % 4}", "Kari Nordmann",
                             "https://www.linkedin.com/in/kari", _when(i).strftime("%Y-%m-%d %H:%M:%S UTC"),
                             "", body, "INBOX"])
    return path


def x_archive(folder: Path, n: int) -> Path:
    threads = []
    per = 500
    for first in range(0, n, per):
        messages = [{"messageCreate": {
            "recipientId": "1", "reactions": [], "urls": [], "text": _words(i) + " &amp; mer",
            "mediaUrls": [], "senderId": str(1 + i % 2), "id": str(10**18 + i),
            "createdAt": _when(i).isoformat(timespec="milliseconds").replace("+00:00", "Z")}}
            for i in range(min(n, first + per) - 1, first - 1, -1)]
        threads.append({"dmConversation": {"conversationId": f"1-{first}", "messages": messages}})
    path = folder / "direct-messages.js"
    path.write_text("window.YTD.direct_messages.part0 = " + json.dumps(threads, ensure_ascii=False,
                                                                       indent=2), encoding="utf-8")
    return path


def tiktok(folder: Path, n: int) -> Path:
    chats: dict[str, list[dict[str, str]]] = {}
    for i in range(n):
        partner = f"bruker_{i % 40}"
        chats.setdefault(f"Chat History with {partner}:", []).append(
            {"Date": _when(i).strftime("%Y-%m-%d %H:%M:%S"), "From": partner if i % 2 else "kari.tt",
             "Content": _words(i)})
    data = {"Activity": {}, "Direct Message": {"Direct Messages": {"ChatHistory": chats}},
            "Profile": {"Profile Information": {"ProfileMap": {"userName": "kari.tt"}}}}
    path = folder / "user_data_tiktok.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def google_chat(folder: Path, n: int) -> Path:
    messages = [{"creator": {"name": NAMES[i % 4], "email": f"p{i % 4}@example.no", "user_type": "Human"},
                 "created_date": _when(i).strftime("%A, %-d %B %Y at %H:%M:%S UTC"),
                 "text": _words(i), "topic_id": f"t{i}", "message_id": f"g/t{i}/t{i}"}
                for i in range(n)]
    path = folder / "messages.json"
    path.write_text(json.dumps({"messages": messages}, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def discord_package(folder: Path, n: int) -> Path:
    channel = folder / "package" / "messages" / "c111"
    channel.mkdir(parents=True)
    with (channel / "messages.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["ID", "Timestamp", "Contents", "Attachments"])
        for i in range(n):
            ms = int(_when(i).timestamp() * 1000)
            writer.writerow([(ms - 1420070400000) << 22, _when(i).isoformat(sep=" "), _words(i), ""])
    return folder / "package"


def facebook_html(folder: Path, n: int) -> Path:
    blocks = []
    for i in range(n - 1, -1, -1):
        local = _when(i) + timedelta(hours=1)
        blocks.append(
            f'<div class="pam _3-95 _2ph- _a6-g uiBoxWhite noborder"><div class="_3-95 _2pim _a6-h _a6-i">'
            f'{NAMES[i % 4]}</div><div class="_3-95 _a6-p"><div><div></div><div>{_words(i)} &amp; mer'
            f'</div><div></div><div></div></div></div><div class="_3-94 _a6-o"><div class="_a72d">'
            f'{local.strftime("%b %d, %Y %I:%M:%S %p").lower()}</div></div></div>')
    page = ('<!DOCTYPE html><html><head><meta charset="utf-8"/><title>Per Ørn</title></head><body>'
            '<div class="_a705"><div class="_a706">' + "".join(blocks) + '</div></div>'
            '<div class="_a6-i">Generated by Kari Nordmann on Wednesday, 20 March 2024 at 09:00 '
            'UTC+01:00</div></body></html>')
    path = folder / "message_1.html"
    path.write_text(page, encoding="utf-8")
    return path


def bare_json(path: Path) -> None:
    data = path.read_bytes()
    if data.startswith(b"window."):
        data = data[data.index(b"=") + 1:]
    json.loads(data)


def bare_csv(path: Path) -> None:
    if path.is_dir():
        path = path / "messages" / "c111" / "messages.csv"
    for _ in csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")):
        pass


def bare_html(path: Path) -> None:
    etree.fromstring(path.read_bytes(), etree.HTMLParser(encoding="utf-8", recover=True, huge_tree=True))


FORMATS: dict[str, tuple[Callable[[Path, int], Path], Callable[[Path], None], str]] = {
    "snapchat": (snapchat, bare_json, "json.loads"),
    "linkedin": (linkedin, bare_csv, "csv.reader"),
    "x": (x_archive, bare_json, "json.loads"),
    "tiktok": (tiktok, bare_json, "json.loads"),
    "google-chat": (google_chat, bare_json, "json.loads"),
    "discord-package": (discord_package, bare_csv, "csv.reader"),
    "facebook-html": (facebook_html, bare_html, "lxml HTML"),
}


def cpu(run: Callable[[], object]) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args()
    print(f"{args.messages} messages per export, best CPU time of {args.repeat}")
    print(f"{'format':16s} {'MB':>6s} {'evidencekit msg/s':>18s} {'reference':>12s} {'msg/s':>12s} {'ratio':>6s}")
    for fmt in args.formats.split(","):
        make, bare, label = FORMATS[fmt]
        with tempfile.TemporaryDirectory() as tmp:
            path = make(Path(tmp), args.messages)
            size = sum(p.stat().st_size for p in ([path] if path.is_file() else path.rglob("*"))
                       if p.is_file())
            found = len(parse(path, fmt=fmt).messages)
            if found != args.messages:
                raise SystemExit(f"{fmt}: {found} messages imported, {args.messages} written")
            ours = theirs = float("inf")
            for _ in range(args.repeat):
                ours = min(ours, cpu(lambda: parse(path, fmt=fmt)))
                theirs = min(theirs, cpu(lambda: bare(path)))
            rate, bare_rate = args.messages / ours, args.messages / theirs
            print(f"{fmt:16s} {size / 1e6:6.1f} {rate:18,.0f} {label:>12s} {bare_rate:12,.0f} "
                  f"{rate / bare_rate:6.2f}")


if __name__ == "__main__":
    main()
