/* evidencekit's service worker: captures the tab in front and hands it to evidencekit.

   Used by the popup, the keyboard shortcut and tests:
     self.evidencekitCapture({mode: "visible"|"full"|"selection", note, who, channel,
                              incidentDate, caseId})  -> {item: "E-012", files: [{name, sha256}]}
     self.evidencekitCases()                             -> {locker, locked, cases: [{id, title, current}]}
     self.evidencekitUnlock(passphrase, caseId?)         -> checks it with evidencekit, keeps it
     self.evidencekitLock()                              -> forgets it (here and in the host)
     self.evidencekitHost(type, fields, expect)          -> one of the case page's requests, answered
   The passphrase is kept in chrome.storage.session only: in memory, for this browser session,
   readable by the extension's own pages and this worker, never written to disk. The locker is
   encrypted at rest: until the host has a passphrase, it lists no cases ("locked"). */
"use strict";

if (typeof importScripts === "function" && !(self.EK && self.EK.capture)) {
  importScripts("lib/encoding.js", "lib/host.js", "lib/capture.js");
}

const WHO = ["customer", "colleague", "leader", "other", "unknown"];
const TEXT_LIMITS = {note: 10000, channel: 200, caseId: 200, incidentDate: 40};
let queue = Promise.resolve(); // one capture at a time: the host takes one, and the quota is shared

const fail = (key, subs) => EK.host.failure(chrome.i18n.getMessage(key, subs), key);

if (chrome.storage.session.setAccessLevel) {
  chrome.storage.session.setAccessLevel({accessLevel: "TRUSTED_CONTEXTS"}).catch(() => {});
}

async function storedPassphrase() {
  const {passphrase} = await chrome.storage.session.get("passphrase");
  return passphrase || null;
}

function checkOptions(options) {
  if (!options || typeof options !== "object" || Array.isArray(options)) throw fail("errorBadOptions", ["options"]);
  if (!EK.capture.MODES.includes(options.mode)) throw fail("errorBadMode", [String(options.mode)]);
  for (const [name, limit] of Object.entries(TEXT_LIMITS)) {
    const value = options[name];
    if (value !== undefined && value !== null && (typeof value !== "string" || value.length > limit)) {
      throw fail("errorBadOptions", [name]);
    }
  }
  if (options.who && !WHO.includes(options.who)) throw fail("errorBadOptions", ["who"]);
  if (options.tabId !== undefined && !Number.isInteger(options.tabId)) throw fail("errorBadOptions", ["tabId"]);
}

async function activeTabId() {
  const [tab] = await chrome.tabs.query({active: true, lastFocusedWindow: true});
  if (!tab) throw fail("errorNoTab");
  return tab.id;
}

function setBadge(text, colour, title) {
  chrome.action.setBadgeText({text}).catch(() => {});
  if (colour) chrome.action.setBadgeBackgroundColor({color: colour}).catch(() => {});
  chrome.action.setTitle({title: title || chrome.i18n.getMessage("actionTitle")}).catch(() => {});
}

async function remember(last) {
  await chrome.storage.session.set({last: {...last, at: new Date().toISOString()}});
}

async function capture(options) {
  checkOptions(options);
  setBadge("…", "#5f6368", chrome.i18n.getMessage("badgeCapturing"));
  try {
    const tabId = options.tabId !== undefined ? options.tabId : await activeTabId();
    const {files, page} = await EK.capture.captureTab(tabId, options.mode);
    const facts = {};
    if (options.incidentDate) facts.incidentDate = options.incidentDate;
    if (options.who) facts.who = options.who;
    if (options.channel) facts.channel = options.channel;
    if (options.note) facts.note = options.note;
    let stored;
    try {
      stored = await EK.host.store({files, page, facts, caseId: options.caseId || null,
        passphrase: await storedPassphrase()});
    } catch (error) {
      if (error.code === "keys.wrong_passphrase") await chrome.storage.session.remove("passphrase");
      throw error;
    }
    const digests = new Map(stored.reply.files.map((f) => [f.name, f.sha256]));
    for (const file of files) {
      if (digests.get(file.name) !== file.sha256) throw fail("errorDigestDiffers", [file.name]);
    }
    const outcome = {
      item: stored.reply.item,
      case: stored.reply.case,
      files: files.map((f) => ({name: f.name, sha256: f.sha256, size: f.size, chunks: stored.chunks[f.name] || 0})),
    };
    await remember({ok: true, item: outcome.item, case: outcome.case, sha256: outcome.files[0].sha256,
      file: outcome.files[0].name});
    setBadge("✓", "#1e8e3e", chrome.i18n.getMessage("badgeStored", [outcome.item]));
    return outcome;
  } catch (error) {
    await remember({ok: false, error: error.message, code: error.code || ""});
    setBadge("!", "#b3261e", error.message);
    throw error;
  }
}

self.evidencekitCapture = (options) => {
  const run = queue.then(() => capture(options));
  queue = run.catch(() => {});
  return run;
};

/** The cases, or {locked: true} while the host has no passphrase. A host started again since she
    unlocked (the browser ends an idle port) is given this session's passphrase first. */
self.evidencekitCases = async () => {
  let reply = await EK.host.cases();
  const secret = reply.locked ? await storedPassphrase() : null;
  if (secret) {
    try {
      await EK.host.unlock(secret, null);
    } catch (error) {
      if (error.code === "keys.wrong_passphrase") await chrome.storage.session.remove("passphrase");
      throw error;
    }
    reply = await EK.host.cases();
  }
  return {locker: reply.locker, locked: reply.locked, cases: reply.cases};
};

self.evidencekitUnlock = async (passphrase, caseId) => {
  if (typeof passphrase !== "string" || !passphrase) throw fail("errorEmptyPassphrase");
  const reply = await EK.host.unlock(passphrase, caseId || null);
  await chrome.storage.session.set({passphrase});
  return {case: reply.case};
};

self.evidencekitLock = async () => {
  await chrome.storage.session.remove("passphrase");
  await EK.host.call("lock", {}, "locked").catch(() => {}); // a host that is not running holds nothing
  return {locked: true};
};

// The case page's requests that the worker passes on (files go over the page's own port).
const PAGE_REQUESTS = ["case_create", "items", "thumbs", "item", "timeline", "note", "report", "recipients",
  "recipient_add", "seal", "stamps", "stamp", "key"];

self.evidencekitHost = (type, fields, expect) => {
  const plain = (value) => value && typeof value === "object" && !Array.isArray(value);
  if (!PAGE_REQUESTS.includes(type) || (fields !== undefined && !plain(fields))
      || ![].concat(expect).every((e) => typeof e === "string")) {
    throw fail("errorBadOptions", ["host"]);
  }
  return EK.host.call(type, fields || {}, expect);
};

self.evidencekitStatus = async () => {
  const commands = chrome.commands ? await chrome.commands.getAll() : [];
  const quick = commands.find((c) => c.name === "quick-capture");
  const {last} = await chrome.storage.session.get("last");
  return {
    unlocked: Boolean(await storedPassphrase()),
    fullPage: await EK.capture.debuggerAllowed(),
    shortcut: quick ? quick.shortcut : "",
    last: last || null,
  };
};

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  const ownPage = sender.id === chrome.runtime.id && typeof sender.url === "string"
    && sender.url.startsWith(chrome.runtime.getURL("")); // the popup (or it opened as a tab)
  if (!ownPage || !message || typeof message.cmd !== "string") return false;
  const handlers = {
    cases: () => self.evidencekitCases(),
    unlock: () => self.evidencekitUnlock(message.passphrase, message.caseId),
    lock: () => self.evidencekitLock(),
    status: () => self.evidencekitStatus(),
    capture: () => self.evidencekitCapture(message.options),
    host: () => self.evidencekitHost(message.type, message.fields, message.expect),
  };
  const handler = handlers[message.cmd];
  if (!handler) return false;
  Promise.resolve().then(handler).then(
    (result) => sendResponse({ok: true, result}),
    (error) => sendResponse({ok: false, error: error.message, code: error.code || ""}));
  return true;
});

if (chrome.commands) {
  chrome.commands.onCommand.addListener((command, tab) => {
    if (command !== "quick-capture") return;
    self.evidencekitCapture({mode: "visible", tabId: tab && tab.id}).catch((error) => {
      if (error.code === "extension.locked" && chrome.action.openPopup) chrome.action.openPopup().catch(() => {});
    });
  });
}
