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

async function loadCases() {
  const select = $("case");
  select.replaceChildren();
  try {
    const {ready, cases} = await ask("cases");
    if (!ready) {
      $("status").textContent = text("statusNoIdentity");
      setBusy(true);
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
  $("unlock").hidden = status.unlocked;
  $("lock").hidden = !status.unlocked;
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
      $("unlock").hidden = true;
      $("lock").hidden = false;
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
    if (error.code === "keys.wrong_passphrase" || error.code === "extension.locked") {
      $("unlock").hidden = false;
      $("lock").hidden = true;
    }
    show("error", error.message);
  } finally {
    setBusy(false);
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
  $("lock").addEventListener("click", async () => {
    await ask("lock");
    $("unlock").hidden = false;
    $("lock").hidden = true;
  });
  loadStatus().catch((error) => { $("status").textContent = error.message; });
  loadCases();
});
