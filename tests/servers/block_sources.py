"""Loopback block-header sources over a synthetic chain: bitcoind JSON-RPC and Esplora."""

from __future__ import annotations

import base64
import json

from ._http import LoopbackServer, QuietHandler
from .chain import SyntheticChain


class _RpcHandler(QuietHandler):
    def do_POST(self) -> None:  # noqa: N802
        owner: BitcoindRpc = self.owner
        expected = "Basic " + base64.b64encode(f"{owner.user}:{owner.password}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self.reply(401, b"", "text/html")
            return
        try:
            call = json.loads(self.body())
        except ValueError:
            self.reply(500, b'{"result":null,"error":{"code":-32700,"message":"Parse error"}}')
            return
        result, error = owner.dispatch(call.get("method"), call.get("params") or [])
        status = 200 if error is None else 500
        answer = {"result": result, "error": error, "id": call.get("id")}
        self.reply(status, json.dumps(answer).encode(), "application/json")


class BitcoindRpc:
    """Answers ``getblockcount``, ``getblockhash`` and ``getblockheader`` like bitcoind, behind basic auth."""

    user = "evidencekit"
    password = "loopback-only"

    def __init__(self, chain: SyntheticChain) -> None:
        self.chain = chain
        self.calls: list[str] = []
        self.server = LoopbackServer(_RpcHandler, self)
        port = self.server.httpd.server_address[1]
        self.url = f"http://{self.user}:{self.password}@127.0.0.1:{port}/"

    def dispatch(self, method: object, params: list) -> tuple[object, object]:
        self.calls.append(str(method))
        if method == "getblockcount":  # the ots client asks before getblockhash
            return max(self.chain.blocks, default=self.chain.start_height - 1), None
        if method == "getblockhash":
            block_hash = self.chain.block_hash(int(params[0]))
            if block_hash is None:
                return None, {"code": -8, "message": "Block height out of range"}
            return block_hash, None
        if method == "getblockheader":
            height = self.chain.height_of(str(params[0]))
            if height is None:
                return None, {"code": -5, "message": "Block not found"}
            raw = self.chain.header(height)
            if len(params) > 1 and params[1] is False:
                return raw.hex(), None
            return {"hash": params[0], "height": height}, None
        return None, {"code": -32601, "message": "Method not found"}

    def close(self) -> None:
        self.server.close()


class _EsploraHandler(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802
        chain: SyntheticChain = self.owner.chain
        parts = self.path.strip("/").split("/")
        if parts[:1] == ["api"]:
            parts = parts[1:]
        if len(parts) == 2 and parts[0] == "block-height" and parts[1].isdigit():
            block_hash = chain.block_hash(int(parts[1]))
            if block_hash is not None:
                self.reply(200, block_hash.encode(), "text/plain")
                return
        if len(parts) == 3 and parts[0] == "block" and parts[2] == "header":
            height = chain.height_of(parts[1])
            if height is not None:
                self.reply(200, chain.header(height).hex().encode(), "text/plain")
                return
        self.reply(404, b"Block not found", "text/plain")


class EsploraApi:
    """Answers ``/api/block-height/<h>`` and ``/api/block/<hash>/header`` like Esplora."""

    def __init__(self, chain: SyntheticChain) -> None:
        self.chain = chain
        self.server = LoopbackServer(_EsploraHandler, self)
        self.url = self.server.url + "/api"

    def close(self) -> None:
        self.server.close()
