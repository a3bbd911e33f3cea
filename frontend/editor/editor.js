// Kube Tutor's YAML editor: CodeMirror 6 laid over a <textarea data-editor="yaml">.
//
// The textarea stays the form field: every edit is copied back into it and announced with an
// `input` event, so plain forms and htmx (`hx-post`, `hx-trigger="input"`) keep working, and a
// page without JavaScript still has a usable textarea. scripts/build-editor bundles this file
// into static/vendor/editor/editor.js (one IIFE, no network at run time).

import { Compartment, EditorState } from "@codemirror/state";
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { HighlightStyle, bracketMatching, indentOnInput, indentUnit, syntaxHighlighting } from "@codemirror/language";
import { yaml } from "@codemirror/lang-yaml";
import { forEachDiagnostic, lintGutter, lintKeymap, setDiagnostics, setDiagnosticsEffect } from "@codemirror/lint";
import { tags as t } from "@lezer/highlight";
import { parseAllDocuments } from "yaml";
// Not bundled: @codemirror/search (20 KB minified for a panel a manifest of a screen or two does
// not need; F8 / Mod-Shift-M walk the diagnostics instead) and autocompletion.

// Diagnostics carry their origin in `source`, so the two kinds can be told apart in the lint
// state: the server's describe the text they were computed for and go at the next edit; the
// syntax check's are recomputed from the text itself.
const SERVER = "API server";
const SYNTAX = "YAML syntax";
const SYNTAX_DELAY_MS = 300;
const SEVERITIES = new Set(["error", "warning", "info", "hint"]);

// ---- Themes -------------------------------------------------------------------------------------

// Colours follow static/css/tutor.css (ink #1d2433, accent #326ce5) in light; dark is its inverse.
const PALETTES = {
  light: {
    bg: "#ffffff", fg: "#1d2433", gutterBg: "#f6f8fb", gutterFg: "#5b6475", border: "#d0d7e2",
    activeLine: "#eef3fd", selection: "#cfe0ff", cursor: "#1d2433", bracket: "#326ce5",
    key: "#1f4fa8", string: "#1a7f37", comment: "#6b7280", meta: "#8250df", punct: "#5b6475",
    tooltipBg: "#ffffff",
  },
  dark: {
    bg: "#161b26", fg: "#e3e8f2", gutterBg: "#1d2433", gutterFg: "#9aa4b8", border: "#3a4254",
    activeLine: "#222a3a", selection: "#2f4a7a", cursor: "#e3e8f2", bracket: "#7aa2f7",
    key: "#8cb4ff", string: "#8fd19e", comment: "#9aa4b8", meta: "#d2a8ff", punct: "#9aa4b8",
    tooltipBg: "#1d2433",
  },
};

function themeFor(scheme) {
  const p = PALETTES[scheme];
  const theme = EditorView.theme(
    {
      "&": { color: p.fg, backgroundColor: p.bg, border: `1px solid ${p.border}`, borderRadius: ".25rem" },
      "&.cm-focused": { outline: `2px solid ${p.bracket}`, outlineOffset: "1px" },
      ".cm-content": { caretColor: p.cursor },
      ".cm-cursor, .cm-dropCursor": { borderLeftColor: p.cursor },
      "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground":
        { backgroundColor: p.selection },
      ".cm-gutters": { backgroundColor: p.gutterBg, color: p.gutterFg, borderRight: `1px solid ${p.border}` },
      ".cm-activeLine": { backgroundColor: p.activeLine },
      ".cm-activeLineGutter": { backgroundColor: p.activeLine, color: p.fg },
      "&.cm-focused .cm-matchingBracket": { outline: `1px solid ${p.bracket}`, backgroundColor: "transparent" },
      ".cm-tooltip": { backgroundColor: p.tooltipBg, color: p.fg, border: `1px solid ${p.border}` },
      ".cm-panels": { backgroundColor: p.gutterBg, color: p.fg },
      ".cm-textfield": { backgroundColor: p.bg, color: p.fg, border: `1px solid ${p.border}` },
    },
    { dark: scheme === "dark" },
  );
  const highlight = HighlightStyle.define([
    { tag: t.definition(t.propertyName), color: p.key },
    { tag: [t.string, t.special(t.string)], color: p.string },
    { tag: t.lineComment, color: p.comment, fontStyle: "italic" },
    { tag: [t.meta, t.keyword, t.labelName, t.typeName, t.attributeValue], color: p.meta },
    { tag: [t.separator, t.punctuation, t.squareBracket, t.brace], color: p.punct },
  ]);
  return [theme, syntaxHighlighting(highlight)];
}

// What is shared by both schemes: layout, not colour.
const layout = EditorView.theme({
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", lineHeight: "1.5" },
  ".cm-content": { padding: ".25rem 0" },
});

// An explicit <html data-theme="light|dark"> wins (the page's own switch); otherwise the system's.
function currentScheme() {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === "light" || chosen === "dark") return chosen;
  return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

const editors = new Set();
let themeWatched = false;

function watchTheme() {
  if (themeWatched) return;
  themeWatched = true;
  const apply = () => {
    const scheme = currentScheme();
    for (const editor of editors) editor._setScheme(scheme);
  };
  new MutationObserver(apply).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  if (window.matchMedia) window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", apply);
}

// ---- Diagnostics --------------------------------------------------------------------------------

// The lint state's diagnostics of one source, at their current (edit-mapped) positions.
function diagnosticsFrom(state, source) {
  const found = [];
  forEachDiagnostic(state, (d, from, to) => {
    if (d.source === source) found.push({ ...d, from, to });
  });
  return found;
}

// The YAML parser's errors and warnings. `yaml` reports offsets into the text, which are the
// editor's offsets too (both count UTF-16 units and CodeMirror keeps "\n" line breaks).
function syntaxDiagnostics(doc) {
  const text = doc.toString();
  let docs;
  try {
    docs = parseAllDocuments(text, { prettyErrors: true });
  } catch (err) {
    // The parser reports problems as values; a throw is a bug there, not the learner's text.
    return [];
  }
  if (!Array.isArray(docs)) docs = [docs]; // an empty stream comes back as one object
  const found = [];
  for (const parsed of docs) {
    for (const [problems, severity] of [[parsed.errors, "error"], [parsed.warnings, "warning"]]) {
      for (const problem of problems) {
        const from = Math.min(problem.pos?.[0] ?? 0, doc.length);
        // Underline to the end of the line at least: a one-character mark is easy to miss.
        const to = Math.min(Math.max(problem.pos?.[1] ?? from, doc.lineAt(from).to), doc.length);
        // prettyErrors appends a snippet of the text after the first line; the editor shows the text.
        const message = String(problem.message).split("\n")[0].replace(/:$/, "");
        found.push({ from, to, severity, message, source: SYNTAX });
      }
    }
  }
  return found;
}

// The page's {line, column?, message, severity?} list, as positions in the current document.
function serverDiagnostics(doc, list) {
  return (list || []).map((item) => {
    const number = Math.min(Math.max(1, Math.floor(Number(item.line)) || 1), doc.lines);
    const line = doc.line(number);
    const column = Math.floor(Number(item.column));
    const from = column >= 1 ? line.from + Math.min(column - 1, line.length) : line.from;
    return {
      from,
      to: line.to,
      severity: SEVERITIES.has(item.severity) ? item.severity : "error",
      message: String(item.message ?? ""),
      source: SERVER,
    };
  });
}

// A document edit drops the server's diagnostics in the same transaction (no flicker, no second
// dispatch): they describe text that is gone. The syntax ones are kept, mapped through the edit,
// until the next check replaces them.
const dropServerDiagnosticsOnEdit = EditorState.transactionExtender.of((tr) => {
  if (!tr.docChanged || !diagnosticsFrom(tr.startState, SERVER).length) return null;
  const kept = diagnosticsFrom(tr.startState, SYNTAX).map((d) => ({
    ...d,
    from: tr.changes.mapPos(d.from, 1),
    to: Math.max(tr.changes.mapPos(d.from, 1), tr.changes.mapPos(d.to, -1)),
  }));
  return { effects: setDiagnosticsEffect.of(kept) };
});

function sameDiagnostics(a, b) {
  return a.length === b.length && a.every((d, i) => d.from === b[i].from && d.to === b[i].to && d.message === b[i].message);
}

// ---- The editor ---------------------------------------------------------------------------------

let described = 0;

function labelText(textarea) {
  const own = textarea.getAttribute("aria-label");
  if (own && own.trim()) return own.trim();
  const labels = Array.from(textarea.labels || [], (label) => {
    // A label wrapping its textarea would otherwise lend the whole manifest to the name.
    const copy = label.cloneNode(true);
    for (const inner of copy.querySelectorAll("textarea, .kube-tutor-editor")) inner.remove();
    return copy.textContent.replace(/\s+/g, " ").trim();
  }).filter(Boolean);
  if (labels.length) return labels.join(" ");
  const ids = (textarea.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
  const byId = ids.map((id) => document.getElementById(id)?.textContent.trim()).filter(Boolean);
  return byId.length ? byId.join(" ") : "YAML manifest";
}

const VISUALLY_HIDDEN =
  "position:absolute;width:1px;height:1px;margin:-1px;padding:0;border:0;overflow:hidden;" +
  "clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap";

const KEYS_HINT = "Tab indents; press Escape, then Tab, to leave the editor.";

class Editor {
  constructor(textarea, options) {
    this.textarea = textarea;
    this.options = options || {};
    this._timer = null;
    this._scheme = currentScheme();
    this._theme = new Compartment();
    this._valueAtFocus = textarea.value;
    this._seen = textarea.isConnected;

    // Screen readers hear the key hint and the current diagnostics when the editor gets focus.
    this._description = document.createElement("div");
    this._description.id = `kube-tutor-editor-${++described}-description`;
    this._description.style.cssText = VISUALLY_HIDDEN;

    const state = EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        EditorState.tabSize.of(2),
        indentUnit.of("  "), // YAML forbids tabs in indentation: Tab inserts two spaces
        // Tab indents (YAML is all indentation), so Tab alone does not leave the editor. CodeMirror's
        // escape hatch: Escape, then Tab (within 2 s) moves focus on; Ctrl-M (Shift-Alt-M on macOS)
        // toggles Tab between indenting and moving focus. The hint is in the accessible description.
        keymap.of([...defaultKeymap, ...historyKeymap, ...lintKeymap, indentWithTab]),
        yaml(),
        lintGutter(),
        dropServerDiagnosticsOnEdit,
        layout,
        this._theme.of(themeFor(this._scheme)),
        EditorView.contentAttributes.of({
          "aria-label": labelText(textarea),
          "aria-describedby": this._description.id,
        }),
        EditorView.updateListener.of((update) => this._updated(update)),
        EditorView.domEventHandlers({
          focus: () => {
            this._valueAtFocus = this.getValue();
          },
          // A textarea fires `change` when it loses focus with new text; htmx triggers listen for it.
          blur: () => {
            if (this.getValue() !== this._valueAtFocus) {
              this._valueAtFocus = this.getValue();
              textarea.dispatchEvent(new Event("change", { bubbles: true }));
            }
          },
        }),
      ],
    });

    this.dom = document.createElement("div");
    this.dom.className = "kube-tutor-editor";
    this.view = new EditorView({ state, parent: this.dom });
    this.dom.appendChild(this._description);
    // Keep the textarea's visible height: its rows (default 12) as the editor's minimum lines.
    const rows = Number(textarea.getAttribute("rows")) || 12;
    this.view.dom.style.minHeight = `calc(${rows} * 1.5em + .5rem)`;
    this.view.scrollDOM.style.minHeight = "inherit";

    // display:none (inline, so page CSS cannot undo it) takes the textarea out of the tab order and
    // the accessibility tree; the form still submits its value.
    textarea.style.display = "none";
    textarea.after(this.dom);
    // A <label for> can no longer focus a hidden textarea: let it focus the editor instead.
    this._labels = Array.from(textarea.labels || []);
    this._focusFromLabel = () => this.focus();
    for (const label of this._labels) label.addEventListener("click", this._focusFromLabel);

    this._describe();
    this._checkSyntax();
  }

  getValue() {
    return this.view.state.doc.toString();
  }

  // One change over the whole document: undo brings the old text back.
  setValue(text) {
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: String(text ?? "") } });
  }

  focus() {
    this.view.focus();
  }

  // Replaces the server's diagnostics (the syntax check's stay); [] clears them.
  setDiagnostics(list) {
    const state = this.view.state;
    this.view.dispatch(setDiagnostics(state, [...diagnosticsFrom(state, SYNTAX), ...serverDiagnostics(state.doc, list)]));
  }

  // Puts the textarea back, e.g. before a page removes the editor for good.
  destroy() {
    clearTimeout(this._timer);
    editors.delete(this);
    for (const label of this._labels) label.removeEventListener("click", this._focusFromLabel);
    this.view.destroy();
    this.dom.remove();
    this.textarea.style.display = "";
    delete this.textarea.kubeTutorEditor;
  }

  _updated(update) {
    if (update.docChanged) {
      const text = this.getValue();
      this.textarea.value = text;
      this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
      if (this.options.onChange) this.options.onChange(text);
      clearTimeout(this._timer);
      this._timer = setTimeout(() => this._checkSyntax(), SYNTAX_DELAY_MS);
    }
    if (update.transactions.some((tr) => tr.effects.some((e) => e.is(setDiagnosticsEffect)))) this._describe();
  }

  _checkSyntax() {
    const state = this.view.state;
    const found = syntaxDiagnostics(state.doc);
    // Skip a no-op dispatch: a diagnostics update would also close an open lint tooltip.
    if (sameDiagnostics(found, diagnosticsFrom(state, SYNTAX))) return;
    this.view.dispatch(setDiagnostics(state, [...found, ...diagnosticsFrom(state, SERVER)]));
  }

  // The accessible description lists the diagnostics by line, and the textarea tells the page, so
  // that it can announce them in a live region of its own if it wants to.
  _describe() {
    const state = this.view.state;
    const list = [];
    forEachDiagnostic(state, (d, from) => {
      const line = state.doc.lineAt(from);
      list.push({ line: line.number, column: from - line.from + 1, message: d.message, severity: d.severity, source: d.source });
    });
    list.sort((a, b) => a.line - b.line || a.column - b.column);
    const lines = list.map((d) => `Line ${d.line}, ${d.severity}: ${d.message}`);
    this._description.textContent = [KEYS_HINT, ...lines].join(" ");
    this.textarea.dispatchEvent(new CustomEvent("kube-tutor-editor:diagnostics", { bubbles: true, detail: { diagnostics: list } }));
  }

  _setScheme(scheme) {
    if (scheme === this._scheme) return;
    this._scheme = scheme;
    this.view.dispatch({ effects: this._theme.reconfigure(themeFor(scheme)) });
  }
}

function mount(textarea, options) {
  if (!(textarea instanceof HTMLTextAreaElement)) throw new TypeError("KubeTutorEditor.mount needs a <textarea>");
  if (textarea.kubeTutorEditor) return textarea.kubeTutorEditor;
  // htmx's history cache restores a page from its HTML: the old editor comes back as dead markup
  // beside a fresh textarea. Remove it before mounting a live one.
  const stale = textarea.nextElementSibling;
  if (stale && stale.classList.contains("kube-tutor-editor")) stale.remove();
  const editor = new Editor(textarea, options);
  textarea.kubeTutorEditor = editor;
  editors.add(editor);
  watchTheme();
  return editor;
}

function mountAll(root = document) {
  // Editors whose markup was swapped out of the page are gone for good: stop their timers and let
  // them be freed. (One mounted on a textarea not yet in the page is left alone until it was in.)
  for (const editor of editors) {
    if (editor.dom.isConnected) editor._seen = true;
    else if (editor._seen) editor.destroy();
  }
  return Array.from(root.querySelectorAll('textarea[data-editor="yaml"]'), (textarea) => mount(textarea));
}

window.KubeTutorEditor = { mount, mountAll };

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => mountAll());
else mountAll();
// Listening costs nothing without htmx, and htmx may load after this script: no window.htmx test.
// afterSettle follows every swap; historyRestore follows the back button's restore from cache.
document.addEventListener("htmx:afterSettle", () => mountAll());
document.addEventListener("htmx:historyRestore", () => mountAll());
