/* Bytes, base64 and SHA-256 for captures: each file is hashed in the browser before it leaves,
   so the host can prove it stored exactly what the browser captured. */
"use strict";

self.EK = self.EK || {};

EK.encoding = (() => {
  /** Bytes of a base64 string (native decoder where the browser has one). */
  async function fromBase64(b64) {
    if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(b64);
    const response = await fetch(`data:application/octet-stream;base64,${b64}`);
    return new Uint8Array(await response.arrayBuffer());
  }

  /** Base64 of bytes, in slices so large files never build one giant argument list. */
  function toBase64(bytes) {
    if (typeof bytes.toBase64 === "function") return bytes.toBase64();
    const parts = [];
    const step = 0x2000 * 3; // a multiple of 3: slices concatenate into one valid base64 string
    for (let i = 0; i < bytes.length; i += step) {
      parts.push(btoa(String.fromCharCode.apply(null, bytes.subarray(i, i + step))));
    }
    return parts.join("");
  }

  async function sha256(bytes) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** Width and height from a PNG's header (bytes 16–23), without decoding the image. */
  function pngSize(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {width: view.getUint32(16), height: view.getUint32(20)};
  }

  /** A capture file ready to send: name, bytes, base64 and digest. */
  async function fileFromBase64(name, b64) {
    const bytes = await fromBase64(b64);
    return {name, b64, size: bytes.length, sha256: await sha256(bytes), bytes};
  }

  async function fileFromBytes(name, bytes) {
    return {name, b64: toBase64(bytes), size: bytes.length, sha256: await sha256(bytes), bytes};
  }

  function fileFromText(name, text) {
    return fileFromBytes(name, new TextEncoder().encode(text));
  }

  return {fromBase64, toBase64, sha256, pngSize, fileFromBase64, fileFromBytes, fileFromText};
})();
