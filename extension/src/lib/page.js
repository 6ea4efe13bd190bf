/* What the popup and the case page share: looking up elements and words, translating the page, and
   asking the service worker (whose host process stays running between pages). */
"use strict";

const $ = (id) => document.getElementById(id);
const text = (key, subs) => chrome.i18n.getMessage(key, subs) || key;

function translate(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = text(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = text(node.dataset.i18nPlaceholder);
}

async function ask(cmd, extra) {
  const reply = await chrome.runtime.sendMessage({cmd, ...extra});
  if (!reply) throw new Error(text("errorNoAnswer"));
  if (!reply.ok) {
    const error = new Error(reply.error);
    error.code = reply.code;
    throw error;
  }
  return reply.result;
}
