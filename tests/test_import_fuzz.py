"""Fuzzing every importer with random and mutated input: the only way an import may fail is our
own one-sentence ImportFailed — never another exception, never a hang. The mutation campaign is
``importer_fuzz.py``; random bytes come from hypothesis."""

from __future__ import annotations

import base64
import json
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is needed for fuzzing")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from importer_fuzz import FULL, SAMPLE, campaign, cli_refuses, first_refused, try_import  # noqa: E402

from evidencekit.importers import write_transcript  # noqa: E402

from conftest import run_cli  # noqa: E402

EXPORTS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "exports"


def _slack_zip() -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("users.json", json.dumps([{"id": "U1", "name": "kari"}]))
        z.writestr("channels.json", json.dumps([{"id": "C1", "name": "general"}]))
        z.writestr("general/2024-01-02.json", json.dumps([
            {"type": "message", "user": "U1", "text": "hei <@U1> &gt;", "ts": "1704200000.0001"}]))
    return out.getvalue()


SYNTHETIC: dict[str, list[bytes]] = {
    "whatsapp": ["18.03.2022, 14:56 - Kari: Hei æøå\nto linjer\n[3/18/22, 9:41:05\u202fPM] "
                 "John: \u200e<attached: 00000001-PHOTO-2022-03-18-21-41-05.jpg>\n".encode()],
    "telegram": [json.dumps({"name": "x", "type": "personal_chat", "id": 1, "messages": [
        {"id": 1, "type": "message", "date": "2023-01-01T10:00:00", "date_unixtime": "1672567200",
         "from": "a", "from_id": "user1", "text": ["a", {"type": "bold", "text": "b"}],
         "text_entities": []}]}).encode()],
    "discord": [json.dumps({"guild": {"name": "g"}, "channel": {"name": "c"}, "messages": [
        {"id": "447793085255123004", "type": "Default",
         "timestamp": "2018-05-20T16:09:51.118+00:00", "content": "hi",
         "author": {"id": "1", "name": "a"}, "attachments": [{"fileName": "x.png", "url": "x.png"}],
         "reference": {"messageId": "1"}}], "messageCount": 1}).encode()],
    "slack": [_slack_zip()],
    "messenger": [b"\xef\xbb\xbf" + json.dumps({"participants": [{"name": "A"}], "messages": [
        {"sender_name": "A", "timestamp_ms": 1, "content": "Bl\u00c3\u00a5",
         "photos": [{"uri": "photos/1.jpg"}]}]}).encode()],
    "sms": [b'<?xml version="1.0"?><smses count="2"><sms address="1" date="1" type="1" '
            b'body="a&#55357;&#56832;" /><mms date="2" msg_box="1"><parts><part ct="image/png" '
            b'cl="a.png" data="' + base64.b64encode(b"png") + b'" /></parts></mms></smses>'],
    "email": [b"From: A <a@example.no>\r\nDate: Tue, 2 Jan 2024 11:00:00 +0100\r\n"
              b"DKIM-Signature: v=1; a=rsa-sha256; d=example.no; s=s; h=from; bh=AAAA; b=AAAA\r\n"
              b"Subject: hei\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
              b"Content-Type: text/plain\r\n\r\nhei\r\n--b\r\nContent-Disposition: attachment; "
              b"filename=x.txt\r\n\r\nfil\r\n--b--\r\n",
              b"From x Tue Jan  2 10:00:05 2024\nFrom: a\nDate: x\n\n>From y\n\nFrom z\nTo: b\n\nhi\n"],
}

CORPUS_FILES = {
    "whatsapp": ["whatsapp/czech_android.txt", "whatsapp/WhatsApp Chat - Elon Musk (EN+Media).txt"],
    "telegram": ["telegram/DM_2A_7M.json"],
    "discord": ["discord/SV_5A_5M.json"],
    "slack": ["slack/testarchive.zip"],
    "messenger": ["messenger/2A_7M.json"],
    "sms": ["sms/smsxml.txt"],
    "email": ["email/rfc6376.signed.msg", "email/message.mbox"],
}


#: The file name each format's seeds are written under (some formats read the name).
FILE_NAMES = {"whatsapp": "WhatsApp Chat.txt", "telegram": "result.json", "discord": "channel.json",
              "slack": "export.zip", "messenger": "message_1.json", "sms": "sms.xml",
              "email": "messages.mbox"}
OPTIONS = {"whatsapp": {"date_order": "dmy"}}
FUZZ = settings(max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "60")), deadline=None,
                derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _seeds(fmt: str) -> list[tuple[str, bytes]]:
    seeds = [(FILE_NAMES[fmt], data) for data in SYNTHETIC[fmt]]
    for name in CORPUS_FILES[fmt]:
        if (EXPORTS / name).is_file():
            seeds.append((FILE_NAMES[fmt], (EXPORTS / name).read_bytes()))
    if fmt == "email" and (EXPORTS / "email/message.mbox").is_file():  # a 200 KB mailbox
        seeds.append(("big.mbox", (EXPORTS / "email/message.mbox").read_bytes() * 45))
    return seeds


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(SYNTHETIC))
def test_mutated_exports(fmt: str, request: pytest.FixtureRequest) -> None:
    """SAMPLE mutations per format (FULL with --slow): a clean import or one sentence, in time."""
    count = FULL if request.config.getoption("--slow") else SAMPLE
    failures = campaign(fmt, _seeds(fmt), count, **OPTIONS.get(fmt, {}))
    assert not failures, "\n".join(map(str, failures[:20])) + f"\n({len(failures)} in all)"


@pytest.mark.parametrize("fmt", ["telegram", "slack"])
def test_cli_refuses_mutated_export(fmt: str, case_home: Path, tmp_path: Path) -> None:
    """Through the real CLI a refused export is exit 2, one sentence, and the case unchanged."""
    refused = first_refused(fmt, _seeds(fmt), **OPTIONS.get(fmt, {}))
    assert refused is not None
    assert cli_refuses(run_cli, tmp_path, *refused, fmt) == []


@pytest.mark.parametrize("fmt", sorted(SYNTHETIC))
def test_random_bytes(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "export.bin"

    @FUZZ
    @given(st.binary(max_size=2048))
    def run(data: bytes) -> None:
        path.write_bytes(data)
        for wanted in (fmt, "auto"):
            outcome, _ = try_import(path, wanted, **OPTIONS.get(fmt, {}))
            assert outcome in ("ok", "refused"), outcome

    run()


def test_what_the_campaign_found(tmp_path: Path) -> None:
    """A key written twice (its notice has a parameter called ``key``) and numbers JSON cannot
    carry (``NaN`` durations, ``1e999``, 5,000 digits) used to end in TypeError/ValueError while
    the transcript was written; now the import is clean and says what it saw."""
    path = tmp_path / "result.json"
    path.write_text('{"name": "x", "type": "personal_chat", "id": 1, "messages": [{"id": 1, "type": "message", '
                    '"date_unixtime": "1704186000", "date": "2024-01-02T10:00:00", "from": "Ola", '
                    '"from_id": "user4", "text": "første", "text": "andre", "duration_seconds": NaN, '
                    '"width": 1e999, "height": ' + "9" * 5000 + "}]}", encoding="utf-8")
    out = BytesIO()
    t = write_transcript(path, out)
    data = json.loads(out.getvalue())
    assert data["messages"][0]["text"] == "andre"
    assert data["messages"][0]["extra"]["duration_seconds"] == "NaN"
    assert data["messages"][0]["extra"]["width"] == "1e999"
    assert [n.text("en") for n in t.notices if n.code == "duplicate_json_key"] == [
        'The key "text" is written twice in one object in result.json; only the last value could be read.']
    assert any(n.code == "json_number_as_text" and n.params["count"] == 3 for n in t.notices)
