/* The one native-messaging port to evidencekit on this computer.

   Opened on first use and kept while captures come (an open port also keeps the service worker
   alive); closed after a minute without work, which ends the host process. Requests carry an id,
   replies are matched to it; a capture's file chunks all travel over this same port. */
"use strict";

self.EK = self.EK || {};

EK.host = (() => {
  const NAME = "org.evidencekit.native_host";
  const IDLE_MS = 60_000;
  const CHUNK_CHARS = 4 * 1024 * 1024; // base64 characters per chunk message (3 MiB of bytes; the host takes 8)
  const KEEP_READ = 256 * 1024 * 1024; // files read to be hashed are sent from memory up to this total

  let port = null;
  let idleTimer = null;
  let counter = 0;
  const waiting = new Map(); // id -> {resolve, reject, expect}
  const listeners = new Map(); // id -> callback for a later message (e.g. "stamped")

  /** An Error whose message a worker can read, with the host's code when it gave one. */
  function failure(message, code) {
    const error = new Error(message);
    error.code = code || "extension";
    return error;
  }

  function disconnectReason(text) {
    const reason = text || "";
    if (/not found/i.test(reason)) return failure(chrome.i18n.getMessage("errorHostMissing"), "host_missing");
    if (/forbidden/i.test(reason)) return failure(chrome.i18n.getMessage("errorHostForbidden"), "host_forbidden");
    return failure(chrome.i18n.getMessage("errorHostGone", [reason || "?"]), "host_gone");
  }

  function newId(prefix) {
    counter += 1;
    return `${prefix}-${Date.now().toString(36)}-${counter}`;
  }

  function onMessage(message) {
    const entry = waiting.get(message.id);
    if (entry) {
      if (message.type === "error") {
        waiting.delete(message.id);
        entry.reject(failure(message.message, message.code));
      } else if ([].concat(entry.expect).includes(message.type)) {
        waiting.delete(message.id);
        entry.resolve(message);
      }
    } else if (message.type === "error" && message.id === null) {
      for (const [id, pending] of waiting) pending.reject(failure(message.message, message.code));
      waiting.clear();
    }
    const later = listeners.get(message.id);
    if (later && message.type === "stamped") {
      listeners.delete(message.id);
      later(message);
    }
    armIdle();
  }

  function onDisconnect() {
    const error = disconnectReason(chrome.runtime.lastError && chrome.runtime.lastError.message);
    port = null;
    clearTimeout(idleTimer);
    for (const pending of waiting.values()) pending.reject(error);
    waiting.clear();
    listeners.clear();
  }

  function armIdle() {
    clearTimeout(idleTimer);
    if (waiting.size === 0) {
      idleTimer = setTimeout(() => {
        if (port && waiting.size === 0) {
          port.disconnect();
          port = null;
        }
      }, IDLE_MS);
    }
  }

  function connect() {
    if (port) return port;
    try {
      port = chrome.runtime.connectNative(NAME);
    } catch (error) {
      port = null;
      throw disconnectReason(String(error && error.message));
    }
    port.onMessage.addListener(onMessage);
    port.onDisconnect.addListener(onDisconnect);
    const manifest = chrome.runtime.getManifest();
    // The language the extension's own words are in, so the host's sentences match them.
    const lang = chrome.i18n.getMessage("appLocale") || chrome.i18n.getUILanguage();
    port.postMessage({type: "hello", id: newId("hello"), lang,
      extension: {id: chrome.runtime.id, version: manifest.version}});
    return port;
  }

  function post(message) {
    connect().postMessage(message);
  }

  /** Send ``message`` and wait for the reply of type ``expect`` (one type or a list; or its error). */
  function request(message, expect) {
    const open = connect();
    clearTimeout(idleTimer);
    return new Promise((resolve, reject) => {
      waiting.set(message.id, {resolve, reject, expect});
      try {
        open.postMessage(message);
      } catch (error) {
        waiting.delete(message.id);
        reject(disconnectReason(String(error && error.message)));
      }
    });
  }

  function cases() {
    return request({type: "cases", id: newId("cases")}, "cases");
  }

  function unlock(passphrase, caseId) {
    const message = {type: "unlock", id: newId("unlock"), passphrase};
    if (caseId) message.caseId = caseId;
    return request(message, "unlocked");
  }

  /** Hand one capture to the host: announce, stream every file in chunks, wait until stored. */
  async function store({files, page, facts, caseId, passphrase, onStamped}) {
    const id = newId("capture");
    const begin = {type: "begin", id, page, facts,
      files: files.map((f) => ({name: f.name, size: f.size, sha256: f.sha256}))};
    if (caseId) begin.caseId = caseId;
    if (passphrase) begin.passphrase = passphrase;
    await request(begin, "ready");
    const stored = new Promise((resolve, reject) => waiting.set(id, {resolve, reject, expect: "stored"}));
    if (onStamped) listeners.set(id, onStamped);
    const chunks = {};
    try {
      for (const file of files) {
        let seq = 0;
        for (let at = 0; at < file.b64.length; at += CHUNK_CHARS) {
          post({type: "chunk", id, file: file.name, seq, data: file.b64.slice(at, at + CHUNK_CHARS)});
          seq += 1;
        }
        chunks[file.name] = seq;
      }
      post({type: "end", id});
    } catch (error) {
      const pending = waiting.get(id);
      if (pending) {
        waiting.delete(id);
        pending.reject(disconnectReason(String(error && error.message)));
      }
    }
    const reply = await stored;
    return {reply, chunks};
  }

  /** One of the case page's requests: ``type`` and its fields; resolves with the reply of type ``expect``. */
  function call(type, fields, expect) {
    return request({type, id: newId(type), ...fields}, expect);
  }

  /** Stream the worker's picked files (``File`` objects) for ``add`` or ``import``: each is read and
      hashed first, then sent in chunks; ``onProgress(sent, total)`` follows the bytes. ``cancelled()``
      returning true stops between chunks and tells the host to drop everything. Resolves with the
      host's answer: ``stored``, or ``question`` for an import whose dates need the worker's word. */
  async function upload(type, files, fields, {onProgress, cancelled, onStamped} = {}) {
    const id = newId(type);
    const declared = [];
    const keep = files.reduce((sum, f) => sum + f.size, 0) <= KEEP_READ; // else read again, chunk by chunk
    for (const file of files) {
      const bytes = new Uint8Array(await file.arrayBuffer());
      declared.push({name: file.name, size: bytes.length, sha256: await EK.encoding.sha256(bytes), file,
        bytes: keep ? bytes : null});
    }
    const total = declared.reduce((sum, f) => sum + f.size, 0);
    await request({type, id, ...fields, files: declared.map(({name, size, sha256}) => ({name, size, sha256}))}, "ready");
    const answer = new Promise((resolve, reject) => waiting.set(id, {resolve, reject, expect: ["stored", "question", "aborted"]}));
    if (onStamped) listeners.set(id, onStamped);
    const step = CHUNK_CHARS / 4 * 3;
    let sent = 0;
    for (const entry of declared) {
      let seq = 0;
      for (let at = 0; at < entry.size; at += step) {
        if (cancelled && cancelled()) {
          post({type: "abort", id});
          return answer;
        }
        const bytes = entry.bytes ? entry.bytes.subarray(at, at + step)
          : new Uint8Array(await entry.file.slice(at, at + step).arrayBuffer());
        post({type: "chunk", id, file: entry.name, seq, data: EK.encoding.toBase64(bytes)});
        seq += 1;
        sent += bytes.length;
        if (onProgress) onProgress(sent, total);
      }
    }
    post({type: "end", id});
    const reply = await answer;
    return {...reply, requestId: id};
  }

  /** The follow-up to an import's ``question``: the same upload, read again with the answer. */
  function answer(requestId, fields, onStamped) {
    if (onStamped) listeners.set(requestId, onStamped);
    return request({type: "import_answer", id: requestId, ...fields}, ["stored", "question"]);
  }

  return {cases, unlock, store, newId, failure, call, upload, answer};
})();
