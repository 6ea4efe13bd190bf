"""A recipient without evidencekit checks a bundle with exactly the commands its README.txt gives.

Every line of README.txt that starts with ``$ `` runs, as written, in bash: ``unzip``, the real
``minisign``, ``sha256sum``, ``jq``, ``openssl`` and the ``ots`` client, which asks a loopback
bitcoind-style node through ``~/.bitcoin/bitcoin.conf`` as a recipient's own node would be asked.
Only the ``<…>`` the sender gives are filled in: the file and the sender's public key.

On a good bundle (stamped by a loopback calendar and two loopback TSAs) every step passes; with
one evidence byte changed, ``sha256sum -c`` fails; re-signed by a forger's own ``minisign -G``
key, the key check with the sender's real key fails. ``evidencekit verify`` calls such a bundle
signed by another key, not unreadable.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nacl.signing
import pytest

from conftest import PASSPHRASE, run_cli
from evidencekit import bundle
from evidencekit._internal import canonical, keys
from evidencekit._internal.bundle import build, container, layout, minisign
from evidencekit._internal.timestamps.rfc3161 import default_roots, load_roots
from evidencekit.i18n import LANGUAGES, t
from locker_files import open_locker
from servers.block_sources import BitcoindRpc
from servers.chain import SyntheticChain
from servers.ots_calendar import LoopbackCalendar
from servers.tsa import LocalTsa

TOOLS = ("bash", "unzip", "minisign", "sha256sum", "jq", "openssl", "xxd", "sed", "grep", "mktemp")
OTS = Path(sys.executable).parent / "ots"
EVIDENCE = "Sjefen: Du skal få svi for dette.\nMeg: Slutt.\n".encode()
# What the sender gives, by language: the bundle file and the public key.
PLACEHOLDERS = {
    "en": {"<the file the sender gave you>": "file", "<the public key the sender gave you>": "key"},
    "nb": {"<filen avsenderen ga deg>": "file", "<den offentlige nøkkelen avsenderen ga deg>": "key"},
}
PLACEHOLDER = re.compile(r"<[^\s(<>][^<>]*>")  # not a redirection (``< file``) nor ``<(…)``
MARK = "@@step-exit"


def _commands(lang: str) -> list[str]:
    return [line[2:] for line in t("bundle.readme", lang).splitlines() if line.startswith("$ ")]


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A worker's case, stamped by a loopback calendar (then mined) and two TSAs, sealed plain.

    The loopback TSAs' roots stand in for the public roots evidencekit ships, so the bundle's
    ``timestamps/tsa-roots.pem`` holds them as it would hold DigiCert's for a real token. The
    loopback node keeps answering while the README's ``ots verify`` runs.
    """
    missing = [tool for tool in TOOLS if shutil.which(tool) is None] + ([] if OTS.exists() else ["ots"])
    if missing:
        pytest.skip(f"missing {', '.join(missing)}: run tools/system-tools.sh (ots: the test extra)")
    root = tmp_path_factory.mktemp("by-hand")
    chain = SyntheticChain()
    calendar, rpc = LoopbackCalendar(chain), BitcoindRpc(chain)
    tsas = [LocalTsa("Alpha"), LocalTsa("Beta", intermediate=True)]
    home = root / "worker"
    env = {"EVIDENCEKIT_HOME": str(home), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE, "EVIDENCEKIT_LANG": "en",
           "EVIDENCEKIT_OTS_CALENDARS": calendar.url, "EVIDENCEKIT_TSA_URLS": ",".join(t.url for t in tsas),
           "EVIDENCEKIT_BITCOIN_NETWORK": "regtest"}

    def ok(*args: str | Path) -> str:
        result = run_cli(*args, env=env)
        assert result.code == 0, (args, result.out, result.err)
        return result.out

    try:
        ok("init", "--kdf", "interactive")
        ok("case", "new", "Trakassering på jobben")
        evidence = root / "melding.txt"
        evidence.write_bytes(EVIDENCE)
        ok("add", evidence)
        height = calendar.mine()
        ok("stamp", "--upgrade")
        ok("stamp", "--verify", "--bitcoin-rpc", rpc.url)  # keeps the block header for the bundle
        roots = [*default_roots(), *(cert for tsa in tsas for cert in load_roots(tsa.ca_pem))]
        output = root / "case.zip"
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(build, "default_roots", lambda: roots)
            with open_locker(home) as locker:
                bundle.seal(locker, PASSPHRASE, plain=True, output=output, with_report=False)
        key = json.loads(ok("keys", "show", "--json"))
        yield {"bundle": output, "key": key["public_key"], "fingerprint": key["fingerprint"],
               "rpc": rpc, "chain": chain, "height": height, "home": home}
    finally:
        for server in (calendar, rpc, *tsas):
            server.close()


@dataclass(frozen=True)
class Step:
    command: str
    code: int
    output: str

    @property
    def passed(self) -> bool:
        return self.code == 0 and "FAILED" not in self.output


def follow_readme(sent: dict, bundle_file: Path, folder: Path) -> list[Step]:
    """Run README.txt's commands in order, in one bash, as a recipient would type them, with the
    file and the key the sender gave."""
    commands = [_fill(command, {"file": str(bundle_file), "key": sent["key"]}) for command in _commands("en")]
    home = folder / "home"
    (home / ".bitcoin").mkdir(parents=True)
    rpc = sent["rpc"]
    port = rpc.url.rsplit(":", 1)[1].strip("/")
    (home / ".bitcoin" / "bitcoin.conf").write_text(
        f"rpcconnect=127.0.0.1\nrpcport={port}\nrpcuser={rpc.user}\nrpcpassword={rpc.password}\n")
    script = folder / "steps.sh"
    script.write_text("exec 2>&1\n" + "".join(f"{command}\necho {MARK} $?\n" for command in commands))
    work = folder / "recipient"
    work.mkdir()
    env = {"PATH": f"{OTS.parent}{os.pathsep}{os.environ['PATH']}", "HOME": str(home), "LC_ALL": "C.UTF-8",
           "TMPDIR": str(folder), "EVIDENCEKIT_HOME": str(folder / "no-locker"), "EVIDENCEKIT_LANG": "en"}
    done = subprocess.run(["bash", "--noprofile", "--norc", str(script)], cwd=work, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    parts = done.stdout.split(f"{MARK} ")
    steps = [Step(command, int(tail.split("\n", 1)[0]), output.split("\n", 1)[1] if i else output)
             for i, (command, output, tail) in enumerate(zip(commands, parts, parts[1:]))]
    assert len(steps) == len(commands), done.stdout + done.stderr
    return steps


def _fill(command: str, values: dict[str, str]) -> str:
    names = PLACEHOLDERS["en"]
    filled = PLACEHOLDER.sub(lambda m: values[names[m.group(0)]], command)
    assert not PLACEHOLDER.search(filled), command
    return filled


def _step(steps: list[Step], start: str) -> list[Step]:
    found = [s for s in steps if s.command.startswith(start)]
    assert found, start
    return found


def _rezip(folder: Path, target: Path) -> Path:
    """The unpacked folder zipped again, member for member, as anyone could."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(folder).as_posix())
    return target


def _pack(sent: dict, content: dict[str, bytes], target: Path) -> Path:
    """In evidencekit's own exact container and member order, so verify judges only the change."""
    with open(target, "wb") as out:
        writer = container.Writer(out)
        for name in _members(sent):
            writer.add(name, content[name])
        writer.finish()
    return target


def _folder_members(sent: dict, folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in _members(sent)}


def _unpacked(sent: dict, target: Path) -> Path:
    with zipfile.ZipFile(sent["bundle"]) as archive:
        archive.extractall(target)
    return target


def _evidence_file(folder: Path) -> Path:
    return next((folder / "items").glob("E-001/01-*"))


def _change_evidence(folder: Path) -> None:
    evidence = _evidence_file(folder)
    evidence.write_bytes(evidence.read_bytes().replace(b"svi", b"sve"))  # same size: only the digest tells


# --- the README itself -----------------------------------------------------------------------


def test_every_language_gives_the_same_commands(sent: dict) -> None:
    unify = [[PLACEHOLDER.sub(lambda m: f"<{PLACEHOLDERS[lang][m.group(0)]}>", c) for c in _commands(lang)]
             for lang in LANGUAGES]
    assert all(commands == unify[0] for commands in unify) and len(unify[0]) >= 12
    with zipfile.ZipFile(sent["bundle"]) as archive:
        readme = archive.read(layout.README).decode()
    assert readme == layout.readme().decode()
    assert all(t("bundle.readme", lang) in readme for lang in LANGUAGES)
    # The key and fingerprint come from the sender, never from the file a forger could write.
    assert sent["key"] not in readme and sent["fingerprint"] not in readme
    assert "minisign -Vm SHA256SUMS -P <the public key the sender gave you>" in _commands("en")


def test_sums_list_every_member_the_manifest_lists(sent: dict, tmp_path: Path) -> None:
    folder = _unpacked(sent, tmp_path / "unpacked")
    manifest = json.loads((folder / layout.MANIFEST).read_bytes())
    assert manifest["format"] == "evidencekit-bundle" and manifest["version"] == 2
    sums = dict(reversed(line.split("  ", 1)) for line in (folder / layout.SUMS).read_text().splitlines())
    assert sums == {path: meta["sha256"] for path, meta in manifest["files"].items()}
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert on_disk == set(sums) | set(layout.UNSIGNED)
    assert {layout.SIGNER_PEM, layout.TSA_ROOTS, layout.LOG_ENTRIES, layout.LOG_SIGNATURES} <= set(sums)
    assert any(name.endswith(".stamped") for name in sums)
    assert (folder / layout.SIGNER).read_text().splitlines()[1] == sent["key"]


# --- following it ----------------------------------------------------------------------------


def test_good_bundle_passes_every_step(sent: dict, tmp_path: Path) -> None:
    steps = follow_readme(sent, sent["bundle"], tmp_path)
    assert [s.command for s in steps if not s.passed] == [], [s for s in steps if not s.passed]
    assert all("Signature and comment signature verified" in s.output for s in _step(steps, "minisign"))
    assert ": OK" in _step(steps, "sha256sum -c")[0].output
    chain, signatures = _step(steps, "prev=")[0], _step(steps, "t=$(mktemp")[0]
    entries = len(_member(sent, layout.LOG_ENTRIES).splitlines())
    assert chain.output.count(": OK") == entries == signatures.output.count(": OK") >= 2
    stamped = _step(steps, "for f in timestamps/*.stamped")[0]
    assert stamped.output.count(".stamped: OK") >= 1
    ots = _step(steps, "for f in timestamps/*.ots; do ots verify")[0]
    assert f"Success! Bitcoin block {sent['height']} attests existence" in ots.output
    assert "getblockhash" in sent["rpc"].calls
    explorer = _step(steps, "for f in timestamps/*.ots; do ots --no-bitcoin")[0]
    root = sent["chain"].blocks[sent["height"]].hashMerkleRoot[::-1].hex()
    assert f"check that Bitcoin block {sent['height']} has merkleroot {root}" in explorer.output
    tsr = _step(steps, "for f in timestamps/*.tsr; do openssl ts -verify")[0]
    assert tsr.output.count("Verification: OK") >= 2 and tsr.output.count(".tsr: OK") >= 2
    times = _step(steps, "for f in timestamps/*.tsr; do echo")[0]
    assert "Alpha TSA" in times.output and "Beta TSA" in times.output


def test_changed_evidence_fails_the_sums(sent: dict, tmp_path: Path) -> None:
    folder = _unpacked(sent, tmp_path / "forged")
    _change_evidence(folder)
    steps = follow_readme(sent, _rezip(folder, tmp_path / "case.zip"), tmp_path)
    assert all(s.passed for s in _step(steps, "minisign"))  # the signatures still hold ...
    sums = _step(steps, "sha256sum -c")[0]
    assert not sums.passed and f"{_evidence_file(folder).relative_to(folder).as_posix()}: FAILED" in sums.output
    assert not _step(steps, "evidencekit verify")[0].passed


def test_forger_with_own_minisign_key_fails_the_key_check(sent: dict, tmp_path: Path) -> None:
    """Evidence changed, SHA256SUMS and manifest made to match and re-signed by ``minisign -G``'s
    key, which replaces signer.pub: consistent in itself, so only the sender's real key tells."""
    folder = forge_with_minisign(sent, tmp_path)
    selfsigned = subprocess.run(["minisign", "-Vm", layout.SUMS, "-p", layout.SIGNER], cwd=folder,
                                capture_output=True, text=True)
    assert selfsigned.returncode == 0  # why the README never uses the bundle's own signer.pub
    steps = follow_readme(sent, _rezip(folder, tmp_path / "case.zip"), tmp_path)
    key_checks = _step(steps, "minisign")
    assert len(key_checks) == 2 and not any(s.passed for s in key_checks), key_checks
    assert _step(steps, "sha256sum -c")[0].passed
    assert not _step(steps, "evidencekit verify")[0].passed


def forge_with_minisign(sent: dict, tmp_path: Path, *, replace_signer: bool = True) -> Path:
    folder = _unpacked(sent, tmp_path / "forged")
    _change_evidence(folder)
    changed = _evidence_file(folder)
    digest = canonical.sha256_hex(changed.read_bytes())
    manifest = json.loads((folder / layout.MANIFEST).read_bytes())
    path = changed.relative_to(folder).as_posix()
    manifest["files"][path]["sha256"] = digest
    for item in manifest["items"]:
        for file in item["files"]:
            if file["path"] == path:
                file["sha256"] = digest
    (folder / layout.MANIFEST).write_bytes(canonical.dumps(manifest))
    (folder / layout.SUMS).write_bytes(layout.sha256sums(manifest["files"]))
    keys_at = tmp_path / "forger"
    keys_at.mkdir()
    subprocess.run(["minisign", "-G", "-W", "-p", keys_at / "forger.pub", "-s", keys_at / "forger.key"],
                   check=True, capture_output=True)
    for name in (layout.SUMS, layout.MANIFEST):
        subprocess.run(["minisign", "-S", "-s", keys_at / "forger.key", "-m", name], cwd=folder,
                       check=True, capture_output=True)
    if replace_signer:
        shutil.copyfile(keys_at / "forger.pub", folder / layout.SIGNER)
    return folder


# --- what evidencekit says about the same forgeries --------------------------------------------


def _verify(sent: dict, target: Path) -> tuple[int, dict, str]:
    env = {"EVIDENCEKIT_HOME": str(target.parent / "no-locker"), "EVIDENCEKIT_LANG": "en"}
    as_json = run_cli("verify", target, "--json", env=env)
    human = run_cli("verify", target, env=env)
    return as_json.code, as_json.json(), human.out


def _failed(report: dict) -> list[str]:
    return [c["code"] for c in report["checks"] if c["status"] == "failed"]


def test_real_minisign_key_is_another_key_not_unreadable(sent: dict, tmp_path: Path) -> None:
    folder = forge_with_minisign(sent, tmp_path)
    forger = minisign.parse_public_key_file((folder / layout.SIGNER).read_bytes())
    assert not forger.is_evidencekit_key  # minisign -G picks a random key id
    code, report, human = _verify(sent, _pack(sent, _folder_members(sent, folder), tmp_path / "case.zip"))
    failed = _failed(report)
    assert code == 1 and report["verdict"] == "invalid"
    assert "bundle.check_signer_unreadable" not in failed and "bundle.check_signer_foreign" in failed, failed
    assert report["signer"]["public_key"] == forger.string
    assert f"signed by another key: signer.pub is someone's own minisign key (key ID {forger.key_id_text})" in human


def test_real_minisign_signature_under_the_senders_signer_pub(sent: dict, tmp_path: Path) -> None:
    folder = forge_with_minisign(sent, tmp_path, replace_signer=False)
    code, report, human = _verify(sent, _pack(sent, _folder_members(sent, folder), tmp_path / "case.zip"))
    assert code == 1 and _failed(report)[:2] == ["bundle.check_signature_bad"] * 2, report["checks"]
    assert "or it was signed by another key" in human


def test_signer_pem_must_be_the_manifests_signer(sent: dict, tmp_path: Path) -> None:
    """The sender's own key re-signs a bundle whose signer.pem is another key's: everything else
    holds, so only this check can tell that the by-hand log check would use the wrong key."""
    content = _members(sent)
    other = nacl.signing.SigningKey.generate()
    content[layout.SIGNER_PEM] = layout.signer_pem(bytes(other.verify_key))
    with open_locker(sent["home"]) as locker:
        case_id = locker.case(None).id
        signer = locker.case_signer(case_id, PASSPHRASE)
    manifest = json.loads(content[layout.MANIFEST])
    manifest["files"][layout.SIGNER_PEM] = {"sha256": canonical.sha256_hex(content[layout.SIGNER_PEM]),
                                           "size": len(content[layout.SIGNER_PEM])}
    body, sums = canonical.dumps(manifest), layout.sha256sums(manifest["files"])
    comment = f"evidencekit manifest of case {case_id}"
    content.update({layout.SUMS: sums, layout.SUMS_SIGNATURE: minisign.sign(signer, sums, comment),
                    layout.MANIFEST: body, layout.SIGNATURE: minisign.sign(signer, body, comment)})
    code, report, _ = _verify(sent, _pack(sent, content, tmp_path / "case.zip"))
    assert code == 1 and _failed(report) == ["bundle.check_signer_pem"], report["checks"]
    assert keys.fingerprint(bytes(signer.verify_key)) == sent["fingerprint"]


def _members(sent: dict) -> dict[str, bytes]:
    with zipfile.ZipFile(sent["bundle"]) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _member(sent: dict, name: str) -> bytes:
    return _members(sent)[name]
