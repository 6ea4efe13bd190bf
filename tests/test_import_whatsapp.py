"""WhatsApp exports: the real corpus files read as a person reading them would, and synthetic
exports for the locales and edge cases the corpus lacks (Norwegian, US 12-hour with U+202F,
iPhone brackets, daylight-saving changes, undecidable day/month order, zips with media)."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import pytest

from evidencekit.errors import UserError
from evidencekit.importers import ImportFailed, NeedsDateOrder, detect, parse
from evidencekit.importers.model import Message, Transcript

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "exports" / "whatsapp"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus folder is absent")

ANDROID_EN = "WhatsApp Chat with Dmitry S EN+Media Android.txt"
IOS_EN = "WhatsApp Chat - Elon Musk (EN+Media).txt"


def _check_offsets(transcript: Transcript, raw: bytes) -> None:
    """Every message really starts at its offset, and its text is the exact bytes there."""
    for msg in transcript.messages:
        chunk = raw[msg.offset:msg.offset + msg.length]
        assert chunk.decode("utf-8").endswith(msg.text), msg.index
        start = msg.extra["text_offset"]
        assert raw[start:start + len(msg.text.encode())] == msg.text.encode()
        if msg.time_written is not None:
            assert msg.time_written in chunk.decode("utf-8").split("\n", 1)[0]


def _header_lines(raw: bytes, pattern: bytes) -> int:
    return sum(1 for line in raw.split(b"\n") if re.match(pattern, line))


# -- corpus ---------------------------------------------------------------------------------
@needs_corpus
def test_android_english_corpus() -> None:
    path = CORPUS / ANDROID_EN
    raw = path.read_bytes()
    assert detect(path) == "whatsapp"
    t = parse(path)
    assert t.source.sha256 == hashlib.sha256(raw).hexdigest()
    assert len(t.messages) == _header_lines(raw, rb"\d\d/\d\d/\d{4}, \d\d:\d\d - ") == 60
    assert (t.date_order, t.date_order_source) == ("dmy", "values")
    assert t.details["platform"] == "android"
    first = t.messages[0]
    assert first.system and first.sender is None
    assert first.text.startswith("Messages and calls are end-to-end encrypted.")
    assert (first.time_written, first.time_utc) == ("23/03/2022, 13:31", "2022-03-23T12:31:00.000000Z")
    assert {m.sender for m in t.messages} == {None, "Dmitry S", "Elon"}
    assert t.messages[1].text == "Hello"
    caption = t.messages[3]
    assert caption.text == "<Media omitted>\nCaption"
    assert [a.status for a in caption.attachments] == ["omitted"]
    location = next(m for m in t.messages if m.text.startswith("Pimlico"))
    assert location.text == ("Pimlico Gardens\nLondon, United Kingdom\n"
                             "https://foursquare.com/v/4e89af95e5fa82ad4c0aa03b")
    attached = next(m for m in t.messages if "PTT-" in m.text)
    assert [(a.name, a.sha256, a.status) for a in attached.attachments] == [
        ("PTT-20220323-WA0000.opus", None, "missing")]
    with_caption = next(m for m in t.messages if m.text.startswith("IMG-20220323-WA0002.jpg")
                        and "\n" in m.text)
    assert with_caption.text == "IMG-20220323-WA0002.jpg (file attached)\nТитл"
    deleted = [m for m in t.messages if m.deleted]
    assert len(deleted) == raw.count(b"This message was deleted") + raw.count(
        b"You deleted this message") == 8
    assert all(m.text in ("This message was deleted", "You deleted this message") for m in deleted)
    # 27 March 2022: Norway moved to summer time at 02:00, so 13:42 is UTC+2
    dst = next(m for m in t.messages if m.time_written == "27/03/2022, 13:42")
    assert dst.time_utc == "2022-03-27T11:42:00.000000Z"
    assert dst.tz_source == "default:Europe/Oslo"
    assert t.messages[-1].time_utc == "2023-01-07T22:32:00.000000Z"
    _check_offsets(t, raw)


@needs_corpus
def test_ios_english_corpus_us_order_crlf_and_marks() -> None:
    path = CORPUS / IOS_EN
    raw = path.read_bytes()
    t = parse(path)
    assert len(t.messages) == _header_lines(raw, rb"(\xe2\x80\x8e)?\[\d") == 25
    assert (t.date_order, t.date_order_source) == ("mdy", "values")
    assert t.details["platform"] == "ios"
    first = t.messages[0]
    assert first.sender == "Elon Musk" and first.system
    assert first.time_written == "3/18/22, 14:56:01"
    assert first.time_utc == "2022-03-18T13:56:01.000000Z"
    assert first.text.startswith("\u200eMessages and calls")  # marks kept exactly
    hello = t.messages[1]
    assert (hello.sender, hello.text, hello.system) == ("Dmitry S", "Hello World", False)
    assert hello.time_utc == "2022-03-27T19:41:35.000000Z"
    photo = t.messages[2]
    assert photo.offset == raw.index("\u200e[3/27/22, 21:41:55]".encode())
    assert [a.name for a in photo.attachments] == ["00000035-PHOTO-2022-03-27-21-41-55.jpg"]
    pdf = next(m for m in t.messages if "Resume" in m.text)
    assert pdf.text == ("Resume-Dmitry-Starkov.pdf \u2022 \u200e2 pages "
                        "\u200e<attached: 00000047-Resume-Dmitry-Starkov.pdf>")
    assert [a.name for a in pdf.attachments] == ["00000047-Resume-Dmitry-Starkov.pdf"]
    assert [m.text for m in t.messages if m.deleted] == [
        "\u200eYou deleted this message.", "\u200eThis message was deleted."]
    omitted = next(m for m in t.messages if "image omitted" in m.text)
    assert [a.status for a in omitted.attachments] == ["omitted"]
    assert [m.index for m in t.messages if m.system] == [0, 23, 24]
    assert not any("\r" in m.text for m in t.messages)
    _check_offsets(t, raw)


@needs_corpus
def test_czech_android_corpus() -> None:
    path = CORPUS / "czech_android.txt"
    raw = path.read_bytes()
    t = parse(path)
    assert len(t.messages) == 60
    assert t.date_order == "dmy"
    assert t.messages[1].time_written == "18.03.22 14:56"
    assert t.messages[1].time_utc == "2022-03-18T13:56:00.000000Z"
    assert sum(m.deleted for m in t.messages) == raw.count("odstraněna".encode()) + raw.count(
        "jste odstranil".encode()) == 8
    assert sum(1 for m in t.messages if m.attachments and m.attachments[0].status == "omitted") \
        == raw.count("<Média vynechány>".encode())
    vcf = next(m for m in t.messages if "Alex.vcf" in m.text)
    assert vcf.text == "\u200eAlex.vcf (soubor byl přiložen)"
    assert [a.name for a in vcf.attachments] == ["Alex.vcf"]
    _check_offsets(t, raw)


@needs_corpus
def test_dutch_android_corpus() -> None:
    path = CORPUS / "deutch_android_media.txt"
    raw = path.read_bytes()
    t = parse(path)
    assert len(t.messages) == 41
    assert t.messages[0].system and t.messages[0].text.startswith("Berichten en oproepen")
    ptt = t.messages[5]
    assert ptt.text == "\u200ePTT-20220323-WA0000.opus (bestand bijgevoegd)"
    assert [a.name for a in ptt.attachments] == ["PTT-20220323-WA0000.opus"]
    place = next(m for m in t.messages if "Fethiye" in m.text)
    assert place.text == "Çalış Plajı\nFethiye, Muğla\nhttps://foursquare.com/v/4dea6dacd22da22d4ed36317"
    assert sum(m.deleted for m in t.messages) == 7
    _check_offsets(t, raw)


# -- synthetic exports ----------------------------------------------------------------------
def _write(tmp_path: Path, name: str, text: str, newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


NB_ANDROID = """\
18.03.2022, 14:50 - Meldinger og anrop er ende-til-ende-kryptert. Ingen utenfor denne chatten kan lese dem.
18.03.2022, 14:56 - Kari Nordmann: Hei! Blåbærsyltetøy på Ærø?
18.03.2022, 14:57 - Ola Åsen: Første linje
andre linje med øl
tredje linje
18.03.2022, 15:00 - Kari Nordmann: <Media utelatt>
18.03.2022, 15:01 - Ola Åsen: IMG-20220318-WA0001.jpg (fil vedlagt)
Bildetekst med æøå
18.03.2022, 15:02 - Kari Nordmann: Denne meldingen ble slettet
27.03.2022, 01:59 - Ola Åsen: Før sommertid
27.03.2022, 03:00 - Kari Nordmann: Etter sommertid
30.10.2022, 02:10 - Ola Åsen: Før vintertid
30.10.2022, 02:30 - Ola Åsen: Første 02:30
30.10.2022, 02:15 - Kari Nordmann: Klokka er stilt tilbake
"""


def test_norwegian_android_with_daylight_saving_changes(tmp_path: Path) -> None:
    path = _write(tmp_path, "WhatsApp-chat med Kari Nordmann.txt", NB_ANDROID)
    t = parse(path)
    raw = path.read_bytes()
    assert (t.format, t.date_order, t.date_order_source) == ("whatsapp", "dmy", "values")
    assert (t.tz, t.tz_origin) == ("Europe/Oslo", "default")
    texts = [(m.sender, m.text) for m in t.messages]
    assert texts[1] == ("Kari Nordmann", "Hei! Blåbærsyltetøy på Ærø?")
    assert texts[2] == ("Ola Åsen", "Første linje\nandre linje med øl\ntredje linje")
    assert t.messages[0].system and t.messages[0].sender is None
    assert [a.status for a in t.messages[3].attachments] == ["omitted"]
    assert [(a.name, a.status) for a in t.messages[4].attachments] == [
        ("IMG-20220318-WA0001.jpg", "missing")]
    assert t.messages[4].text == "IMG-20220318-WA0001.jpg (fil vedlagt)\nBildetekst med æøå"
    assert t.messages[5].deleted
    utc = {m.text: m.time_utc for m in t.messages}
    # spring: 01:59 CET and 03:00 CEST are one minute apart
    assert utc["Før sommertid"] == "2022-03-27T00:59:00.000000Z"
    assert utc["Etter sommertid"] == "2022-03-27T01:00:00.000000Z"
    # autumn: 02:30 happens twice; order tells which
    assert utc["Før vintertid"] == "2022-10-30T00:10:00.000000Z"
    assert utc["Første 02:30"] == "2022-10-30T00:30:00.000000Z"
    assert utc["Klokka er stilt tilbake"] == "2022-10-30T01:15:00.000000Z"
    ambiguous = [n for n in t.notices if n.code == "local_time_ambiguous"]
    assert [n.message_index for n in ambiguous] == [8, 9, 10]  # 02:10 is in the repeated hour too
    _check_offsets(t, raw)


def test_time_in_spring_gap_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "chat.txt", "27.03.2022, 02:30 - Kari: Finnes ikke\n")
    t = parse(path)
    assert t.messages[0].time_utc == "2022-03-27T01:30:00.000000Z"
    assert [n.code for n in t.notices] == ["local_time_nonexistent"]
    assert "Europe/Oslo" in t.notices[0].text("en")


NB_IOS = """\
[18.03.2022, 14:50:00] Kari Nordmann: \u200eMeldinger og anrop er ende-til-ende-kryptert.
[18.03.2022, 14:56:01] Kari Nordmann: Hei på deg, Ærlige Ørjan
\u200e[18.03.2022, 14:57:00] Ola Åsen: \u200e<vedlagt: 00000005-PHOTO-2022-03-18-14-57-00.jpg>
[18.03.2022, 14:58:30] Ola Åsen: To linjer
med æøå
[18.03.2022, 14:59:59] Kari Nordmann: \u200eDenne meldingen ble slettet.
"""


def test_norwegian_iphone_brackets_crlf(tmp_path: Path) -> None:
    path = _write(tmp_path, "_chat.txt", NB_IOS, newline="\r\n")
    t = parse(path, tz="Europe/Oslo")
    assert t.tz_origin == "given"
    assert t.details["platform"] == "ios"
    assert [m.sender for m in t.messages] == ["Kari Nordmann", "Kari Nordmann", "Ola Åsen",
                                              "Ola Åsen", "Kari Nordmann"]
    assert t.messages[0].system
    assert t.messages[1].text == "Hei på deg, Ærlige Ørjan"
    assert t.messages[1].time_utc == "2022-03-18T13:56:01.000000Z"
    assert t.messages[1].tz_source == "given:Europe/Oslo"
    assert [a.name for a in t.messages[2].attachments] == ["00000005-PHOTO-2022-03-18-14-57-00.jpg"]
    assert t.messages[3].text == "To linjer\r\nmed æøå"  # the line break exactly as written
    assert t.messages[4].deleted and not t.messages[4].system
    _check_offsets(t, path.read_bytes())


def test_us_twelve_hour_with_narrow_no_break_space(tmp_path: Path) -> None:
    text = ("3/18/22, 9:41\u202fPM - John Smith: evening\n"
            "3/19/22, 12:05\u202fAM - Jane Doe: just after midnight\n"
            "3/19/22, 12:30\u202fPM - John Smith: noon-ish\n")
    t = parse(_write(tmp_path, "chat.txt", text), tz="America/New_York")
    assert t.date_order == "mdy"
    assert [m.time_written for m in t.messages] == [
        "3/18/22, 9:41\u202fPM", "3/19/22, 12:05\u202fAM", "3/19/22, 12:30\u202fPM"]
    assert [m.time_utc for m in t.messages] == [
        "2022-03-19T01:41:00.000000Z", "2022-03-19T04:05:00.000000Z",
        "2022-03-19T16:30:00.000000Z"]


def test_us_iphone_twelve_hour_and_spanish_markers(tmp_path: Path) -> None:
    ios = "[3/18/22, 9:41:05\u202fPM] John: hi\n\u200e[3/18/22, 9:42:00\u202fPM] John: \u200eimage omitted\n"
    t = parse(_write(tmp_path, "a.txt", ios), tz="UTC")
    assert [m.time_utc for m in t.messages] == ["2022-03-18T21:41:05.000000Z",
                                                 "2022-03-18T21:42:00.000000Z"]
    assert t.messages[1].attachments[0].status == "omitted"
    spanish = "18/3/22, 2:56 p. m. - Ana: hola\n18/3/22, 9:03 a. m. - Luis: buenos días\n"
    t = parse(_write(tmp_path, "b.txt", spanish), tz="UTC")
    assert [m.time_utc for m in t.messages] == ["2022-03-18T14:56:00.000000Z",
                                                 "2022-03-18T09:03:00.000000Z"]


@pytest.mark.parametrize("line, order, utc", [
    ("18.03.22, 14:56 - Max: Hallo", "dmy", "2022-03-18T13:56:00.000000Z"),       # de_DE Android
    ("[18.03.22, 14:56:07] Max: Hallo", "dmy", "2022-03-18T13:56:07.000000Z"),     # de_DE iPhone
    ("18/03/2022, 14:56 - Max: Hallo", "dmy", "2022-03-18T13:56:00.000000Z"),      # en_GB
    ("18-03-2022 14:56 - Max: Hallo", "dmy", "2022-03-18T13:56:00.000000Z"),       # nl_NL
    ("18.03.22 14:56 - Max: Hallo", "dmy", "2022-03-18T13:56:00.000000Z"),         # cs_CZ
    ("2022-03-18, 14:56 - Max: Hallo", "ymd", "2022-03-18T13:56:00.000000Z"),      # ISO-style
])
def test_locale_styles(tmp_path: Path, line: str, order: str, utc: str) -> None:
    t = parse(_write(tmp_path, "chat.txt", line + "\n"))
    assert (t.date_order, t.messages[0].sender, t.messages[0].text) == (order, "Max", "Hallo")
    assert t.messages[0].time_utc == utc


AMBIGUOUS = "03.04.2022, 10:00 - Kari: Hei\n04.04.2022, 11:00 - Ola: Hallo\n"


def test_undecidable_day_month_is_a_question(tmp_path: Path) -> None:
    path = _write(tmp_path, "chat.txt", AMBIGUOUS)
    with pytest.raises(NeedsDateOrder) as caught:
        parse(path)
    assert isinstance(caught.value, UserError) and caught.value.exit_code == 2
    assert caught.value.candidates == ["dmy", "mdy"]
    assert "--date-order" in str(caught.value)
    assert "--date-order" in caught.value.message("nb")
    dmy = parse(path, date_order="dmy")
    assert dmy.messages[0].time_utc == "2022-04-03T08:00:00.000000Z"
    assert dmy.date_order_source == "given"
    mdy = parse(path, date_order="mdy")
    assert mdy.messages[0].time_utc == "2022-03-04T09:00:00.000000Z"
    with pytest.raises(ImportFailed):
        parse(path, date_order="ydm")


def test_date_order_that_contradicts_the_dates_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "chat.txt", "18.03.2022, 10:00 - Kari: Hei\n")
    with pytest.raises(ImportFailed) as caught:
        parse(path, date_order="mdy")
    assert "18.03.2022" in str(caught.value)


@pytest.mark.parametrize("media, order", [
    ("IMG-20220403-WA0001.jpg (file attached)", "dmy"),
    ("IMG-20220304-WA0001.jpg (file attached)", "mdy"),
])
def test_day_month_from_android_media_names(tmp_path: Path, media: str, order: str) -> None:
    t = parse(_write(tmp_path, "chat.txt", AMBIGUOUS + f"03.04.2022, 10:05 - Kari: {media}\n"))
    assert (t.date_order, t.date_order_source) == (order, "media-names")
    assert any(n.code == "date_order_from_media" for n in t.notices)


def test_day_month_from_iphone_media_names(tmp_path: Path) -> None:
    text = ("[03.04.22, 10:00:00] Kari: Hei\n"
            "\u200e[03.04.22, 10:01:00] Kari: \u200e<attached: 00000005-PHOTO-2022-04-03-10-01-00.jpg>\n")
    t = parse(_write(tmp_path, "_chat.txt", text))
    assert (t.date_order, t.date_order_source) == ("dmy", "media-names")
    assert t.messages[1].time_utc == "2022-04-03T08:01:00.000000Z"


def test_zip_with_media_gives_attachment_digests(tmp_path: Path) -> None:
    photo = b"\xff\xd8\xff\xe0 not really a jpeg"
    archive = tmp_path / "WhatsApp Chat with Kari.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("WhatsApp Chat with Kari.txt", NB_ANDROID.encode())
        z.writestr("IMG-20220318-WA0001.jpg", photo)
    assert detect(archive) == "whatsapp"
    t = parse(archive)
    assert t.source.kind == "zip"
    assert t.source.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert {f.path for f in t.source.files} == {"WhatsApp Chat with Kari.txt",
                                                 "IMG-20220318-WA0001.jpg"}
    [att] = t.messages[4].attachments
    assert (att.status, att.sha256, att.member) == (
        "present", hashlib.sha256(photo).hexdigest(), "IMG-20220318-WA0001.jpg")
    assert t.messages[4].source_file == "WhatsApp Chat with Kari.txt"
    assert t.details["chat_name"] == "Kari"
    _check_offsets(t, NB_ANDROID.encode())


def test_iphone_zip_without_the_media_file(tmp_path: Path) -> None:
    archive = tmp_path / "chat.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("_chat.txt", NB_IOS.encode())
    t = parse(archive)
    assert [(a.name, a.status) for a in t.messages[2].attachments] == [
        ("00000005-PHOTO-2022-03-18-14-57-00.jpg", "missing")]


def test_text_before_first_message_is_kept(tmp_path: Path) -> None:
    t = parse(_write(tmp_path, "chat.txt", "stray first line\n18.03.2022, 14:56 - Kari: Hei\n"))
    assert [(m.text, m.time_utc, m.system) for m in t.messages] == [
        ("stray first line", None, True), ("Hei", "2022-03-18T13:56:00.000000Z", False)]
    assert t.notices[0].code == "text_before_first_message"


def test_byte_order_mark_and_me(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "18.03.2022, 14:56 - Kari: Hei\n18.03.2022, 14:57 - Ola: Hallo\n".encode())
    t = parse(path, me="Ola")
    assert t.messages[0].offset == 3
    assert [m.from_me for m in t.messages] == [False, True]


def test_hostile_text_inputs(tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"18.03.2022, 14:56 - Kari: " + b"x" * (2 << 20) + b"\n")
    with pytest.raises(ImportFailed, match="longer than"):
        parse(huge, fmt="whatsapp")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("18.03.2022, 14:56 - Kari: blåbær\n".encode("latin-1"))
    with pytest.raises(ImportFailed, match="not UTF-8"):
        parse(latin1, fmt="whatsapp")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(ImportFailed):
        parse(empty, fmt="whatsapp")


def _msg(t: Transcript, text: str) -> Message:
    return next(m for m in t.messages if m.text == text)


def test_unreadable_time_is_reported_not_guessed(tmp_path: Path) -> None:
    t = parse(_write(tmp_path, "chat.txt", "18.03.2022, 25:61 - Kari: Hei\n"))
    assert _msg(t, "Hei").time_utc is None
    assert t.notices[0].code == "unreadable_time"
