"""Bitcoin block headers: parse and check one, and fetch it from a node, an explorer or a file.

An OpenTimestamps proof only says "this digest is the merkle root of block N"; the time comes
from that block's 80-byte header. So the header must be checked (its double SHA-256 is the block
hash, and that hash meets the target in ``nBits``) and must come from where the reader can trust
it. A header the reader fetched or chose is trusted; one that merely came with the proof counts
only when evidencekit's checkpoint table links it to the real chain (:mod:`.checkpoints`), since an
easy target is mined in minutes. Every source says which it is through :meth:`confirmation`.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from evidencekit.errors import UserError
from evidencekit._internal.timestamps import checkpoints
from evidencekit._internal.timestamps.checkpoints import MAINNET_POW_LIMIT, target_from_bits
from evidencekit._internal.timestamps.http import ServerError, public_url, request
from evidencekit._internal.timestamps.model import Message

HEADER_LENGTH = 80
_MAX_ANSWER = 64 * 1024
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
Network = Literal["mainnet", "regtest"]


class HeaderError(UserError):
    """A block header given by the user cannot be used."""


class HeaderUnavailable(Exception):
    """A source could not provide the header; carries a catalog key for the report."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


@dataclass(frozen=True)
class BlockHeader:
    """An 80-byte Bitcoin block header and the fields a timestamp check needs."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != HEADER_LENGTH:
            raise HeaderError("timestamps.header_bad_length", length=len(self.raw))

    @property
    def version(self) -> int:
        return struct.unpack_from("<i", self.raw, 0)[0]

    @property
    def merkle_root(self) -> bytes:
        """In the byte order of the header (the order OpenTimestamps commits to)."""
        return self.raw[36:68]

    @property
    def time(self) -> int:
        return struct.unpack_from("<I", self.raw, 68)[0]

    @property
    def bits(self) -> int:
        return struct.unpack_from("<I", self.raw, 72)[0]

    @property
    def block_hash(self) -> str:
        """As block explorers and ``bitcoin-cli`` show it (byte-reversed hex)."""
        return sha256d(self.raw)[::-1].hex()

    @property
    def time_utc(self) -> str:
        return datetime.fromtimestamp(self.time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def hex(self) -> str:
        return self.raw.hex()

    def meets_own_target(self) -> bool:
        target = target_from_bits(self.bits)
        return target > 0 and int.from_bytes(sha256d(self.raw), "little") <= target

    def meets_mainnet_minimum(self) -> bool:
        return 0 < target_from_bits(self.bits) <= MAINNET_POW_LIMIT


def parse_header_hex(text: str) -> BlockHeader:
    """A header from its 160 hex characters."""
    text = text.strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise HeaderError("timestamps.header_bad_hex") from None
    return BlockHeader(raw)


@dataclass(frozen=True)
class StoredHeaderInfo:
    header: BlockHeader
    height: int | None


def parse_stored_header(text: str) -> StoredHeaderInfo:
    """A header given as 160 hex characters or as JSON with ``header_hex`` (and maybe height, hash)."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        return StoredHeaderInfo(parse_header_hex(stripped), None)
    try:
        data = json.loads(stripped)
    except ValueError:
        raise HeaderError("timestamps.header_bad_json") from None
    if not isinstance(data, dict) or not isinstance(data.get("header_hex"), str):
        raise HeaderError("timestamps.header_bad_json")
    header = parse_header_hex(data["header_hex"])
    claimed = data.get("hash")
    if claimed is not None and (not isinstance(claimed, str) or claimed.lower() != header.block_hash):
        raise HeaderError("timestamps.header_hash_mismatch", expected=str(claimed),
                          actual=header.block_hash)
    height = data.get("height")
    if height is not None and (not isinstance(height, int) or isinstance(height, bool) or height < 0):
        raise HeaderError("timestamps.header_bad_json")
    return StoredHeaderInfo(header, height)


def load_stored_header(path: Path) -> StoredHeaderInfo:
    """Read a header file named on the command line; unreadable files are the user's to fix."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise HeaderError("timestamps.header_unreadable", path=str(path)) from None
    return parse_stored_header(text)


def header_json(header: BlockHeader, height: int) -> str:
    """The same JSON shape as the stored headers we read, so proofs verify offline later."""
    return json.dumps({"height": height, "hash": header.block_hash, "header_hex": header.hex,
                       "time": header.time, "time_utc": header.time_utc,
                       "bits": f"{header.bits:08x}"}, indent=2) + "\n"


@dataclass(frozen=True)
class Confirmation:
    """Why a source's header for a height may be believed: ``by`` is ``reader`` (the reader chose the
    source), ``checkpoint`` (linked to the real chain by evidencekit's table) or None, and then
    ``missing`` says what is lacking."""

    by: Literal["reader", "checkpoint"] | None
    missing: Message | None = None


BY_READER = Confirmation("reader")


class HeaderSource(Protocol):
    """Somewhere to get the header of the block at a given height.

    ``kind`` is one of ``stored``, ``bitcoind-rpc``, ``esplora``; ``where`` is a file name or a URL
    without credentials. Together they name the source in results.
    """

    @property
    def kind(self) -> str: ...

    @property
    def where(self) -> str: ...

    @property
    def vouches_for_height(self) -> bool:
        """True when the source knows which height the header is at (a node does, bare hex not)."""
        ...

    def header_at(self, height: int) -> BlockHeader: ...

    def confirmation(self, height: int) -> Confirmation:
        """Whether the header this source gave for ``height`` may be believed, and why."""
        ...


class StoredHeader:
    """A header kept beside the proof, in the locker, or given by the reader.

    Only ``given_by_reader`` (a file the reader named, e.g. ``--block-header``) is trusted as such;
    any other stored header counts only when linked to the real chain by the checkpoint table. A
    mainnet header that contradicts the table is not used at all.
    """

    def __init__(self, info: StoredHeaderInfo, *, network: Network = "mainnet",
                 name: str | None = None, given_by_reader: bool = False) -> None:
        self.info = info
        self.network = network
        self._name = name
        self.given_by_reader = given_by_reader

    @classmethod
    def from_text(cls, text: str, *, network: Network = "mainnet",
                  given_by_reader: bool = False) -> StoredHeader:
        return cls(parse_stored_header(text), network=network, given_by_reader=given_by_reader)

    @classmethod
    def from_file(cls, path: Path, *, network: Network = "mainnet",
                  given_by_reader: bool = False) -> StoredHeader:
        return cls(load_stored_header(path), network=network, name=path.name,
                   given_by_reader=given_by_reader)

    kind = "stored"

    @property
    def where(self) -> str:
        return self._name or "-"

    @property
    def vouches_for_height(self) -> bool:
        return self.info.height is not None

    def header_at(self, height: int) -> BlockHeader:
        header = self.info.header
        if self.info.height is not None and self.info.height != height:
            raise HeaderUnavailable("timestamps.header_wrong_height", have=self.info.height,
                                    want=height)
        if self.network == "mainnet":
            wrong = checkpoints.mainnet().contradiction(height, header.bits, header.block_hash)
            if wrong is not None:
                raise HeaderUnavailable(wrong.key, **wrong.params)
        if not header.meets_own_target():
            raise HeaderUnavailable("timestamps.header_bad_pow", block_hash=header.block_hash)
        if self.network == "mainnet" and not header.meets_mainnet_minimum():
            raise HeaderUnavailable("timestamps.header_below_mainnet", block_hash=header.block_hash)
        return header

    def confirmation(self, height: int) -> Confirmation:
        """For a header :meth:`header_at` gave: the reader's own file, else the table's word."""
        if self.given_by_reader:
            return BY_READER
        if self.network != "mainnet":
            return Confirmation(None, Message("timestamps.unconfirmed_not_mainnet",
                                              {"network": self.network}))
        gap = checkpoints.mainnet().gap(height)
        return Confirmation("checkpoint" if gap is None else None, gap)


def source_name(source: HeaderSource) -> str:
    """How results name a header source: its kind and where it is, e.g. ``esplora https://…``."""
    return f"{source.kind} {source.where}"


def _checked(header_hex: object, claimed_hash: object, source: str) -> BlockHeader:
    if not isinstance(header_hex, str) or not isinstance(claimed_hash, str):
        raise HeaderUnavailable("timestamps.header_bad_answer", source=source)
    try:
        header = parse_header_hex(header_hex)
    except HeaderError:
        raise HeaderUnavailable("timestamps.header_bad_answer", source=source) from None
    if header.block_hash != claimed_hash.lower():
        raise HeaderUnavailable("timestamps.header_bad_answer", source=source)
    if not header.meets_own_target():
        raise HeaderUnavailable("timestamps.header_bad_pow", block_hash=header.block_hash)
    return header


class BitcoinRpc:
    """A bitcoind JSON-RPC endpoint (``http://user:password@host:8332/``), trusted by the reader."""

    kind = "bitcoind-rpc"
    vouches_for_height = True

    def confirmation(self, height: int) -> Confirmation:
        return BY_READER

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    @property
    def where(self) -> str:
        return public_url(self.url)

    def _call(self, method: str, params: list[object], deadline: float) -> object:
        body = json.dumps({"jsonrpc": "1.0", "id": "evidencekit", "method": method,
                           "params": params}).encode()
        try:
            resp = request(self.url, method="POST", body=body, deadline=deadline,
                           headers={"Content-Type": "application/json"}, max_bytes=_MAX_ANSWER)
        except ServerError as exc:
            raise HeaderUnavailable(exc.key, **exc.params) from None
        try:
            answer = json.loads(resp.body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            if resp.status != 200:
                raise HeaderUnavailable("timestamps.server_bad_status", url=public_url(self.url),
                                        status=resp.status)
            raise HeaderUnavailable("timestamps.header_bad_answer", source=self.where)
        error = answer.get("error")
        if error:
            detail = error.get("message") if isinstance(error, dict) else error
            raise HeaderUnavailable("timestamps.rpc_error", url=public_url(self.url),
                                    detail=str(detail)[:200])
        return answer.get("result")

    def header_at(self, height: int) -> BlockHeader:
        deadline = time.monotonic() + self.timeout
        block_hash = self._call("getblockhash", [height], deadline)
        if not isinstance(block_hash, str) or not _HEX64.match(block_hash):
            raise HeaderUnavailable("timestamps.header_bad_answer", source=self.where)
        header_hex = self._call("getblockheader", [block_hash, False], deadline)
        return _checked(header_hex, block_hash, self.where)


class Esplora:
    """An Esplora HTTP API (``https://blockstream.info/api``), trusted by the reader."""

    kind = "esplora"
    vouches_for_height = True

    def confirmation(self, height: int) -> Confirmation:
        return BY_READER

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    @property
    def where(self) -> str:
        return public_url(self.url)

    def _get(self, path: str, deadline: float) -> str:
        try:
            resp = request(f"{self.url}/{path}", deadline=deadline, max_bytes=_MAX_ANSWER)
        except ServerError as exc:
            raise HeaderUnavailable(exc.key, **exc.params) from None
        if resp.status != 200:
            raise HeaderUnavailable("timestamps.server_bad_status",
                                    url=public_url(f"{self.url}/{path}"), status=resp.status)
        try:
            return resp.body.decode("ascii").strip()
        except UnicodeDecodeError:
            raise HeaderUnavailable("timestamps.header_bad_answer", source=self.where) from None

    def header_at(self, height: int) -> BlockHeader:
        deadline = time.monotonic() + self.timeout
        block_hash = self._get(f"block-height/{height}", deadline)
        if not _HEX64.match(block_hash):
            raise HeaderUnavailable("timestamps.header_bad_answer", source=self.where)
        return _checked(self._get(f"block/{block_hash}/header", deadline), block_hash, self.where)
