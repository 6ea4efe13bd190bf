"""Encrypted at rest, shown: nothing she stored can be read from the locker's files, or confirmed
from them by someone who holds a copy of a file, and no command reads the locker until it is
unlocked.

The search that finds nothing is proven on the same evidence decrypted: every word searched for
is found there, so a word missing from the locker's files is missing because it is encrypted,
not because it was never stored or the search is blind.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import nacl.signing
import pytest
from PIL import Image

import locker_files
from conftest import CORPUS, PASSPHRASE, run_cli
from evidencekit._internal import keys, layout, sealed_blob
from evidencekit.cli import cli
from evidencekit.i18n import t
from evidencekit.locker import Locker

CHAT = CORPUS / "exports" / "whatsapp" / "czech_android.txt"
CHAT_WORDS = ("Dmitry S", "51.50214569326172", "Viewed once only image", "zabezpečeny koncovým šifrováním")
TITLE_WORD = "Quorbaxle"
NOTE_WORD = "zyqvarnish"
PERSON = "Gunnvor Ylvisåker-Trondsen"
WITNESS = "Halvdan Skjeggestad"
RECIPIENT = "Advokat Sølvi Brekkeflåt"
PICTURE_NAME = "kvittering-wexmorph.png"


def picture(path: Path) -> bytes:
    """A real PNG of noise, larger than one sealed chunk (1 MiB), so no two runs share a byte run."""
    Image.frombytes("RGB", (640, 600), os.urandom(640 * 600 * 3)).save(path, "PNG", compress_level=0)
    return path.read_bytes()


def slices(data: bytes, count: int = 6) -> dict[str, bytes]:
    """Distinctive 16-byte runs: spread over the file, across the first chunk's end, and the last."""
    starts = [len(data) * i // count for i in range(1, count)] + [sealed_blob.CHUNK - 8, len(data) - 16]
    return {f"{start}:+16": data[start:start + 16] for start in starts if 0 <= start <= len(data) - 16}


def digests(label: str, data: bytes) -> dict[str, bytes]:
    """The SHA-256 of ``data`` the ways it could be written: hex, HEX and the raw 32 bytes."""
    digest = hashlib.sha256(data)
    return {f"{label} sha256": digest.hexdigest().encode(), f"{label} SHA256": digest.hexdigest().upper().encode(),
            f"{label} sha256 raw": digest.digest()}


def files_under(root: Path) -> Iterator[Path]:
    """Every regular file, in every folder, links not followed."""
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path


def found(root: Path, needles: dict[str, bytes]) -> dict[str, list[str]]:
    """Which needles occur in which files under ``root`` (by the file's place in ``root``)."""
    hits: dict[str, list[str]] = {}
    for path in files_under(root):
        data = path.read_bytes()
        for label, needle in needles.items():
            if needle in data:
                hits.setdefault(label, []).append(str(path.relative_to(root)))
    return hits


def plaintext_copy(home: Path, into: Path) -> None:
    """What the locker holds, decrypted: every value of every row, and every stored file."""
    into.mkdir()
    with locker_files.open_locker(home) as locker:
        rows = io.BytesIO()
        tables = [name for (name,) in locker.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in locker.db.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    rows.write(value if isinstance(value, bytes) else str(value).encode("utf-8"))
                    rows.write(b"\n")
        (into / "rows").write_bytes(rows.getvalue())
        stored = {f.sha256 for case in locker.cases() for item in locker.items(case.id) for f in item.files}
        for sha256 in stored:
            with locker.blobs.open(sha256) as blob:
                (into / sha256).write_bytes(blob.read())


def test_nothing_she_stored_is_in_the_lockers_files(home: Path, tmp_path: Path) -> None:
    shot = tmp_path / PICTURE_NAME
    shot_bytes = picture(shot)
    note = f"Han ropte «{NOTE_WORD}» etter meg i bakrommet."
    stored: dict[str, bytes] = {  # each of these is in the decrypted locker, so the search is proven on it
        "picture, whole": shot_bytes,
        **{f"picture {where}": run for where, run in slices(shot_bytes).items()},
        "picture sha256": hashlib.sha256(shot_bytes).hexdigest().encode(),
        "picture's name": PICTURE_NAME.encode(),
        "title word": TITLE_WORD.encode(),
        "note word": NOTE_WORD.encode(),
        "note sha256": hashlib.sha256(note.encode()).hexdigest().encode(),
        "person": PERSON.encode(),
        "witness": WITNESS.encode(),
        "recipient": RECIPIENT.encode(),
    }
    assert run_cli("init", "--kdf", "interactive").code == 0
    assert run_cli("case", "new", f"Saken om {TITLE_WORD}").code == 0
    held = Locker.open(home, PASSPHRASE)  # a second command with the database open: the WAL stays
    try:
        held.cases()
        added = run_cli("add", shot, "--who", "customer", "--person", PERSON, "--witness", WITNESS, "--no-stamp")
        assert added.code == 0, added.err
        assert run_cli("note", note, "--date", "03.03.2024 22:10", "--no-stamp").code == 0
        other_key = keys.public_key_string(bytes(nacl.signing.SigningKey.generate().verify_key))
        assert run_cli("recipients", "add", RECIPIENT, other_key).code == 0
        if CHAT.exists():  # the real chat export: a test corpus beside the checkout
            chat = CHAT.read_bytes()
            imported = run_cli("import", CHAT, "--date-order", "dmy", "--no-stamp")
            assert imported.code == 0, imported.err
            stored |= {"chat, whole": chat, "chat sha256": hashlib.sha256(chat).hexdigest().encode(),
                       **{f"chat {where}": run for where, run in slices(chat, 3).items()},
                       **{f"chat: {word}": word.encode() for word in CHAT_WORDS}}
        variants = {  # other ways the same things could sit in a file; the decrypted locker need not hold them
            **digests("picture", shot_bytes), **digests("note", note.encode()),
            **{f"{label} UTF-16{order}": word.encode(f"utf-16-{order}")
               for label, word in (("title word", TITLE_WORD), ("note word", NOTE_WORD), ("person", PERSON),
                                   ("recipient", RECIPIENT)) for order in ("le", "be")},
            "passphrase": PASSPHRASE.encode(),
        }
        needles = stored | variants
        wal = home / f"{layout.DATABASE}-wal"
        assert wal.stat().st_size > 0 and (home / f"{layout.DATABASE}-shm").exists()  # the search reads them too
        assert found(home, needles) == {}, "readable while the database is open"
    finally:
        held.close()
    walked = {str(p.relative_to(home)) for p in files_under(home)}
    assert {layout.KEY, layout.DATABASE} <= walked and any(p.startswith(f"{layout.BLOBS}/") for p in walked)
    assert found(home, needles) == {}, "readable once every command has closed the locker"

    plain = tmp_path / "decrypted"
    plaintext_copy(home, plain)
    assert set(found(plain, stored)) == set(stored)  # the same search finds every one, decrypted
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "words").write_bytes(b"..".join(variants.values()))
    assert set(found(planted, variants)) == set(variants)


# -- a file she holds cannot be confirmed to be in the locker ------------------------------------------


def test_an_outsider_with_a_copy_of_the_file_cannot_confirm_it_is_in_the_locker(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    shot_bytes = picture(shot)
    same_size = tmp_path / "other.bin"
    same_size.write_bytes(os.urandom(len(shot_bytes)))
    names = {}
    for label, files in (("first", [shot, same_size]), ("second", [shot])):
        with locker_files.make_locker(tmp_path / label) as locker:
            locker.create_case("Case", PASSPHRASE)
            locker.add_files(files, PASSPHRASE)
        names[label] = locker_files.blob_file(tmp_path / label, hashlib.sha256(shot_bytes).hexdigest())
        assert names[label].exists()  # the store keeps the picture under this name
    assert names["first"].name != names["second"].name  # the same file, another locker: another name

    guesses: dict[str, bytes] = {}
    for algorithm in ("sha256", "sha1", "md5", "sha512", "blake2b", "sha3_256"):
        digest = hashlib.new(algorithm, shot_bytes).digest()
        for form, written in (("hex", digest.hex().encode()), ("HEX", digest.hex().upper().encode()), ("raw", digest),
                              ("base64", base64.b64encode(digest)), ("base32", base64.b32encode(digest).lower())):
            guesses[f"{algorithm} {form}"] = written
    for label in names:
        root = tmp_path / label
        paths = " ".join(str(p.relative_to(root)) for p in files_under(root)).encode()
        assert not [guess for guess, written in guesses.items() if written.lower() in paths.lower()]
        assert found(root, guesses) == {}
    # What stays public is a blob's size: the picture and a random file of its size look alike.
    first = sorted(locker_files.blob_files(tmp_path / "first"), key=lambda p: p != names["first"])
    assert [p.stat().st_size for p in first] == [first[0].stat().st_size] * 2
    assert first[0].stat().st_mode == first[1].stat().st_mode


# -- no command reads a locked locker --------------------------------------------------------------

# Every command that opens the locker, with arguments it would run with when unlocked.
OPENS_THE_LOCKER: dict[str, list[tuple[str, ...]]] = {
    "add": [("{file}",)],
    "browser login": [("work", "http://127.0.0.1:9/")],
    "capture": [("http://127.0.0.1:9/",)],
    "case describe": [("She has harassed me since January.",)],
    "case list": [()],
    "case new": [("Another case",)],
    "case show": [()],
    "case use": [("Case",)],
    "check": [(), ("--all",)],
    "config": [()],
    "config set": [("unlock_idle", "60")],
    "config unset": [("unlock_idle",)],
    "export": [("E-001", "-o", "{out}")],
    "import": [("{chat}",)],
    "keys show": [()],
    "list": [()],
    "log": [()],
    "mark": [("E-001", "--sensitive")],
    "note": [("He shouted again.",)],
    "notice": [("--to", "employer", "--date", "03.03.2026")],
    "open": [("{sealed}", "-o", "{out}")],
    "recipients add": [("lawyer", "{public_key}")],
    "recipients list": [()],
    "recipients remove": [("me",)],
    "redact": [("E-001", "--box", "0,0,1,1")],
    "report": [("-o", "{out}/report.html")],
    "seal": [("--plain", "-o", "{out}/case.zip"), ("--to", "me", "-o", "{out}/case.evidencekit")],
    "setup": [("--yes",)],
    "show": [("E-001",)],
    "stamp": [(), ("--verify",), ("--upgrade",)],
    "timeline": [()],
    "transcript": [("E-002",)],
    "verify": [("{sealed}",)],
}
# Commands that do not read the locker, and why.
NEED_NO_LOCKER = {
    "app": "prints or opens the case page's address; the page asks the extension's host, which answers locked",
    "demo": "works in a locker of its own, in a temporary folder",
    "doctor": "says the locker is locked as a note (below), and checks the rest",
    "extension install": "writes the browser's connector file",
    "extension path": "prints where the extension's files are",
    "extension uninstall": "removes the browser's connector file",
    "init": "makes a locker; an existing one is refused before it is opened",
    "lock": "ends an unlock; opens nothing",
    "match": "compares a file with a bundle (its hashes, not the locker)",
    "native-host": "the extension's host: it says locked to the extension in its own messages",
    "timestamp verify": "checks the proof files it is given",
    "unlock": "takes the passphrase that opens the locker (tests/test_unlock.py)",
    "upgrade": "reads only a locker from before encryption; an encrypted one has nothing to upgrade",
}
# verify and open need the locker only for a sealed bundle (her key opens it): a plain one is checked
# and unpacked without it (tests/test_bundle_roundtrip.py).


def command_paths(group: click.Group = cli, above: tuple[str, ...] = ()) -> Iterator[str]:
    """Every command a person can run, subcommands included, and a group that runs by itself."""
    for name, command in group.commands.items():
        path = (*above, name)
        if isinstance(command, click.Group):
            if command.invoke_without_command:
                yield " ".join(path)
            yield from command_paths(command, path)
        else:
            yield " ".join(path)


def test_every_command_is_accounted_for() -> None:
    """A new command must be added to one of the two lists: opening the locker, or not, and why."""
    assert not set(OPENS_THE_LOCKER) & set(NEED_NO_LOCKER)
    assert set(command_paths()) == set(OPENS_THE_LOCKER) | set(NEED_NO_LOCKER)
    listed = subprocess.run([sys.executable, "-m", "evidencekit", "--help"], capture_output=True, text=True,
                            env={**os.environ, "EVIDENCEKIT_LANG": "en"}).stdout.split("Commands:")[1]
    shown = {line.split()[0] for line in listed.splitlines() if line[:2] == "  " and line[2:3].strip()}
    assert shown <= {path.split()[0] for path in command_paths()}


INVOCATIONS = [(path, args) for path, argument_lists in sorted(OPENS_THE_LOCKER.items()) for args in argument_lists]


def locked_env(root: Path, **extra: str) -> dict[str, str]:
    """No passphrase in the environment, no agent to ask (a runtime folder of its own), no terminal;
    the person's home a folder of the test's, so nothing is written outside it."""
    runtime = root / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    outside = {k: v for k, v in os.environ.items() if not k.startswith(("EVIDENCEKIT_", "XDG_"))}
    return {**outside, "HOME": str(root / "person"), "XDG_RUNTIME_DIR": str(runtime),
            "EVIDENCEKIT_HOME": str(root / "locker"), "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": "",
            **extra}


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A locker with a case, a file, a chat and a recipient, and a bundle sealed to it; the paths."""
    root = tmp_path_factory.mktemp("locked")
    (root / "person").mkdir()
    env = locked_env(root, EVIDENCEKIT_PASSPHRASE=PASSPHRASE, EVIDENCEKIT_LANG="en")
    file = root / "message.txt"
    file.write_text("You are worthless.\n")
    chat = root / "chat.txt"
    chat.write_text("18.03.22 14:56 - Dmitry S: Hello\n18.03.22 14:57 - Dmitry S: You again\n")
    for args in (("init", "--kdf", "interactive"), ("case", "new", "Case"), ("add", file, "--no-stamp"),
                 ("import", chat, "--date-order", "dmy", "--no-stamp")):
        done = run_cli(*args, env=env)
        assert done.code == 0, done.err
    public_key = run_cli("keys", "show", "--json", env=env).json()["public_key"]
    assert run_cli("recipients", "add", "me", public_key, env=env).code == 0
    sealed = root / "case.evidencekit"
    assert run_cli("seal", "--to", "me", "--no-report", "--no-stamp", "-o", sealed, env=env).code == 0
    (root / "out").mkdir()
    return {"root": str(root), "file": str(file), "chat": str(chat), "sealed": str(sealed), "out": str(root / "out"),
            "public_key": public_key}


@pytest.mark.parametrize(("path", "args"), INVOCATIONS, ids=[" ".join((p, *a)) for p, a in INVOCATIONS])
def test_a_locked_locker_is_not_read(locked: dict[str, str], path: str, args: tuple[str, ...]) -> None:
    """Each command says the one sentence and exits 2; the languages alternate down the list, so
    both sentences are seen without running every command twice."""
    lang = ("en", "nb")[INVOCATIONS.index((path, args)) % 2]
    root = Path(locked["root"])
    argv = [*path.split(), *(arg.format(**locked) for arg in args)]
    done = subprocess.run([sys.executable, "-m", "evidencekit", "--lang", lang, *argv], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, env=locked_env(root), timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", t("locker.locked", lang) + "\n")
    assert ("låst" if lang == "nb" else "locked") in done.stderr


def test_unlocked_the_same_commands_read_it(locked: dict[str, str]) -> None:
    """The arguments above are ones that work: it was the lock that stopped them."""
    env = locked_env(Path(locked["root"]), EVIDENCEKIT_PASSPHRASE=PASSPHRASE, EVIDENCEKIT_LANG="en")
    for argv in (["list"], ["show", "E-001"], ["transcript", "E-002"], ["verify", locked["sealed"]], ["check"]):
        done = run_cli(*argv, env=env, stdin=subprocess.DEVNULL)
        assert done.code == 0, (argv, done.err)


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_doctor_says_locked_as_a_note(locked: dict[str, str], lang: str) -> None:
    root = Path(locked["root"])
    done = subprocess.run([sys.executable, "-m", "evidencekit", "--lang", lang, "doctor"], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, env=locked_env(root), timeout=120)
    assert t("doctor.locker_locked", lang, path=str(root / "locker")) in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
