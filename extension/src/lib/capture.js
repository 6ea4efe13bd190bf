/* Capturing the tab in front of the worker: what they see, the whole page, or the selected text.

   Every capture holds the visible part as PNG (captureVisibleTab, at most two calls a second),
   the page as MHTML (pageCapture, read once more when the first read fails as it can right after
   the browser starts, else the debugger's Page.captureSnapshot), the page's HTML and visible
   text. "full" adds the whole page as one PNG through the debugger: the viewport is set to the
   page's height (Emulation.setDeviceMetricsOverride), painted, and restored; capturing beyond
   the viewport alone repeats the first screen in some browsers. */
"use strict";

self.EK = self.EK || {};

EK.capture = (() => {
  const MODES = ["visible", "full", "selection"];
  const MAX_DEVICE_PIXELS = 16384; // the tallest picture one paint gives reliably (GPU texture limit)
  const VISIBLE_TAB_PER_SECOND = 2;
  const recentVisibleCalls = [];
  const BAR_LINGERS_MS = 3000; // the debugging bar stays about 4 s after the last detach (measured)
  const BAR_WAIT_MS = 600;
  let lastDetach = null;
  const TWO_FRAMES = `new Promise((done) => { let over = false; const end = () => { if (!over) { over = true; done(true); } };
    requestAnimationFrame(() => requestAnimationFrame(end)); setTimeout(end, 500); })`;

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const message = (key, subs) => chrome.i18n.getMessage(key, subs);
  const failure = (key, subs) => EK.host.failure(message(key, subs), key);

  /** captureVisibleTab within Chrome's quota of two calls per second. */
  async function visibleTab(windowId) {
    const now = performance.now();
    while (recentVisibleCalls.length && now - recentVisibleCalls[0] > 1000) recentVisibleCalls.shift();
    if (recentVisibleCalls.length >= VISIBLE_TAB_PER_SECOND) {
      await sleep(1000 - (now - recentVisibleCalls[0]) + 25);
      recentVisibleCalls.shift();
    }
    recentVisibleCalls.push(performance.now());
    try {
      return await chrome.tabs.captureVisibleTab(windowId, {format: "png"});
    } catch (error) {
      if (!/MAX_CAPTURE_VISIBLE_TAB_CALLS_PER_SECOND/.test(String(error))) throw error;
      await sleep(600);
      recentVisibleCalls.push(performance.now());
      return chrome.tabs.captureVisibleTab(windowId, {format: "png"});
    }
  }

  /** What the page itself can tell: address, title, sizes, scroll, text, HTML, selection. */
  function readPage() {
    const root = document.documentElement;
    let html = "";
    if (document.doctype) html = new XMLSerializer().serializeToString(document.doctype);
    if (root) html += root.outerHTML;
    const brands = navigator.userAgentData ? navigator.userAgentData.brands : [];
    return {
      url: location.href,
      title: document.title,
      text: document.body ? document.body.innerText : "",
      html,
      selection: String(getSelection ? getSelection() : ""),
      userAgent: navigator.userAgent,
      language: navigator.language,
      brands: brands.map((b) => ({brand: b.brand, version: b.version})),
      viewport: {width: innerWidth, height: innerHeight, devicePixelRatio,
        scrollX: Math.max(0, Math.round(scrollX)), scrollY: Math.max(0, Math.round(scrollY))},
      document: {width: Math.max(root ? root.scrollWidth : 0, innerWidth),
        height: Math.max(root ? root.scrollHeight : 0, document.body ? document.body.scrollHeight : 0)},
    };
  }

  async function inspect(tabId) {
    try {
      const [first] = await chrome.scripting.executeScript({target: {tabId}, func: readPage});
      return first.result;
    } catch (error) {
      throw failure("errorProtectedPage", [String(error && error.message)]);
    }
  }

  function browserName(brands) {
    const known = brands.find((b) => !/not.?a.?brand/i.test(b.brand) && b.brand !== "Chromium")
      || brands.find((b) => b.brand === "Chromium");
    return known ? {name: known.brand, version: known.version} : {name: "", version: ""};
  }

  async function debuggerAllowed() {
    if (!chrome.permissions) return false;
    const manifest = chrome.runtime.getManifest();
    const offered = [...(manifest.permissions || []), ...(manifest.optional_permissions || [])];
    if (!offered.includes("debugger")) return false;
    return (await chrome.permissions.contains({permissions: ["debugger"]})) && Boolean(chrome.debugger);
  }

  /** Run ``work(send)`` with the debugger attached to the tab, always detaching afterwards. */
  async function withDebugger(tabId, work) {
    const target = {tabId};
    try {
      await chrome.debugger.attach(target, "1.3");
    } catch (error) {
      throw failure("errorDebuggerAttach", [String(error && error.message)]);
    }
    const send = (method, params) => chrome.debugger.sendCommand(target, method, params || {});
    try {
      return await work(send);
    } finally {
      try { await chrome.debugger.detach(target); } catch (_) { /* the tab closed */ }
      lastDetach = performance.now();
    }
  }

  /** Wait for the browser's "started debugging this browser" bar, which shrinks the page a moment
      after the first attach (and stays a few seconds after detaching). A paint made while the
      page is resized under it repeats the first screen, so the page must settle first. */
  async function waitForDebuggingBar(send, heightBefore) {
    if (lastDetach !== null && performance.now() - lastDetach < BAR_LINGERS_MS) return;
    const until = performance.now() + BAR_WAIT_MS;
    while (performance.now() < until) {
      const metrics = await send("Page.getLayoutMetrics");
      if (Math.round(metrics.cssVisualViewport.clientHeight) !== heightBefore) return;
      await send("Runtime.evaluate", {expression: TWO_FRAMES, awaitPromise: true});
    }
  }

  /** The whole page as one PNG: viewport as tall as the page, two frames painted, restored. */
  async function fullPage(send, info) {
    await waitForDebuggingBar(send, info.viewport.height);
    const metrics = await send("Page.getLayoutMetrics");
    const width = Math.round(metrics.cssLayoutViewport.clientWidth);
    const ratio = info.viewport.devicePixelRatio || 1;
    const limit = Math.floor(MAX_DEVICE_PIXELS / ratio);
    let height = Math.ceil(metrics.cssContentSize.height);
    const override = (h) => send("Emulation.setDeviceMetricsOverride",
      {width, height: Math.min(h, limit), deviceScaleFactor: 0, mobile: false});
    try {
      await override(height);
      await send("Runtime.evaluate", {expression: TWO_FRAMES, awaitPromise: true});
      const settled = Math.ceil((await send("Page.getLayoutMetrics")).cssContentSize.height);
      if (settled !== height) { // the page reflowed at its new size (e.g. 100vh sections)
        height = settled;
        await override(height);
        await send("Runtime.evaluate", {expression: TWO_FRAMES, awaitPromise: true});
      }
      const shot = await send("Page.captureScreenshot", {format: "png", fromSurface: true});
      const file = await EK.encoding.fileFromBase64("page-full.png", shot.data);
      const size = EK.encoding.pngSize(file.bytes);
      return {file, facts: {width: size.width, height: size.height, capturedHeight: Math.min(height, limit),
        truncated: height > limit, method: "debugger-device-metrics-override"}};
    } finally {
      await send("Emulation.clearDeviceMetricsOverride");
      await send("Runtime.evaluate", {expression: `scrollTo(${info.viewport.scrollX}, ${info.viewport.scrollY})`});
    }
  }

  async function snapshotMhtml(send) {
    const result = await send("Page.captureSnapshot", {format: "mhtml"});
    return EK.encoding.fileFromText("page.mhtml", result.data);
  }

  /** MHTML through pageCapture: read the Blob, and read a fresh one once if that fails. */
  async function pageCaptureMhtml(tabId) {
    let lastError = null;
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      try {
        const blob = await chrome.pageCapture.saveAsMHTML({tabId});
        const bytes = new Uint8Array(await blob.arrayBuffer());
        return {file: await EK.encoding.fileFromBytes("page.mhtml", bytes), attempts: attempt};
      } catch (error) {
        lastError = error;
        await sleep(50 * attempt);
      }
    }
    return {file: null, attempts: 3, error: lastError};
  }

  /** Capture ``tabId`` in ``mode``; resolves to {files, page} ready for the host. */
  async function captureTab(tabId, mode) {
    if (!MODES.includes(mode)) throw failure("errorBadMode", [String(mode)]);
    const canDebug = await debuggerAllowed();
    if (mode === "full" && !canDebug) {
      const manifest = chrome.runtime.getManifest();
      const offered = [...(manifest.permissions || []), ...(manifest.optional_permissions || [])];
      throw failure(offered.includes("debugger") ? "errorFullNeedsPermission" : "errorFullUnsupported");
    }
    const tab = await chrome.tabs.get(tabId);
    if (!tab.active) throw failure("errorTabNotInFront");
    const startedAt = new Date().toISOString();
    const info = await inspect(tabId);
    if (mode === "selection" && !info.selection.trim()) throw failure("errorNoSelection");
    const notes = [];
    const files = [];
    let viewportShot;
    try {
      viewportShot = await visibleTab(tab.windowId);
    } catch (error) {
      throw failure("errorVisibleTab", [String(error && error.message)]);
    }
    files.push(await EK.encoding.fileFromBase64("page-viewport.png", viewportShot.slice(viewportShot.indexOf(",") + 1)));
    let mhtml = {file: null, attempts: 0};
    if (chrome.pageCapture) mhtml = await pageCaptureMhtml(tabId);
    let mhtmlMethod = mhtml.file ? "pageCapture" : null;
    let full = null;
    if (mode === "full" || (!mhtml.file && canDebug)) {
      await withDebugger(tabId, async (send) => {
        if (mode === "full") full = await fullPage(send, info);
        if (!mhtml.file) {
          mhtml = {file: await snapshotMhtml(send), attempts: mhtml.attempts};
          mhtmlMethod = "debugger-page-capture-snapshot";
        }
      });
    }
    if (!mhtml.file) notes.push("No MHTML archive: this browser offers no way for extensions to save one.");
    if (full) files.unshift(full.file);
    if (mhtml.file) files.push(mhtml.file);
    files.push(await EK.encoding.fileFromText("page-dom.html", info.html));
    files.push(await EK.encoding.fileFromText("page-text.txt", info.text));
    if (mode === "selection") files.push(await EK.encoding.fileFromText("page-selection.txt", info.selection));
    const manifest = chrome.runtime.getManifest();
    const page = {
      url: info.url,
      title: info.title,
      mode,
      startedAt,
      finishedAt: new Date().toISOString(),
      userAgent: info.userAgent,
      language: info.language,
      browser: browserName(info.brands),
      extension: {id: chrome.runtime.id, version: manifest.version},
      viewport: info.viewport,
      document: info.document,
      fullPage: full ? full.facts : null,
      mhtml: mhtmlMethod ? {method: mhtmlMethod, attempts: mhtml.attempts} : null,
      selection: mode === "selection" ? {characters: info.selection.length} : null,
      notes,
    };
    return {files, page};
  }

  return {captureTab, debuggerAllowed, MODES};
})();
