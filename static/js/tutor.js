// Kube Tutor's small page behaviours: theme, tabs, the live stream's status and its polling
// fallback, the editor's diagnostics, the console's history, lesson buttons, following logs.
// Everything else is htmx: server-rendered parts swapped in from requests and server-sent events.
(() => {
  "use strict";
  const POLL_MS = 3000;
  const LOG_POLL_MS = 1000;
  const TIMELINE_KEPT = 400;
  const HISTORY_KEPT = 100;

  // ---- theme ---------------------------------------------------------------------------------
  function effectiveTheme() {
    const chosen = document.documentElement.dataset.theme;
    if (chosen) return chosen;
    return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  document.addEventListener("click", (event) => {
    const toggle = event.target.closest("[data-theme-toggle]");
    if (!toggle) return;
    const next = effectiveTheme() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    try { localStorage.setItem("theme", next); } catch (e) { /* private mode: this page only */ }
  });

  // ---- tabs (WAI-ARIA tabs: click, arrow keys, Home/End) ------------------------------------
  function selectTab(tab, focus) {
    const list = tab.closest("[role=tablist]");
    for (const other of list.querySelectorAll("[role=tab]")) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      const panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !selected;
    }
    if (focus) tab.focus();
    const panel = document.getElementById(tab.getAttribute("aria-controls"));
    if (panel && window.htmx) htmx.trigger(panel, "revealed");
    if (panel && window.KubeTutorEditor) KubeTutorEditor.mountAll(panel);
  }
  function showPanel(panelId) {
    const tab = document.querySelector(`[role=tab][aria-controls="${panelId}"]`);
    if (tab) selectTab(tab, false);
  }
  document.addEventListener("click", (event) => {
    const tab = event.target.closest("[role=tab]");
    if (tab) selectTab(tab, false);
  });
  document.addEventListener("keydown", (event) => {
    const tab = event.target.closest("[role=tab]");
    if (!tab) return;
    const tabs = [...tab.closest("[role=tablist]").querySelectorAll("[role=tab]")];
    const index = tabs.indexOf(tab);
    const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    selectTab(tabs[(moves[event.key] + tabs.length) % tabs.length], true);
  });

  // ---- the live stream and its fallback -----------------------------------------------------
  // htmx's SSE extension keeps the stream and swaps its events in. When the stream breaks, the
  // page says so and polls the same parts until the stream is back.
  const polls = new WeakMap();
  function setStatus(root, state, text) {
    const status = root.querySelector(".live-status");
    if (!status) return;
    status.dataset.state = state;
    status.textContent = text;
  }
  function words(key) {
    const lang = document.documentElement.lang || "en";
    const table = {
      live: { en: "Live", ko: "실시간" },
      polling: { en: "Live updates interrupted — refreshing every 3 s", ko: "실시간 연결이 끊겨 3초마다 새로 고치는 중" },
    };
    return (table[key][lang.slice(0, 2)] || table[key].en);
  }
  function poll(root) {
    if (!window.htmx) return;
    const cluster = root.querySelector("#cluster");
    if (cluster && root.dataset.clusterUrl) htmx.ajax("GET", root.dataset.clusterUrl, { target: cluster, swap: "innerHTML" });
    const timeline = root.querySelector("#timeline");
    if (timeline && root.dataset.timelineUrl) {
      htmx.ajax("GET", `${root.dataset.timelineUrl}?after=${timeline.dataset.last || 0}`, { target: timeline, swap: "beforeend", select: ".entry" });
    }
    if (root.dataset.checksUrl) htmx.ajax("GET", root.dataset.checksUrl, { swap: "none" });
  }
  // Only the page's own stream counts here (a console run's stream has its own life).
  document.addEventListener("htmx:sseOpen", (event) => {
    const root = event.target.matches && event.target.matches("[data-live]") ? event.target : null;
    if (!root) return;
    clearInterval(polls.get(root));
    polls.delete(root);
    setStatus(root, "live", words("live"));
  });
  document.addEventListener("htmx:sseError", (event) => {
    const root = event.target.matches && event.target.matches("[data-live]") ? event.target : null;
    if (!root || polls.has(root)) return;
    setStatus(root, "polling", words("polling"));
    polls.set(root, setInterval(() => poll(root), POLL_MS));
  });

  // New timeline entries: drop any already shown (a reconnected stream may resend), keep the
  // list bounded, and stay scrolled to the newest when the reader was there.
  function settleTimeline(timeline) {
    const seen = new Set();
    let last = Number(timeline.dataset.last || 0);
    for (const entry of [...timeline.querySelectorAll(".entry")]) {
      const rv = entry.dataset.rv;
      if (seen.has(rv)) { entry.remove(); continue; }
      seen.add(rv);
      last = Math.max(last, Number(rv));
    }
    const entries = timeline.querySelectorAll(".entry");
    for (let i = 0; i < entries.length - TIMELINE_KEPT; i++) entries[i].remove();
    timeline.dataset.last = String(last);
  }
  // A rate limit's 429 carries a message to show where the request's answer would have gone: in
  // place of it (the Apply result), or after what is there (the console's output, a lesson step).
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr.status !== 429) return;
    event.detail.shouldSwap = false;
    event.detail.isError = false;
    const target = event.detail.target;
    const holder = event.detail.requestConfig.elt.closest("[hx-swap]");
    const swap = (holder && holder.getAttribute("hx-swap")) || htmx.config.defaultSwapStyle;
    target.querySelectorAll(".rate-limited").forEach((old) => old.remove());
    if (swap === "innerHTML") target.innerHTML = event.detail.serverResponse;
    else target.insertAdjacentHTML("beforeend", event.detail.serverResponse);
  });
  document.addEventListener("htmx:beforeSwap", (event) => {
    const timeline = event.detail.target;
    if (timeline && timeline.id === "timeline") {
      timeline.dataset.stuck = String(timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 40);
    }
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const timeline = event.detail.target;
    if (timeline && timeline.id === "timeline") {
      settleTimeline(timeline);
      filterTimeline(timeline);
      if (timeline.dataset.stuck !== "false") timeline.scrollTop = timeline.scrollHeight;
    }
  });
  // Follow one object (or one component) through the timeline: only the entries that name it.
  function filterTimeline(timeline) {
    const input = timeline.closest(".timeline-panel").querySelector("[data-timeline-filter]");
    const wanted = (input ? input.value : "").trim().toLowerCase();
    for (const entry of timeline.querySelectorAll(".entry")) {
      entry.hidden = Boolean(wanted) && !entry.textContent.toLowerCase().includes(wanted);
    }
  }
  document.addEventListener("input", (event) => {
    if (!event.target.matches("[data-timeline-filter]")) return;
    filterTimeline(event.target.closest(".timeline-panel").querySelector(".timeline"));
  });

  // ---- a check's newest verdict stays ----------------------------------------------------------
  // A step's block comes back whole after an action on it (apply, predict, hint), its check judged
  // when that request was served. The live stream may have shown a later verdict meanwhile, and it
  // sends none again until the sandbox changes; so a verdict judged on an older version of the
  // sandbox (its data-version) never replaces a newer one, whichever arrives last.
  const newestChecks = new Map();
  function keepNewestChecks() {
    for (const check of document.querySelectorAll(".check[id]")) {
      const line = check.querySelector("[data-version]");
      if (!line) continue;
      const version = Number(line.dataset.version);
      const newest = newestChecks.get(check.id);
      if (newest && version < newest.version) check.innerHTML = newest.html;
      else newestChecks.set(check.id, { version, html: check.innerHTML });
    }
  }
  for (const name of ["htmx:afterSettle", "htmx:oobAfterSwap", "htmx:sseMessage"]) {
    document.addEventListener(name, keepNewestChecks);
  }
  keepNewestChecks();
  // A verdict the stream sent while an action's answer was replacing the step went to the block
  // being replaced, and the stream does not send it again until the sandbox changes: so after
  // an action (a POST) settles, the page asks for every check once (the newest still wins).
  document.addEventListener("htmx:afterSettle", (event) => {
    const config = event.detail && event.detail.requestConfig;
    const root = document.querySelector("[data-live][data-checks-url]");
    if (!root || !config || config.verb !== "post" || !window.htmx) return;
    htmx.ajax("GET", root.dataset.checksUrl, { swap: "none" });
  });

  // ---- object details --------------------------------------------------------------------------
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-close-detail]")) document.getElementById("detail").replaceChildren();
  });

  // ---- editor: open a lesson's manifest in it, show the server's diagnostics -----------------
  function editor() {
    const area = document.getElementById("manifest-editor");
    if (!area) return null;
    if (window.KubeTutorEditor) KubeTutorEditor.mountAll(area.parentElement);
    return area;
  }
  function setEditorText(text) {
    const area = editor();
    if (!area) return;
    if (area.kubeTutorEditor) area.kubeTutorEditor.setValue(text);
    else area.value = text;
  }
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-open-in-editor]");
    if (!button) return;
    const source = document.getElementById(button.dataset.openInEditor);
    showPanel("panel-editor");
    setEditorText(source.textContent);
    const area = editor();
    if (area && area.kubeTutorEditor) area.kubeTutorEditor.focus();
    else if (area) area.focus();
  });
  // htmx triggers the response's HX-Trigger event on the element that asked; it bubbles here.
  document.addEventListener("editor-diagnostics", onDiagnostics);
  function onDiagnostics(event) {
    const area = editor();
    const items = (event.detail && event.detail.items) || [];
    if (area && area.kubeTutorEditor) area.kubeTutorEditor.setDiagnostics(items);
  }

  // ---- console: history, stdin from the editor, lesson "Run" buttons --------------------------
  function historyKey(form) { return `console-history:${form.getAttribute("hx-post")}`; }
  function loadHistory(form) {
    try { return JSON.parse(localStorage.getItem(historyKey(form)) || "[]"); } catch (e) { return []; }
  }
  document.addEventListener("htmx:configRequest", (event) => {
    const form = event.detail.elt.closest && event.detail.elt.closest("[data-console]");
    if (!form) return;
    const area = document.getElementById("manifest-editor");
    event.detail.parameters.stdin = area ? area.value : "";
    const line = String(event.detail.parameters.command || "").trim();
    if (!line) return;
    const history = loadHistory(form).filter((item) => item !== line);
    history.push(line);
    try { localStorage.setItem(historyKey(form), JSON.stringify(history.slice(-HISTORY_KEPT))); } catch (e) { /* fine */ }
    form.dataset.cursor = "";
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt.closest && event.detail.elt.closest("[data-console]");
    if (!form) return;
    form.querySelector("input[name=command]").value = "";
    const output = document.getElementById("console-output");
    if (output) output.scrollTop = output.scrollHeight;
  });
  document.addEventListener("keydown", (event) => {
    const input = event.target.closest("[data-console] input[name=command]");
    if (!input || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    const form = input.closest("[data-console]");
    const history = loadHistory(form);
    if (!history.length) return;
    event.preventDefault();
    let cursor = form.dataset.cursor === "" || form.dataset.cursor === undefined ? history.length : Number(form.dataset.cursor);
    cursor = Math.max(0, Math.min(history.length, cursor + (event.key === "ArrowUp" ? -1 : 1)));
    form.dataset.cursor = String(cursor);
    input.value = history[cursor] || "";
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-run-command]");
    if (!button) return;
    const form = document.querySelector("[data-console]");
    if (!form) return;
    showPanel("panel-console");
    form.querySelector("input[name=command]").value = button.dataset.runCommand;
    form.requestSubmit();
  });
  // Stop a run that follows (get -w, logs -f): closing its stream stops kubectl on the server.
  document.addEventListener("click", (event) => {
    const stop = event.target.closest("[data-stop-run]");
    if (!stop || !window.htmx) return;
    const run = stop.closest("[data-run]");
    htmx.trigger(run, "htmx:beforeCleanupElement");
    run.removeAttribute("sse-connect");
    stop.replaceWith(Object.assign(document.createElement("p"), { className: "end", textContent: "■" }));
  });
  // A console run's stream ends with an `end` event: scroll to it.
  document.addEventListener("htmx:sseMessage", (event) => {
    const output = event.target.closest && event.target.closest("#console-output");
    if (output) output.scrollTop = output.scrollHeight;
  });

  // ---- logs that follow -----------------------------------------------------------------------
  async function followLogs() {
    for (const log of document.querySelectorAll("pre.log[data-logs-url]")) {
      if (log.dataset.busy) continue;
      log.dataset.busy = "1";
      try {
        const url = `${log.dataset.logsUrl}&after=${log.dataset.after || 0}`;
        const response = await fetch(url, { headers: { "HX-Request": "true" } });
        const after = response.headers.get("X-Log-After");
        const text = await response.text();
        if (response.ok && after) {
          if (text) {
            const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 20;
            log.append(text);
            if (atBottom) log.scrollTop = log.scrollHeight;
          }
          log.dataset.after = after;
        }
      } catch (e) {
        // the next round tries again
      } finally {
        delete log.dataset.busy;
      }
    }
  }
  setInterval(followLogs, LOG_POLL_MS);
})();
