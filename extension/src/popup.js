/* The popup: choose the case, say what happened, capture. Talks only to the service worker. */
"use strict";

let fullPageAllowed = false;

function localNow() {
  const now = new Date();
  now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
  return now.toISOString().slice(0, 16);
}

function show(kind, message) {
  const node = $("result");
  node.className = `result ${kind}`;
  node.textContent = message;
}

function showOutcome(last) {
  if (!last) return;
  if (last.ok) show("ok", text("resultStored", [last.item, last.sha256.slice(0, 16)]));
  else show("error", last.error);
}

function setBusy(busy) {
  for (const button of document.querySelectorAll("button[data-mode]")) button.disabled = busy;
}

/** Locked: the passphrase field and no case choice (the titles are encrypted); open: the Lock link. */
function showLocked(locked) {
  $("unlock").hidden = !locked;
  $("casePick").hidden = locked;
  $("lock").hidden = locked;
}

async function loadCases() {
  const select = $("case");
  select.replaceChildren();
  try {
    const {locker, locked, cases} = await ask("cases");
    if (locker !== "encrypted") { // no locker yet, or one of an earlier version
      $("status").textContent = text(locker === "plain" ? "statusNeedsUpgrade" : "statusNoIdentity");
      $("casePick").hidden = true;
      setBusy(true);
      return;
    }
    showLocked(locked);
    if (locked) { // a capture still works: it unlocks with the typed passphrase first
      $("status").textContent = text("statusLocked");
      return;
    }
    if (!cases.length) {
      $("status").textContent = text("statusNoCases");
      setBusy(true);
      return;
    }
    for (const c of cases) {
      const option = new Option(`${c.title} (${text("itemCount", [String(c.items)])})`, c.id, c.current, c.current);
      select.append(option);
    }
    $("status").textContent = "";
  } catch (error) {
    $("status").textContent = error.message;
    setBusy(true);
  }
}

async function loadStatus() {
  const status = await ask("status");
  fullPageAllowed = status.fullPage;
  $("fullExplain").hidden = status.fullPage;
  if (status.shortcut) {
    $("shortcut").textContent = status.shortcut;
    $("shortcutLine").hidden = false;
  }
  showOutcome(status.last && Date.now() - Date.parse(status.last.at) < 60_000 ? status.last : null);
}

async function capture(mode) {
  if (mode === "full" && !fullPageAllowed) {
    // Must run straight from the click: Chrome asks the worker, and grants only for a real click.
    const granted = await chrome.permissions.request({permissions: ["debugger"]});
    if (!granted) {
      show("error", text("fullPermissionRefused"));
      return;
    }
    fullPageAllowed = true;
    $("fullExplain").hidden = true;
  }
  setBusy(true);
  show("", text("statusCapturing"));
  try {
    const caseId = $("case").value;
    const passphrase = $("passphrase").value;
    if (!$("unlock").hidden) {
      if (!passphrase) throw new Error(text("errorEmptyPassphrase"));
      await ask("unlock", {passphrase, caseId});
      $("passphrase").value = "";
      showLocked(false);
    }
    const [tab] = await chrome.tabs.query({active: true, currentWindow: true});
    const options = {mode, caseId, tabId: tab ? tab.id : undefined};
    for (const name of ["incidentDate", "who", "channel", "note"]) {
      const value = $(name).value.trim();
      if (value) options[name] = value;
    }
    const outcome = await ask("capture", {options});
    show("ok", text("resultStored", [outcome.item, outcome.files[0].sha256.slice(0, 16)]));
    loadCases();
  } catch (error) {
    if (error.code === "keys.wrong_passphrase" || error.code === "extension.locked") showLocked(true);
    show("error", error.message);
  } finally {
    setBusy(false);
  }
}

async function unlock() {
  const passphrase = $("passphrase").value;
  if (!passphrase) {
    show("error", text("errorEmptyPassphrase"));
    return;
  }
  $("unlockButton").disabled = true;
  try {
    await ask("unlock", {passphrase});
    $("passphrase").value = "";
    show("", "");
    await loadCases();
  } catch (error) {
    show("error", error.message);
  } finally {
    $("unlockButton").disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.documentElement.lang = chrome.i18n.getUILanguage();
  translate();
  $("incidentDate").value = localNow();
  for (const button of document.querySelectorAll("button[data-mode]")) {
    button.addEventListener("click", () => capture(button.dataset.mode));
  }
  $("openCase").addEventListener("click", () => {
    chrome.tabs.create({url: chrome.runtime.getURL("case.html")});
    window.close();
  });
  $("unlockButton").addEventListener("click", unlock);
  $("passphrase").addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      unlock();
    }
  });
  $("lock").addEventListener("click", async () => {
    await ask("lock");
    await loadCases();
  });
  loadStatus().catch((error) => { $("status").textContent = error.message; });
  loadCases();
});
