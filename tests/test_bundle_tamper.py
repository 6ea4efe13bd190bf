"""Every way of changing a bundle after sealing is caught, each with its own reason.

One flipped byte in any member; a file deleted, added or renamed; the manifest taken from
another bundle; the signature stripped or made by another key; a forger who re-signs everything;
a sealed file cut short or changed in its header or body. Selective disclosure: a bundle of some
items verifies and counts the rest; an item moved in from another case is caught by the custody
log even when the manifest is re-signed with the very same key.

The bundles are built once per module with the CLI and verified with it hundreds of times, all
in this process (``evidencekit.cli.main``, see ``bundle_support.py``), which keeps the module fast;
``test_bundle_roundtrip.py`` runs the installed command in fresh processes.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import nacl.public
import nacl.signing
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bundle_support import invoke
from conftest import PASSPHRASE, Result
from evidencekit._internal import canonical, keys
from evidencekit._internal.bundle import container, envelope, layout, minisign
from evidencekit._internal.dates import shown
from locker_files import open_locker
from servers.block_sources import BitcoindRpc
from servers.chain import SyntheticChain
from servers.ots_calendar import LoopbackCalendar
from servers.tsa import LocalTsa, openssl

UNSIGNED = set(layout.UNSIGNED)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One worker: case A with five stamped items (bundles: all, again E-001 only, E-002+E-004,
    sealed to self, sealed to self and someone else) and case B with two items (one bundle)."""
    if openssl() is None:
        pytest.skip("the openssl command is needed for the local TSA")
    root = tmp_path_factory.mktemp("tamper")
    chain = SyntheticChain()
    calendar, rpc, tsa = LoopbackCalendar(chain), BitcoindRpc(chain), LocalTsa("Loopback")
    env = {"EVIDENCEKIT_HOME": str(root / "locker"), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE,
           "EVIDENCEKIT_LANG": "en", "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": "",
           "EVIDENCEKIT_BITCOIN_NETWORK": "regtest"}

    def ok(*args: str | Path, **more: str) -> Result:
        result = invoke(*args, env={**env, **more})
        assert result.code == 0, (args, result.out, result.err)
        return result

    ok("init", "--kdf", "interactive")
    try:
        ok("case", "new", "Case A")
        files = []
        for n in range(1, 6):
            path = root / "sources" / f"evidence-{n}.txt"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(f"Melding {n}: du skal få svi.\n".encode() * (40 * n) if n < 5
                             else os.urandom(3_500_000))  # several 1 MiB chunks once sealed
            files.append(path)
        ok("add", *files, EVIDENCEKIT_OTS_CALENDARS=calendar.url, EVIDENCEKIT_TSA_URLS=tsa.url)
        calendar.mine()
        ok("stamp", "--upgrade")
        ok("stamp", "--verify", "--bitcoin-rpc", rpc.url)  # keeps the block header for the bundles
        public = ok("keys", "show", "--json").json()["public_key"]
        ok("recipients", "add", "me", public)
        other = nacl.signing.SigningKey.generate()
        bundles = root / "bundles"
        bundles.mkdir()
        paths = {name: bundles / name for name in ("all.zip", "e001.zip", "some.zip", "me.evidencekit", "two.evidencekit")}
        ok("seal", "--no-stamp", "--plain", "-o", paths["all.zip"])
        ok("seal", "--no-stamp", "--plain", "--items", "E-001", "-o", paths["e001.zip"])
        ok("seal", "--no-stamp", "--plain", "--items", "E-002,E-004", "-o", paths["some.zip"])
        ok("seal", "--no-stamp", "--to", "me", "-o", paths["me.evidencekit"])
        ok("seal", "--no-stamp", "--to", keys.public_key_string(bytes(other.verify_key)), "--to", "me",
           "-o", paths["two.evidencekit"])
        ok("case", "new", "Case B")
        ok("add", files[0], files[1])
        paths["b.zip"] = bundles / "b.zip"
        ok("seal", "--no-stamp", "--plain", "-o", paths["b.zip"])
        roots = root / "tsa-root.pem"
        roots.write_bytes(tsa.ca_pem)
        with open_locker(root / "locker") as locker:
            identity = locker.identity_signer(PASSPHRASE)
        env["EVIDENCEKIT_HOME"] = str(root / "locker")
        # The recipient confirms the blocks with a node of their choosing (a header carried in
        # the bundle is not a proof by itself).
        yield {"root": root, "env": env, "roots": roots, "identity": identity, "other": other, "rpc": rpc.url,
               **paths}
    finally:
        calendar.close()
        rpc.close()
        tsa.close()


def verify(world: dict, path: Path) -> tuple[int, dict]:
    result = invoke("verify", path, "--json", "--tsa-root", world["roots"], "--bitcoin-rpc", world["rpc"],
                    env=world["env"])
    if result.code == 2:
        return 2, {"error": result.err.strip()}
    report = json.loads(result.out)
    assert result.code == (1 if report["verdict"] == "invalid" else 0), (result.code, report["verdict"])
    return result.code, report


def failed(report: dict) -> list[tuple[str, str, str]]:
    """(check, code, path-or-item) of every failed check."""
    return [(c["check"], c["code"], str(c.get("path") or c.get("item") or "")) for c in report["checks"]
            if c["status"] == "failed"]


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_zip(target: Path, content: dict[str, bytes]) -> Path:
    """The members in evidencekit's own exact container, so only the change under test is found."""
    with open(target, "wb") as out:
        writer = container.Writer(out)
        for name, data in content.items():
            writer.add(name, data)
        writer.finish()
    return target


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def resign(content: dict[str, bytes], signer: nacl.signing.SigningKey,
           edit: Callable[[dict], None] = lambda manifest: None, *, replace_signer: bool = True) -> dict[str, bytes]:
    """Recompute the manifest's file list for ``content``, apply ``edit``, and sign it with ``signer``."""
    if replace_signer:  # a forger swaps every copy of the key: signer.pem (for checking by hand) too
        content = {**content, layout.SIGNER_PEM: layout.signer_pem(bytes(signer.verify_key))}
    manifest = json.loads(content[layout.MANIFEST])
    manifest["files"] = {name: {"sha256": canonical.sha256_hex(data), "size": len(data)}
                         for name, data in content.items() if name not in UNSIGNED}
    edit(manifest)
    body = canonical.dumps(manifest)
    comment = "evidencekit manifest of case " + manifest["case"]["id"]
    sums = layout.sha256sums(manifest["files"])
    signed = {**content, layout.SUMS: sums, layout.SUMS_SIGNATURE: minisign.sign(signer, sums, comment),
              layout.MANIFEST: body, layout.SIGNATURE: minisign.sign(signer, body, comment)}
    if replace_signer:
        signed[layout.SIGNER] = minisign.public_key_file(bytes(signer.verify_key))
    return signed


# --- the plain bundle, member by member -----------------------------------------------------


def test_untouched_bundles_verify(world: dict) -> None:
    for name in ("all.zip", "e001.zip", "some.zip", "me.evidencekit", "two.evidencekit"):
        code, report = verify(world, world[name])
        assert code == 0 and report["verdict"] == "valid", (name, failed(report), report["checks"])
    code, report = verify(world, world["b.zip"])  # case B was never stamped
    assert code == 0 and report["verdict"] == "valid_with_warnings" and not failed(report)


def test_one_flipped_byte_in_any_member(world: dict, tmp_path: Path) -> None:
    original = members(world["all.zip"])
    kinds = {name.split("/")[0] for name in original}
    assert {"items", "records", "timestamps", "README.txt", "custody-log.jsonl", "custody-log.sig",
            *UNSIGNED} <= kinds, kinds
    assert any(n.endswith(".ots") for n in original) and any(n.endswith(".tsr") for n in original)
    assert any(n.endswith(".header.json") for n in original)
    missed = []
    for name, data in original.items():
        # Every byte of the files outside the signed manifest (their comment lines included);
        # the middle byte of every other member.
        for at in range(len(data)) if name in UNSIGNED - {layout.MANIFEST} else [len(data) // 2]:
            forged = write_zip(tmp_path / "forged.zip", {**original, name: flip(data, at)})
            code, report = verify(world, forged)
            named = [f for f in failed(report) if f[2] == name or (name in UNSIGNED and f[0] == "signature")]
            if code != 1 or report.get("verdict") != "invalid" or not named:
                missed.append((name, at, code, failed(report)))
    assert not missed, missed


def test_changed_file_is_named_in_plain_words(world: dict, tmp_path: Path) -> None:
    original = members(world["all.zip"])
    name = next(n for n in original if n.startswith("items/E-003/"))
    forged = write_zip(tmp_path / "forged.zip", {**original, name: original[name] + b" "})
    result = invoke("verify", forged, env=world["env"])
    assert result.code == 1
    assert result.out.startswith("INVALID: this bundle does not check out")
    assert f"✗ {name} was changed: its digest no longer matches the manifest." in result.out


def test_deleted_added_and_renamed_files(world: dict, tmp_path: Path) -> None:
    original = members(world["all.zip"])
    item = next(n for n in original if n.startswith("items/E-002/"))

    deleted = {k: v for k, v in original.items() if k != item}
    code, report = verify(world, write_zip(tmp_path / "deleted.zip", deleted))
    assert code == 1 and failed(report) == [("files", "bundle.check_file_missing", item)]

    added = {**original, "items/E-002/02-extra.txt": b"planted later"}
    code, report = verify(world, write_zip(tmp_path / "added.zip", added))
    assert code == 1 and failed(report) == [("files", "bundle.check_file_unexpected", "items/E-002/02-extra.txt")]

    renamed_to = item.rsplit("/", 1)[0] + "/01-renamed.txt"
    renamed = {(renamed_to if k == item else k): v for k, v in original.items()}
    code, report = verify(world, write_zip(tmp_path / "renamed.zip", renamed))
    assert code == 1 and sorted(failed(report)) == [("files", "bundle.check_file_missing", item),
                                                    ("files", "bundle.check_file_unexpected", renamed_to)]


def test_manifest_taken_from_another_bundle_of_the_same_case(world: dict, tmp_path: Path) -> None:
    """A genuine, well-signed manifest of E-001 alone does not vouch for the bundle of all five."""
    whole, single = members(world["all.zip"]), members(world["e001.zip"])
    swapped = {**whole, layout.MANIFEST: single[layout.MANIFEST], layout.SIGNATURE: single[layout.SIGNATURE]}
    code, report = verify(world, write_zip(tmp_path / "swapped.zip", swapped))
    assert code == 1
    found = failed(report)
    assert ("signature", "bundle.check_signature_ok") not in found
    assert ("files", "bundle.check_file_changed", "custody-log.jsonl") in found  # the other bundle's log is longer
    assert ("log", "bundle.check_log_not_manifest", "") in found
    assert ("files", "bundle.check_file_unexpected", "records/E-003.json") in found


def test_stripped_signature(world: dict, tmp_path: Path) -> None:
    original = members(world["all.zip"])
    stripped = {k: v for k, v in original.items() if k != layout.SIGNATURE}
    code, report = verify(world, write_zip(tmp_path / "stripped.zip", stripped))
    assert code == 1 and failed(report) == [("signature", "bundle.check_signature_missing", layout.SIGNATURE)]
    no_key = {k: v for k, v in original.items() if k != layout.SIGNER}
    code, report = verify(world, write_zip(tmp_path / "no-key.zip", no_key))
    assert code == 1 and failed(report) == [("signature", "bundle.check_unsigned_missing", "")]
    assert report["signer"]["fingerprint"] is None


def test_signature_by_another_key(world: dict, tmp_path: Path) -> None:
    original = members(world["all.zip"])
    stranger = nacl.signing.SigningKey.generate()
    stranger_fingerprint = keys.fingerprint(bytes(stranger.verify_key))

    # Re-signed with another key, signer.pub left alone: the signature does not hold.
    kept_key = resign(original, stranger, replace_signer=False)
    code, report = verify(world, write_zip(tmp_path / "kept.zip", kept_key))
    assert code == 1 and failed(report) == [("signature", "bundle.check_signature_bad", layout.MANIFEST),
                                            ("signature", "bundle.check_signature_bad", layout.SUMS)]

    # signer.pub replaced too: the signature holds for the stranger, but the manifest names the
    # worker's key and the custody log is signed by the worker, not the stranger.
    replaced = resign(original, stranger)
    code, report = verify(world, write_zip(tmp_path / "replaced.zip", replaced))
    assert code == 1 and report["signer"]["fingerprint"] == stranger_fingerprint
    found = {f[1] for f in failed(report)}
    assert "bundle.check_signer_mismatch" in found and "check.signature_unknown_key" in found

    # ... and with the manifest's signer field changed as well, only the custody log tells.
    renamed = resign(original, stranger,
                     lambda m: m.update(signer=keys.public_key_string(bytes(stranger.verify_key))))
    code, report = verify(world, write_zip(tmp_path / "renamed.zip", renamed))
    assert code == 1 and report["checks"][0]["code"] == "bundle.check_signature_ok"
    found = failed(report)
    assert found[0][:2] == ("log", "check.signature_unknown_key")  # then all that rests on the log
    assert {f[0] for f in found} == {"log", "case", "items", "timestamps"}


def test_forger_who_re_signs_everything_is_caught_by_the_timestamps(world: dict, tmp_path: Path) -> None:
    """Log rebuilt and re-signed by another key, manifest too: consistent in itself, so the
    fingerprint differs from the worker's and no timestamp is for an entry of this log."""
    original = members(world["all.zip"])
    forger = nacl.signing.SigningKey.generate()
    forger_key = keys.public_key_string(bytes(forger.verify_key))
    bodies, sigs, prev = [], [], None
    for line in original[layout.LOG_ENTRIES].splitlines():
        entry = json.loads(line)
        entry.update(signer=forger_key, prev=prev)
        body = canonical.dumps(entry)
        bodies.append(body)
        sigs.append(forger.sign(body).signature)
        prev = canonical.sha256_hex(body)
    entries, signatures = layout.log_files(list(zip(bodies, sigs)))
    content = {**original, layout.LOG_ENTRIES: entries, layout.LOG_SIGNATURES: signatures}
    forged = resign(content, forger, lambda m: (m.update(signer=forger_key), m["log"].update(head=prev)))
    code, report = verify(world, write_zip(tmp_path / "forged.zip", forged))
    assert code == 1 and report["signer"]["fingerprint"] == keys.fingerprint(bytes(forger.verify_key))
    found = failed(report)
    assert found and {f[1] for f in found} == {"bundle.check_stamp_not_log"}, found


# --- selective disclosure --------------------------------------------------------------------


def test_two_of_five_items_verify_and_three_are_counted(world: dict) -> None:
    names = members(world["some.zip"])
    assert {n.split("/")[1] for n in names if n.startswith("items/")} == {"E-002", "E-004"}
    assert not any("E-001" in n or "E-003" in n or "E-005" in n for n in names)
    code, report = verify(world, world["some.zip"])
    assert code == 0 and report["verdict"] == "valid", failed(report)
    assert report["items"] == ["E-002", "E-004"]
    log = [json.loads(line) for line in names[layout.LOG_ENTRIES].splitlines()]
    added = {e["subject"]: e["time"] for e in log if e["action"] == "item.add"}
    assert report["withheld"] == [{"id": i, "added": added[i]} for i in ("E-001", "E-003", "E-005")]
    withheld = next(c for c in report["checks"] if c["check"] == "withheld")
    assert withheld["status"] == "ok" and withheld["count"] == 3

    human = invoke("verify", world["some.zip"], "--tsa-root", world["roots"], env=world["env"])
    assert human.code == 0
    assert f"E-003 was withheld (added {shown(added['E-003'])})." in human.out  # in local time
    assert "3 items of the case were withheld from this bundle" in human.out


def test_withheld_count_cannot_be_understated(world: dict, tmp_path: Path) -> None:
    forged = resign(members(world["some.zip"]), world["identity"], lambda m: m.update(withheld=0))
    code, report = verify(world, write_zip(tmp_path / "understated.zip", forged))
    assert code == 1 and failed(report) == [("withheld", "bundle.check_withheld_mismatch", "")]


@pytest.mark.parametrize("as_label", ["E-001", "E-006"])
def test_item_moved_in_from_another_case(world: dict, tmp_path: Path, as_label: str) -> None:
    """Case B's E-001, put into case A's bundle (as A's withheld E-001, or as a new E-006) and the
    manifest re-signed by the worker's own key, which signs both cases: signature, files and log
    all hold, and only the custody log's commitment to each record catches the stranger."""
    content, other = members(world["some.zip"]), members(world["b.zip"])
    moved = {n: d for n, d in other.items() if n.startswith("items/E-001/") or n == "records/E-001.json"}
    assert len(moved) == 2
    renamed = {n.replace("E-001", as_label): d for n, d in moved.items()}
    b_item = next(i for i in json.loads(other[layout.MANIFEST])["items"] if i["id"] == "E-001")

    def add_item(manifest: dict) -> None:
        files = [{**f, "path": f["path"].replace("E-001", as_label)} for f in b_item["files"]]
        manifest["items"].append({**b_item, "id": as_label, "record": f"records/{as_label}.json", "files": files})
        manifest["withheld"] -= 1 if as_label == "E-001" else 0

    forged = resign({**content, **renamed}, world["identity"], add_item)
    code, report = verify(world, write_zip(tmp_path / "moved.zip", forged))
    assert code == 1 and report["verdict"] == "invalid"
    assert failed(report) == [("items", "bundle.check_item_not_logged", as_label)]
    assert report["signer"]["fingerprint"] == keys.fingerprint(bytes(world["identity"].verify_key))


# --- the sealed envelope ---------------------------------------------------------------------


def _envelope_failure(world: dict, path: Path) -> tuple[int, str]:
    """Exit code and the envelope's reason (code when the file is invalid, sentence when refused)."""
    code, report = verify(world, path)
    if code == 2:
        return code, report["error"]
    assert report["verdict"] == "invalid" and len(report["checks"]) == 1, report
    return code, report["checks"][0]["code"]


def test_sealed_file_cut_short(world: dict, tmp_path: Path) -> None:
    data = world["me.evidencekit"].read_bytes()
    stream_start = len(envelope.MAGIC) + 2 + envelope.SLOT + envelope.PREFIX
    chunk = envelope.CHUNK + envelope.TAG
    assert len(data) > stream_start + 3 * chunk
    cuts = {
        "in the header": 20,
        "after the header": stream_start,
        "at a chunk boundary": stream_start + 2 * chunk,
        "inside a chunk": stream_start + 2 * chunk + 1000,
        "the signature's chunk": len(data) - envelope.TRAILER - envelope.TAG,
        "by one byte": len(data) - 1,
    }
    for where, length in cuts.items():
        cut = tmp_path / "cut.evidencekit"
        cut.write_bytes(data[:length])
        code, reason = _envelope_failure(world, cut)
        assert code == 1 and reason in ("bundle.sealed_truncated", "bundle.sealed_damaged"), (where, reason)
    result = invoke("verify", cut, env=world["env"])
    assert result.code == 1 and result.out.startswith("INVALID")


def test_sealed_file_with_extra_data(world: dict, tmp_path: Path) -> None:
    longer = tmp_path / "longer.evidencekit"
    data = world["me.evidencekit"].read_bytes()
    for extra in (b"\x00", bytes(envelope.TRAILER + envelope.TAG), bytes(envelope.CHUNK + envelope.TAG)):
        longer.write_bytes(data + extra)
        assert _envelope_failure(world, longer) == (1, "bundle.sealed_damaged")


def test_flipped_byte_in_the_sealed_header_and_body(world: dict, tmp_path: Path) -> None:
    mine = world["me.evidencekit"].read_bytes()
    two = world["two.evidencekit"].read_bytes()
    slots = len(envelope.MAGIC) + 2
    cases = {
        # Our own key slot: we cannot tell a damaged slot from one for somebody else.
        "own key slot": (mine, slots + 40, 2, "not addressed to your key (it has 1 recipient), or its header is damaged"),
        "recipient count, high byte": (mine, slots - 2, 1, "bundle.sealed_damaged"),  # 257: our slot still opens
        "recipient count, low byte": (mine, slots - 1, 1, "bundle.sealed_damaged"),  # 0 recipients
        # Another recipient's slot, the nonce prefix, the body: all bound together.
        "other recipient's slot": (two, slots + 40, 1, "bundle.sealed_damaged"),
        "nonce prefix": (mine, slots + envelope.SLOT + 3, 1, "bundle.sealed_damaged"),
        "first chunk": (mine, slots + envelope.SLOT + envelope.PREFIX + 100, 1, "bundle.sealed_damaged"),
        "middle of the body": (mine, len(mine) // 2, 1, "bundle.sealed_damaged"),
        "last body chunk": (mine, len(mine) - envelope.TRAILER - envelope.TAG - 5, 1, "bundle.sealed_damaged"),
        "the signature's chunk": (mine, len(mine) - 5, 1, "bundle.sealed_damaged"),
    }
    for where, (data, at, code, expected) in cases.items():
        changed = tmp_path / "changed.evidencekit"
        changed.write_bytes(flip(data, at))
        got_code, reason = _envelope_failure(world, changed)
        assert got_code == code and expected in reason, (where, got_code, reason)
    # The two-recipient file still opens for us where our own slot is intact: the check is ours.
    assert struct.unpack(">H", two[8:10]) == (2,)


def test_sealed_chunks_moved_dropped_or_flagged_final(world: dict, tmp_path: Path) -> None:
    """Each chunk's nonce holds its number and whether it is the last, so whole, intact chunks put
    in another order, left out or repeated fail to decrypt; so does a chunk a recipient (who holds
    the file key) encrypts again with the wrong flag: a body chunk as the last, the last as not."""
    data = world["me.evidencekit"].read_bytes()
    start = len(envelope.MAGIC) + 2 + envelope.SLOT + envelope.PREFIX
    final = envelope.TRAILER + envelope.TAG
    head, body = data[:start], data[start:-final]
    size = envelope.CHUNK + envelope.TAG
    chunks = [body[at:at + size] for at in range(0, len(body), size)] + [data[-final:]]
    assert len(chunks) >= 5  # chunk 0 has the header as additional data; 1 and 2 are plain body chunks
    file_key = nacl.public.SealedBox(world["identity"].to_curve25519_private_key()).decrypt(head[10:10 + envelope.SLOT])
    cipher, prefix = AESGCM(file_key), head[-envelope.PREFIX:]

    def flag(number: int, was: bool) -> bytes:
        """Chunk ``number`` encrypted again with its final flag turned around."""
        plain = cipher.decrypt(prefix + struct.pack(">IB", number, was), chunks[number], None)
        assert cipher.encrypt(prefix + struct.pack(">IB", number, was), plain, None) == chunks[number]
        return cipher.encrypt(prefix + struct.pack(">IB", number, not was), plain, None)

    last = len(chunks) - 1
    forged = {
        "two body chunks swapped": [chunks[0], chunks[2], chunks[1], *chunks[3:]],
        "a body chunk dropped": [chunks[0], *chunks[2:]],
        "a body chunk repeated": [chunks[0], chunks[1], *chunks[1:]],
        "the body cut at a chunk boundary, the signature's chunk kept": [chunks[0], chunks[1], chunks[last]],
        "a middle chunk flagged final": [chunks[0], flag(1, False), *chunks[2:]],
        "the signature's chunk not flagged final": [*chunks[:last], flag(last, True)],
    }
    changed = tmp_path / "changed.evidencekit"
    for where, rearranged in forged.items():
        changed.write_bytes(head + b"".join(rearranged))
        assert _envelope_failure(world, changed) == (1, "bundle.sealed_damaged"), where
    result = invoke("verify", changed, env=world["env"])
    assert result.code == 1 and result.out.startswith("INVALID")
    changed.write_bytes(head + b"".join(chunks))  # all in order, as sealed: it holds
    assert invoke("verify", changed, env=world["env"]).code == 0


def test_damaged_sealed_file_is_not_opened(world: dict, tmp_path: Path) -> None:
    data = world["me.evidencekit"].read_bytes()
    changed = tmp_path / "changed.evidencekit"
    changed.write_bytes(flip(data, len(data) // 2))
    target = tmp_path / "opened"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = invoke("open", changed, "-o", target, env={**world["env"], "TMPDIR": str(scratch)})
    assert result.code == 1 and "The sealed file is damaged or was changed" in result.out
    assert "nothing was unpacked" in result.out
    assert sorted(os.listdir(tmp_path)) == ["changed.evidencekit", "tmp"] and os.listdir(scratch) == []


# --- forged structure: always a finding, never a crash ----------------------------------------

_ODD = [None, 1, "x", [], {}, [1], {"a": 1}, True, -1, "../../etc/passwd"]
_PLACES = [("items",), ("files",), ("timestamps",), ("log",), ("case",), ("withheld",), ("signer",),
           ("log", "length"), ("log", "head"), ("items", 0), ("items", 0, "files"), ("items", 0, "files", 0),
           ("items", 0, "files", 0, "sha256"), ("items", 0, "files", 0, "size"), ("items", 0, "files", 0, "path"),
           ("items", 0, "id"), ("items", 0, "record"), ("items", 0, "record_sha256"), ("timestamps", 0),
           ("timestamps", 0, "seq"), ("timestamps", 0, "digest"), ("timestamps", 0, "path"), ("timestamps", 0, "kind"),
           ("files", "README.txt"), ("files", "README.txt", "size"), ("case", "id"), ("version",), ("format",)]


@pytest.mark.parametrize("signer", ["worker", "stranger"])
def test_manifest_of_any_shape_is_a_finding(world: dict, tmp_path: Path, signer: str) -> None:
    """Fields of the wrong type, signed by the worker's key (so everything after the signature
    runs) or by a stranger's (so the log holds nothing): a verdict or one sentence, never a crash."""
    original = members(world["all.zip"])
    key = world["identity"] if signer == "worker" else nacl.signing.SigningKey.generate()
    manifest = json.loads(original[layout.MANIFEST])
    outcomes = set()
    for place in _PLACES:
        for value in _ODD:
            changed = json.loads(json.dumps(manifest))
            target = changed
            for step in place[:-1]:
                target = target[step]
            target[place[-1]] = value
            body = canonical.dumps(changed)
            content = {**original, layout.MANIFEST: body, layout.SIGNATURE: minisign.sign(key, body, "forged"),
                       layout.SIGNER: minisign.public_key_file(bytes(key.verify_key))}
            result = invoke("verify", write_zip(tmp_path / "odd.zip", content), "--json", env=world["env"])
            assert result.code in (0, 1, 2), (place, value, result.code, result.err)
            if result.code == 0:  # the signer may, say, list no timestamps: then there are none
                assert signer == "worker" and json.loads(result.out)["verdict"] != "invalid"
            elif result.code == 1:
                assert json.loads(result.out)["verdict"] == "invalid"
            else:
                assert len(result.err.strip().splitlines()) == 1 and "unexpected" not in result.err.lower()
            outcomes.add(result.code)
    assert 1 in outcomes


@pytest.mark.parametrize("garbage", ["empty", "zeros", "text", "half", "json"])
def test_garbage_proofs_and_headers_are_findings(world: dict, tmp_path: Path, garbage: str) -> None:
    """Proofs replaced by garbage and the manifest re-signed by the worker's own key, so the
    timestamp verifiers really parse them: each proof fails, nothing crashes."""
    content = members(world["all.zip"])
    for name, data in content.items():
        if name.startswith("timestamps/"):
            content[name] = {"empty": b"", "zeros": bytes(64), "text": b"not a proof at all\n",
                             "half": data[: len(data) // 2], "json": b'{"height": "x", "header_hex": 5}'}[garbage]
    code, report = verify(world, write_zip(tmp_path / "garbage.zip", resign(content, world["identity"])))
    assert code == 1 and report["verdict"] == "invalid"
    stamps = [c for c in report["checks"] if c["check"] == "timestamps"]
    assert stamps and all(c["status"] != "ok" for c in stamps), stamps
    assert {f[0] for f in failed(report)} == {"timestamps"}


def test_oversized_small_member_is_a_finding(world: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evidencekit._internal.bundle import check

    monkeypatch.setattr(check, "MAX_KEPT", 1000)  # instead of writing a 64 MiB manifest
    code, report = verify(world, world["all.zip"])
    assert code == 1 and "zip.member_too_big" in {f[1] for f in failed(report)}


def test_sealed_bundle_needs_no_temporary_folder(world: dict, tmp_path: Path) -> None:
    """Checked while it is decrypted: no plaintext copy anywhere, so not even a usable TMPDIR is needed."""
    blocked = tmp_path / "a-file"
    blocked.write_bytes(b"")
    env = {**world["env"], "TMPDIR": str(blocked / "tmp")}
    result = invoke("verify", world["me.evidencekit"], "--bitcoin-rpc", world["rpc"], env=env)
    assert result.code == 0, result.out + result.err
    result = invoke("open", world["me.evidencekit"], "-o", tmp_path / "out", "--bitcoin-rpc", world["rpc"], env=env)
    assert result.code == 0, result.out + result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "out"]
