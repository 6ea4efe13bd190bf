/* "My case": the whole case in the browser, each action one typed request to evidencekit's native
   host (lib/host.js), which makes the same library call as the command line. Everything shown comes
   from the locker and may quote the harasser: it is only ever set as text, never as markup. */
"use strict";

const LANG = text("appLocale"); // dates and numbers in the language the words are in
const KINDS = {file: "kindFile", diary: "kindDiary", web: "kindWeb", chat: "kindChat", email: "kindEmail",
  redaction: "kindRedaction", notice: "kindNotice"};
const DATE_ORDERS = {dmy: "appDateOrderDmy", mdy: "appDateOrderMdy", ymd: "appDateOrderYmd"};
const WHO_KEYS = {customer: "whoCustomer", colleague: "whoColleague", leader: "whoLeader", other: "whoOther",
  unknown: "whoUnknown"};
const THUMB_BATCH = 20;
// Made once: toLocaleString with options builds a new formatter on every call (1,000 rows, 1,000 formatters).
const DAY = new Intl.DateTimeFormat(LANG, {dateStyle: "medium"});
const MOMENT = new Intl.DateTimeFormat(LANG, {dateStyle: "medium", timeStyle: "short"});

const state = {caseId: null, cases: [], items: [], recipients: [], view: null, question: null, cancel: false};

/* ---------------------------------------------------------------- words and times */

function element(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined && content !== null) node.textContent = String(content);
  return node;
}

/** A time from the locker in the worker's local time: UTC instants converted, her own dates as written. */
function when(value) {
  if (!value) return "";
  if (value.includes("..")) return value.split("..").map(when).join(" – ");
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [y, m, d] = value.split("-").map(Number);
    return DAY.format(new Date(y, m - 1, d));
  }
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(value);
  const date = new Date(zoned ? value : value.replace(/\.\d+$/, ""));
  if (Number.isNaN(date.getTime())) return value;
  return MOMENT.format(date);
}

function day(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : DAY.format(date);
}

function size(bytes) {
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toLocaleString(LANG, {maximumFractionDigits: unit ? 1 : 0})} ${units[unit]}`;
}

const kindName = (kind) => (KINDS[kind] ? text(KINDS[kind]) : kind);
const whoName = (who) => (who && WHO_KEYS[who] ? text(WHO_KEYS[who]) : who || "");

/** The list's one line: the note's words, the page, the chat and its period, or the file names. */
function summaryLine(item) {
  const s = item.summary || {};
  if (item.notice) return item.notice;
  if (s.chat !== undefined) {
    return text("appChatSummary", [s.chat || "?", String(s.messages), day(s.from), day(s.to)]);
  }
  if (s.url !== undefined) return s.title ? `${s.title} — ${s.url}` : s.url;
  const first = (s.text || item.description || "").split("\n")[0];
  return first || (s.files || []).join(", ");
}

/* ---------------------------------------------------------------- talking to the host */

function say(kind, message) {
  const node = $("message");
  node.hidden = !message;
  node.className = `message ${kind}`;
  node.textContent = message || "";
}

async function passphrase() {
  const {passphrase: secret} = await chrome.storage.session.get("passphrase");
  return secret || null;
}

/** One request with the chosen case and the session's passphrase; a locked locker shows the unlock form.
    Files travel over the page's own port instead (lib/host.js): no copy through the worker. */
async function call(type, fields, expect) {
  const secret = await passphrase();
  const extra = {};
  if (state.caseId) extra.caseId = state.caseId;
  if (secret) extra.passphrase = secret;
  try {
    return await ask("host", {type, fields: {...extra, ...fields}, expect});
  } catch (error) {
    await relock(error);
    throw error;
  }
}

async function relock(error) {
  if (error.code === "keys.wrong_passphrase" || error.code === "extension.locked") {
    await chrome.storage.session.remove("passphrase");
    showView("unlock");
  }
}

async function withBusy(button, busyKey, work) {
  const buttons = button ? [button] : [];
  for (const b of buttons) b.disabled = true;
  if (busyKey) say("busy", text(busyKey));
  try {
    return await work();
  } catch (error) {
    say("error", error.message);
    return null;
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

/* ---------------------------------------------------------------- views */

const LOADERS = {
  cases: loadCases, items: loadItems, timeline: loadTimeline, handover: loadHandover, stamps: loadStamps,
  key: loadKey, report: () => {}, diary: () => {}, capture: () => {}, add: openUploadPort, import: openUploadPort, unlock: () => {},
  item: () => {},
};

/** Files go over the page's own port: start its host while she chooses them, not after the click. */
function openUploadPort() {
  EK.host.cases().catch(() => {}); // a failure shows when the files are sent
}

function showView(name, keepMessage) {
  state.view = name;
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${name}`;
  for (const button of document.querySelectorAll("#nav button")) {
    button.classList.toggle("current", button.dataset.view === name);
  }
  $("nav").hidden = name === "unlock";
  $("lock").hidden = name === "unlock";
  $("casePick").hidden = name === "unlock";
  if (name === "unlock") forgetCases();
  if (!keepMessage) say("", "");
  if (name !== "item") history.replaceState(null, "", `#${name}`);
  delete document.body.dataset.shown;
  return Promise.resolve(LOADERS[name]())
    .then(() => { if (state.view === name) document.body.dataset.shown = name; }) // not if it led elsewhere
    .catch((error) => say("error", error.message));
}

/** The cases for the choice at the top. A locked locker lists none (their titles are encrypted);
    no locker yet, or one to upgrade, is said in one sentence instead. */
async function loadCaseChoice() {
  const reply = await ask("cases");
  if (reply.locker === "none") throw new Error(text("appNoIdentity"));
  if (reply.locker === "plain") throw new Error(text("appNeedsUpgrade"));
  if (reply.locked) return reply; // nothing to choose from until she unlocks
  state.cases = reply.cases;
  const select = $("case");
  select.replaceChildren();
  const current = state.cases.find((c) => c.id === state.caseId) || state.cases.find((c) => c.current) || state.cases[0];
  state.caseId = current ? current.id : null;
  for (const c of state.cases) select.append(new Option(c.title, c.id, c.id === state.caseId, c.id === state.caseId));
  return reply;
}

async function loadCases() {
  if ((await loadCaseChoice()).locked) { // locked elsewhere meanwhile (evidencekit lock in a terminal)
    await relock({code: "extension.locked"});
    return;
  }
  const list = $("caseList");
  list.replaceChildren();
  for (const c of state.cases) {
    const card = element("li", c.id === state.caseId ? "card chosen" : "card");
    card.append(element("strong", "", c.title), element("span", "hint", text("itemCount", [String(c.items)])));
    if (c.anonymous) card.append(element("span", "badge", text("appAnonymousBadge")));
    const open = element("button", "", text("appOpenCase"));
    open.type = "button";
    open.addEventListener("click", () => chooseCase(c.id));
    card.append(open);
    list.append(card);
  }
  if (!state.cases.length) list.append(element("li", "hint", text("appNoCases")));
}

/** Locked: the case titles leave the page too (the chosen case is remembered for after the unlock). */
function forgetCases() {
  state.cases = [];
  $("case").replaceChildren();
}

function chooseCase(id) {
  state.caseId = id;
  $("case").value = id;
  showView("items");
}

async function loadItems() {
  const reply = await call("items", {}, "items");
  state.items = reply.items;
  const rows = $("itemRows");
  const fragment = document.createDocumentFragment();
  for (const item of reply.items) fragment.append(itemRow(item));
  rows.replaceChildren(fragment);
  $("itemsEmpty").hidden = reply.items.length > 0;
  $("itemTable").hidden = reply.items.length === 0;
  loadThumbnails(reply.items.filter((i) => i.picture).map((i) => i.id));
}

function itemRow(item) {
  const row = element("tr", item.sensitive ? "sensitive" : "");
  row.dataset.item = item.id;
  const thumb = element("td", "thumb");
  const dated = item.date || (item.summary && item.summary.from) || item.created; // a chat: when it began
  row.append(thumb, element("td", "label", item.id), element("td", "when", when(dated)),
    element("td", "", kindName(item.kind)),
    element("td", "", [whoName(item.who), item.person].filter(Boolean).join(" · ")));
  const what = element("td", "what");
  what.append(element("span", "", summaryLine(item)));
  if (item.channel) what.append(element("span", "channel", item.channel));
  if (item.sensitive) what.append(element("span", "badge", text("appSensitive")));
  const stamp = element("td", item.stamped ? "stamp ok" : "stamp waiting",
    text(item.stamped ? "appStamped" : "appStampWaiting"));
  row.append(what, stamp);
  row.addEventListener("click", () => {
    if (row.classList.contains("sensitive")) {
      row.classList.remove("sensitive"); // shown once she asks; the next click opens it
      return;
    }
    openItem(item.id);
  });
  return row;
}

async function loadThumbnails(ids) {
  for (let at = 0; at < ids.length; at += THUMB_BATCH) {
    const reply = await call("thumbs", {items: ids.slice(at, at + THUMB_BATCH)}, "thumbs");
    for (const [id, url] of Object.entries(reply.thumbs)) {
      const cell = document.querySelector(`tr[data-item="${CSS.escape(id)}"] td.thumb`);
      if (!cell || !url.startsWith("data:image/jpeg;base64,")) continue;
      const img = element("img");
      img.src = url;
      img.alt = "";
      cell.replaceChildren(img);
    }
  }
}

function factRows(list, pairs) {
  list.replaceChildren();
  for (const [label, value] of pairs) {
    if (!value || (Array.isArray(value) && !value.length)) continue;
    list.append(element("dt", "", label), element("dd", "", Array.isArray(value) ? value.join(", ") : value));
  }
}

async function openItem(id) {
  await showView("item");
  delete document.body.dataset.shown;
  const reply = await call("item", {item: id}, "item");
  const item = reply.item;
  $("itemHeading").textContent = `${item.id} · ${kindName(item.kind)}`;
  const f = reply.facts;
  const pairs = [
    [text("incidentDateLabel"), when(f.date)], [text("appWhere"), f.where], [text("channelLabel"), f.channel],
    [text("whoLabel"), whoName(f.who)], [text("appPerson"), f.person], [text("appWitnesses"), f.witnesses],
    [text("appReaction"), f.reaction], [text("appConsequences"), f.consequences], [text("appDescription"), f.description],
    ...(reply.notice || []),
    [text("appStoredAt"), when(reply.created)],
  ];
  if (reply.acquired && reply.acquired.final_url) pairs.push([text("appPage"), `${reply.acquired.title || ""} ${reply.acquired.final_url}`]);
  factRows($("itemFacts"), pairs);
  $("itemText").hidden = !reply.text;
  $("itemText").textContent = reply.text || "";
  showTranscript(reply.transcript, reply.more);
  const files = $("itemFiles");
  files.replaceChildren();
  for (const file of reply.files) {
    const row = element("tr");
    row.append(element("td", "", file.name), element("td", "num", size(file.size)), element("td", "digest", file.sha256));
    files.append(row);
  }
  document.body.dataset.shown = "item";
}

/** A conversation as the report lays it out: time, who, the words; system lines set apart. */
function showTranscript(messages, more) {
  const box = $("itemTranscript");
  box.replaceChildren();
  box.hidden = !messages;
  if (!messages) return;
  for (const m of messages) {
    const line = element("div", m.system ? "msg system" : "msg");
    const head = element("div", "msg-head");
    head.append(element("time", "", m.time ? when(m.time) : m.written || ""));
    if (!m.system) head.append(element("strong", "", m.sender || "?"));
    if (m.edited) head.append(element("span", "badge", text("appEdited")));
    if (m.deleted) head.append(element("span", "badge", text("appDeleted")));
    line.append(head, element("div", "msg-text", m.text));
    for (const name of m.attachments) line.append(element("div", "attachment", `📎 ${name}`));
    box.append(line);
  }
  if (more) box.append(element("p", "hint", text("appMoreMessages", [String(more)])));
}

async function loadTimeline() {
  const reply = await call("timeline", {}, "timeline");
  const list = $("timelineList");
  const fragment = document.createDocumentFragment();
  for (const m of reply.moments) {
    const entry = element("li", ["message", "mail"].includes(m.kind) ? "moment chatline" : "moment");
    const who = m.own ? whoName(m.who) : m.who;
    entry.append(element("time", "", when(m.time)), element("span", "label", m.item));
    if (who) entry.append(element("strong", "", who));
    entry.append(element("span", "what", (m.text || "").split("\n")[0]));
    const given = [m.where, m.person, m.witnesses && m.witnesses.length ? text("appWitnessList", [m.witnesses.join(", ")]) : ""];
    if (given.some(Boolean)) entry.append(element("span", "hint", given.filter(Boolean).join(" · ")));
    entry.addEventListener("click", () => openItem(m.item));
    fragment.append(entry);
  }
  list.replaceChildren(fragment);
  $("timelineMore").hidden = !reply.more;
  $("timelineMore").textContent = reply.more ? text("appMoreMessages", [String(reply.more)]) : "";
}

/* ---------------------------------------------------------------- writing, adding, importing */

function factsOf(form) {
  const facts = {};
  for (const field of form.querySelectorAll(".facts-fields [name]")) {
    const value = field.value.trim();
    if (!value) continue;
    if (field.name === "witnesses") facts.witnesses = value.split(/[,\n]/).map((w) => w.trim()).filter(Boolean);
    else facts[field.name] = value;
  }
  return facts;
}

async function saveDiary(event) {
  event.preventDefault();
  const form = event.target;
  await withBusy(form.querySelector("button[type=submit]"), "appSaving", async () => {
    const reply = await call("note", {text: $("diaryText").value, facts: factsOf(form)}, "stored");
    form.reset();
    say("ok", text("appSaved", [reply.item]));
  });
}

function chosenFiles() {
  return state.dropped || Array.from($("addFiles").files);
}

function listChosen() {
  const list = $("addChosen");
  list.replaceChildren();
  for (const file of chosenFiles()) list.append(element("li", "", `${file.name} (${size(file.size)})`));
}

function progress(bar) {
  bar.hidden = false;
  bar.value = 0;
  return (sent, total) => { bar.value = total ? sent / total : 1; };
}

async function addFiles(event) {
  event.preventDefault();
  const files = chosenFiles();
  if (!files.length) {
    say("error", text("appNoFilesChosen"));
    return;
  }
  const form = event.target;
  state.cancel = false;
  $("addCancel").hidden = false;
  await withBusy(form.querySelector("button[type=submit]"), "appSending", async () => {
    const secret = await passphrase();
    const fields = {facts: factsOf(form), together: $("addTogether").checked};
    if (state.caseId) fields.caseId = state.caseId;
    if (secret) fields.passphrase = secret;
    try {
      const reply = await EK.host.upload("add", files, fields,
        {onProgress: progress($("addProgress")), cancelled: () => state.cancel});
      if (reply.type === "aborted") {
        say("", text("appCancelled"));
        return;
      }
      form.reset();
      state.dropped = null;
      listChosen();
      say("ok", text("appAdded", [reply.items.join(", ")]));
    } catch (error) {
      await relock(error);
      throw error;
    }
  });
  $("addCancel").hidden = true;
  $("addProgress").hidden = true;
}

async function importExport(event) {
  event.preventDefault();
  const file = $("importFile").files[0];
  if (!file) return;
  $("dateOrderForm").hidden = true;
  $("conversationForm").hidden = true;
  await withBusy(event.target.querySelector("button[type=submit]"), "appImporting", async () => {
    const secret = await passphrase();
    const fields = {};
    if (state.caseId) fields.caseId = state.caseId;
    if (secret) fields.passphrase = secret;
    try {
      imported(await EK.host.upload("import", [file], fields, {onProgress: progress($("importProgress"))}));
    } catch (error) {
      await relock(error);
      throw error;
    }
  });
  $("importProgress").hidden = true;
}

function imported(reply) {
  if (reply.type === "question" && reply.ask === "conversations") {
    state.question = reply;
    askConversations(reply.candidates);
    return;
  }
  if (reply.type === "question") {
    state.question = reply;
    $("conversationForm").hidden = true;
    $("dateOrderQuestion").textContent = text("appDateOrderQuestion", [reply.example]);
    const choices = $("dateOrderChoices");
    choices.replaceChildren();
    for (const order of reply.candidates) {
      const label = element("label", "check");
      const input = element("input");
      input.type = "radio";
      input.name = "dateOrder";
      input.value = order;
      label.append(input, element("span", "", DATE_ORDERS[order] ? text(DATE_ORDERS[order]) : order));
      choices.append(label);
    }
    $("dateOrderForm").hidden = false;
    say("question", text("appImportQuestion"));
    return;
  }
  state.question = null;
  $("dateOrderForm").hidden = true;
  $("conversationForm").hidden = true;
  $("importForm").reset();
  const s = reply.summary || {};
  say("ok", text("appImported", [reply.item, String(reply.format), String(s.messages ?? "?"), day(s.from), day(s.to)]));
}

/** Which conversations of the export to show: all of them unless she narrows it (the whole export is
    stored either way). */
function askConversations(candidates) {
  $("dateOrderForm").hidden = true;
  const list = $("conversationChoices");
  list.replaceChildren();
  for (const c of candidates) {
    const entry = element("li");
    const box = element("label", "check");
    const input = element("input");
    input.type = "checkbox";
    input.value = c.name;
    input.checked = true;
    input.disabled = true;
    input.addEventListener("change", () => {
      $("conversationAll").checked = Array.from(list.querySelectorAll("input")).every((i) => i.checked);
    });
    box.append(input, element("span", "", text("appChatSummary", [c.name, String(c.messages), day(c.first), day(c.last)])));
    entry.append(box);
    list.append(entry);
  }
  $("conversationAll").checked = true;
  $("conversationForm").hidden = false;
  say("question", text("appImportQuestion"));
}

function allConversations() {
  const all = $("conversationAll").checked;
  for (const input of $("conversationChoices").querySelectorAll("input")) {
    input.disabled = all;
    if (all) input.checked = true;
  }
}

async function answerQuestion(event, answer) {
  event.preventDefault();
  if (!state.question) return;
  await withBusy(event.target.querySelector("button[type=submit]"), "appImporting", async () => {
    const secret = await passphrase();
    const fields = {...answer};
    if (state.caseId) fields.caseId = state.caseId;
    if (secret) fields.passphrase = secret;
    imported(await EK.host.answer(state.question.requestId, fields));
  });
}

function answerDateOrder(event) {
  const chosen = event.target.querySelector("input[name=dateOrder]:checked");
  if (chosen) answerQuestion(event, {dateOrder: chosen.value});
  else event.preventDefault();
}

function answerConversations(event) {
  const names = $("conversationAll").checked ? [] : checked("conversationChoices");
  if (!$("conversationAll").checked && !names.length) {
    event.preventDefault();
    say("error", text("appNoConversationChosen"));
    return;
  }
  answerQuestion(event, {conversations: names}); // none named: all of them
}

/** A page anyone may see, captured by evidencekit's own browser as ``evidencekit capture URL`` does;
    the host checks the address again (http or https only). */
async function captureAddress(event) {
  event.preventDefault();
  const form = event.target;
  const url = $("captureUrl").value.trim();
  if (!/^https?:\/\/\S+$/i.test(url) || url.length > 8192) {
    say("error", text("appCaptureBadUrl"));
    return;
  }
  $("captureProgress").hidden = false; // no value: it shows that work goes on
  await withBusy(form.querySelector("button[type=submit]"), "appCapturing", async () => {
    const reply = await call("capture", {url, facts: factsOf(form)}, "stored");
    form.reset();
    say("ok", text("appCaptured", [reply.item, reply.title || reply.url]));
  });
  $("captureProgress").hidden = true;
}

/* ---------------------------------------------------------------- report, hand-over, stamps, key */

async function makeReport(event) {
  event.preventDefault();
  const lang = event.target.querySelector("input[name=reportLang]:checked").value;
  await withBusy(event.target.querySelector("button[type=submit]"), "appReportBusy", async () => {
    const reply = await call("report", {lang}, "written");
    say("ok", text("appWritten", [reply.name, reply.folder]));
  });
}

/** A checkbox line. ``hidden`` words (a sensitive item's description) stay blurred until she clicks
    them, as in the items list; that click shows them and does not change the choice. */
function pick(list, value, label, detail, checked, hidden) {
  const entry = element("li");
  const box = element("label", "check");
  const input = element("input");
  input.type = "checkbox";
  input.value = value;
  input.checked = checked;
  input.addEventListener("change", sealLine);
  box.append(input, element("span", "", label));
  if (hidden) {
    const words = element("span", "blurred", hidden);
    words.addEventListener("click", (event) => {
      if (!words.classList.contains("blurred")) return;
      event.preventDefault();
      words.classList.remove("blurred");
    });
    box.append(words, element("span", "badge", text("appSensitive")));
  }
  if (detail) box.append(element("code", "detail", detail));
  entry.append(box);
  list.append(entry);
}

async function loadHandover() {
  const [book, items] = await Promise.all([call("recipients", {}, "recipients"), call("items", {}, "items")]);
  state.recipients = book.recipients;
  const recipients = $("recipientList");
  recipients.replaceChildren();
  for (const r of book.recipients) pick(recipients, r.name, r.name, r.fingerprint, false);
  if (!book.recipients.length) recipients.append(element("li", "hint", text("appNoRecipients")));
  const list = $("sealItems");
  list.replaceChildren();
  for (const item of items.items) {
    const words = summaryLine(item).slice(0, 80);
    if (item.sensitive) pick(list, item.id, `${item.id} · ${kindName(item.kind)} ·`, "", true, words);
    else pick(list, item.id, `${item.id} · ${kindName(item.kind)} · ${words}`, "", true);
  }
  sealLine();
}

const checked = (list) => Array.from($(list).querySelectorAll("input:checked"), (i) => i.value);

/** "Encrypted to: …" with the fingerprints to compare aloud, or the warning that anyone can read it. */
function sealLine() {
  const names = checked("recipientList");
  const line = $("sealTo");
  if (names.length) {
    const shown = names.map((n) => `${n} (${(state.recipients.find((r) => r.name === n) || {}).fingerprint || ""})`);
    line.className = "sealto ok";
    line.textContent = text("appEncryptedTo", [shown.join(", ")]);
  } else {
    line.className = "sealto warning";
    line.textContent = text("appUnencryptedWarning");
  }
  $("plainLine").hidden = names.length > 0;
}

async function addRecipient(event) {
  event.preventDefault();
  await withBusy(event.target.querySelector("button[type=submit]"), null, async () => {
    const reply = await call("recipient_add", {name: $("recipientName").value, key: $("recipientKey").value}, "recipient");
    event.target.reset();
    await loadHandover();
    say("ok", text("appRecipientAdded", [reply.name, reply.fingerprint]));
  });
}

async function seal() {
  const recipients = checked("recipientList");
  const items = checked("sealItems");
  if (!items.length) {
    say("error", text("appNoItemsChosen"));
    return;
  }
  if (!recipients.length && !$("sealPlain").checked) {
    say("error", text("appPlainNotConfirmed"));
    return;
  }
  await withBusy($("sealButton"), "appSealBusy", async () => {
    const reply = await call("seal", {items, recipients, plain: !recipients.length}, "written");
    say("ok", text(reply.encrypted ? "appSealedTo" : "appSealedPlain", [reply.name, reply.folder, reply.recipients.join(", ")]));
  });
}

async function loadStamps() {
  const reply = await call("stamps", {}, "stamps");
  $("stampCounts").textContent = text("appStampCounts", [String(reply.queued), String(reply.pending), String(reply.complete)]);
}

async function sendStamps() {
  await withBusy($("stampButton"), "appStampBusy", async () => {
    const reply = await call("stamp", {}, "stamped");
    await loadStamps();
    say(reply.failures ? "error" : "ok", text(reply.failures ? "appStampFailures" : "appStampSent",
      [String(reply.stamped), String(reply.failures)]));
  });
}

async function loadKey() {
  const reply = await call("key", {}, "key");
  $("publicKey").textContent = reply.publicKey;
  $("fingerprint").textContent = reply.fingerprint;
}

/* ---------------------------------------------------------------- start */

async function unlock(event) {
  event.preventDefault();
  await withBusy(event.target.querySelector("button[type=submit]"), "appUnlocking", async () => {
    const secret = $("passphrase").value;
    if (!secret) throw new Error(text("errorEmptyPassphrase"));
    await ask("unlock", {passphrase: secret, caseId: state.caseId}); // which keeps it for this session
    $("passphrase").value = "";
    await loadCaseChoice(); // the titles can be read now
    await showView(state.caseId ? "items" : "cases");
  });
}

async function lock() {
  await ask("lock"); // forgets it in the browser and in the host
  await showView("unlock");
  say("ok", text("appLocked"));
}

function wire() {
  for (const holder of document.querySelectorAll("[data-facts]")) {
    const fields = $("factsTemplate").content.cloneNode(true);
    if (holder.dataset.facts === "diary") { // the entry's own words are its description
      const description = fields.querySelector("[name=note]");
      description.previousElementSibling.remove();
      description.remove();
    }
    holder.append(fields);
  }
  translate(document);
  document.documentElement.lang = LANG;
  document.title = text("appTitle");
  for (const button of document.querySelectorAll("[data-view]")) {
    button.addEventListener("click", () => showView(button.dataset.view));
  }
  $("case").addEventListener("change", () => {
    state.caseId = $("case").value;
    showView(state.view === "unlock" ? "unlock" : state.view === "item" ? "items" : state.view);
  });
  $("unlockForm").addEventListener("submit", unlock);
  $("lock").addEventListener("click", lock);
  $("caseForm").addEventListener("submit", async (event) => {
    event.preventDefault();
    await withBusy(event.target.querySelector("button[type=submit]"), null, async () => {
      const reply = await call("case_create", {title: $("caseTitle").value, anonymous: $("caseAnonymous").checked}, "case");
      event.target.reset();
      state.caseId = reply.case.id;
      await loadCaseChoice();
      await showView("items");
      say("ok", text("appCaseCreated", [reply.case.title]));
    });
  });
  $("diaryForm").addEventListener("submit", saveDiary);
  $("addForm").addEventListener("submit", addFiles);
  $("addFiles").addEventListener("change", () => { state.dropped = null; listChosen(); });
  $("addCancel").addEventListener("click", () => { state.cancel = true; });
  const zone = $("dropZone");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    state.dropped = Array.from(event.dataTransfer.files);
    listChosen();
  });
  $("importForm").addEventListener("submit", importExport);
  $("dateOrderForm").addEventListener("submit", answerDateOrder);
  $("conversationForm").addEventListener("submit", answerConversations);
  $("conversationAll").addEventListener("change", allConversations);
  $("captureForm").addEventListener("submit", captureAddress);
  $("reportForm").addEventListener("submit", makeReport);
  const reportLang = document.querySelector(`input[name=reportLang][value=${LANG === "nb" ? "nb" : "en"}]`);
  reportLang.checked = true;
  $("recipientForm").addEventListener("submit", addRecipient);
  $("sealButton").addEventListener("click", seal);
  $("stampButton").addEventListener("click", sendStamps);
}

async function start() {
  wire();
  const asked = location.hash.slice(1);
  let reply;
  try {
    reply = await loadCaseChoice();
  } catch (error) {
    say("error", error.message);
    return;
  }
  if (reply.locked) {
    await showView("unlock");
    return;
  }
  if (!state.caseId) {
    await showView("cases");
    return;
  }
  await showView(asked in LOADERS && !["unlock", "item"].includes(asked) ? asked : "items");
}

document.addEventListener("DOMContentLoaded", start);
