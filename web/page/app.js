// netcalc's page: the editor, the live reports, the table check and the URL fragment. Every
// number and message comes from the WebAssembly module (netcalc-web's `respond`), the same code
// as the command line; this script only moves text between it and the page.
"use strict";

const FRAGMENT_KEY = "description=";
const DEBOUNCE_MS = 150;

const page = {
  editor: document.getElementById("editor"),
  gutter: document.getElementById("gutter"),
  errorMessage: document.getElementById("error-message"),
  builtins: document.getElementById("builtins"),
  status: document.getElementById("status"),
  module: document.getElementById("module"),
  warnings: document.getElementById("warnings"),
  table: document.getElementById("table"),
  connections: document.getElementById("connections"),
  summary: document.getElementById("summary"),
  layers: document.getElementById("layers"),
  explain: document.getElementById("explain"),
  picture: document.getElementById("picture"),
  handTable: document.getElementById("hand-table"),
  checkSummary: document.getElementById("check-summary"),
  checkResult: document.getElementById("check-result"),
  checkText: document.getElementById("check-text"),
};

// Counters the browser tests wait on: how many analyses and checks have been shown, and how
// long the last update took (the module's call plus the DOM, by the browser's clock).
window.netcalc = { analyses: 0, checks: 0, lastUpdateMs: null, error: null, ready: false };

let exports = null;

function decodeBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// One call into the module. A trap (a bug in netcalc: bad input never panics on purpose)
// leaves the module unusable, so the page says so instead of showing stale results.
function call(request) {
  try {
    return callModule(request);
  } catch (problem) {
    const message = "netcalc stopped (" + problem + "); please reload the page and report the description";
    page.status.textContent = message;
    return { ok: false, error: { message, line: null, column: null } };
  }
}

// The request's UTF-8 bytes into the module's memory, the response out.
function callModule(request) {
  const input = new TextEncoder().encode(JSON.stringify(request));
  const pointer = exports.netcalc_allocate(input.length);
  new Uint8Array(exports.memory.buffer, pointer, input.length).set(input);
  const response = exports.netcalc_call(pointer, input.length);
  const length = new DataView(exports.memory.buffer).getUint32(response, true);
  const text = new TextDecoder().decode(new Uint8Array(exports.memory.buffer, response + 4, length));
  exports.netcalc_free(response, length + 4);
  return JSON.parse(text);
}

function debounce(action, delay) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(action, delay);
  };
}

function drawGutter(errorLine) {
  const count = page.editor.value.split("\n").length;
  const lines = [];
  for (let line = 1; line <= count; line++) {
    const div = document.createElement("div");
    div.textContent = line;
    if (line === errorLine) div.className = "error";
    lines.push(div);
  }
  page.gutter.replaceChildren(...lines);
  page.gutter.scrollTop = page.editor.scrollTop;
}

// The error's message right under its line in the editor, the line marked in the gutter.
function showError(error) {
  window.netcalc.error = error;
  if (!error) {
    page.errorMessage.hidden = true;
    drawGutter(null);
    return;
  }
  drawGutter(error.line);
  page.errorMessage.textContent = error.message;
  page.errorMessage.hidden = false;
  page.errorMessage.dataset.line = error.line === null ? "" : error.line;
  page.errorMessage.dataset.column = error.column === null ? "" : error.column;
  placeError();
}

function placeError() {
  const error = window.netcalc.error;
  if (!error || page.errorMessage.hidden) return;
  const first = page.gutter.firstElementChild;
  const lineHeight = first ? first.getBoundingClientRect().height : 17;
  const line = error.line || 1;
  // Under its line; kept inside the editor when the line is scrolled out of view.
  const top = 4 + line * lineHeight - page.editor.scrollTop;
  const room = page.editor.clientHeight - Math.min(page.errorMessage.offsetHeight, page.editor.clientHeight / 2);
  page.errorMessage.style.top = Math.max(0, Math.min(top, room)) + "px";
}

function setFragment(text) {
  const fragment = "#" + FRAGMENT_KEY + encodeURIComponent(text);
  if (location.hash !== fragment) history.replaceState(null, "", fragment);
}

function fragmentDescription() {
  const hash = location.hash.slice(1);
  if (!hash.startsWith(FRAGMENT_KEY)) return null;
  try {
    return decodeURIComponent(hash.slice(FRAGMENT_KEY.length));
  } catch (_) {
    return null;
  }
}

function analyse() {
  const start = performance.now();
  const description = page.editor.value;
  setFragment(description);
  const response = call({ command: "analyse", description });
  // While the description is broken, the last good results stay, dimmed.
  document.getElementById("right").classList.toggle("stale", !response.ok);
  if (response.ok) {
    showError(null);
    page.table.textContent = response.table;
    page.connections.textContent = response.connections;
    page.summary.textContent = response.summary;
    page.picture.innerHTML = response.svg;
    page.warnings.replaceChildren(...response.warnings.map((text) => {
      const pre = document.createElement("pre");
      pre.textContent = text;
      return pre;
    }));
    page.layers.replaceChildren(...response.layers.map((name) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = name;
      button.addEventListener("click", () => explain(name));
      return button;
    }));
    page.explain.hidden = true;
    page.status.textContent = response.network;
  } else {
    showError(response.error);
    page.status.textContent = "error at line " + (response.error.line || "?");
  }
  if (page.handTable.value.trim() !== "") check();
  const elapsed = performance.now() - start;
  window.netcalc.lastUpdateMs = elapsed;
  window.netcalc.analyses += 1;
  page.status.textContent += " · updated in " + elapsed.toFixed(1) + " ms";
}

function explain(layer) {
  const response = call({ command: "explain", description: page.editor.value, layer });
  page.explain.hidden = false;
  page.explain.textContent = response.ok ? response.text : response.error.message;
  for (const button of page.layers.children) {
    button.classList.toggle("chosen", button.textContent === layer);
  }
  page.explain.scrollIntoView({ block: "nearest" });
}

function check() {
  const table = page.handTable.value;
  if (table.trim() === "") {
    page.checkSummary.textContent = "";
    page.checkResult.replaceChildren();
    page.checkText.hidden = true;
    return;
  }
  const response = call({ command: "check", description: page.editor.value, table });
  window.netcalc.checks += 1;
  if (!response.ok) {
    page.checkSummary.textContent = "";
    page.checkResult.replaceChildren();
    page.checkText.hidden = false;
    page.checkText.textContent = response.error.message;
    return;
  }
  page.checkSummary.textContent =
    response.cells_checked + " cells checked, " + response.cells_wrong + " wrong";
  page.checkResult.replaceChildren(...response.tables.map(checkedTable));
  page.checkText.hidden = false;
  page.checkText.textContent = response.text;
}

function checkedTable(table) {
  const element = document.createElement("table");
  element.className = "checked";
  const head = element.createTHead().insertRow();
  for (const header of table.headers) {
    const th = document.createElement("th");
    th.textContent = header;
    head.appendChild(th);
  }
  const body = element.createTBody();
  for (const row of table.rows) {
    const tr = body.insertRow();
    tr.dataset.line = row.line;
    row.cells.forEach((cell, index) => {
      const td = tr.insertCell();
      td.textContent = cell.text;
      td.className = cell.state;
      td.dataset.column = table.headers[index] || "";
      if (cell.findings.length > 0) td.title = cell.findings.join("\n");
      if (index === 0 && row.layer) {
        td.classList.add("layer");
        td.addEventListener("click", () => explain(row.layer));
      }
    });
  }
  return element;
}

// Where the module comes from. Over http and https the page fetches netcalc.wasm (compiled as
// it arrives when the server calls it application/wasm, as streaming compilation requires).
// A page opened from file:// may not fetch a file beside it (Chromium refuses), but it may run a
// classic script beside it: netcalc-module.js holds the same bytes as base64. Any scheme other
// than http and https takes that path too. Which path was taken is shown in the header and in
// <body data-module>: "fetch-streaming", "fetch" or "base64".
const MODULE_FILE = "netcalc.wasm";
const MODULE_SCRIPT = "netcalc-module.js";

async function loadModule() {
  if (location.protocol === "http:" || location.protocol === "https:") {
    const response = await fetch(MODULE_FILE);
    if (!response.ok) throw new Error(MODULE_FILE + ": HTTP " + response.status);
    const type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
    if (WebAssembly.instantiateStreaming && type === "application/wasm") {
      const { instance } = await WebAssembly.instantiateStreaming(response, {});
      return { instance, path: "fetch-streaming", text: MODULE_FILE + ", fetched" };
    }
    const { instance } = await WebAssembly.instantiate(await response.arrayBuffer(), {});
    const served = type === "" ? "no type" : type;
    return { instance, path: "fetch", text: MODULE_FILE + ", fetched (served as " + served + ")" };
  }
  await runScript(MODULE_SCRIPT);
  const { instance } = await WebAssembly.instantiate(decodeBase64(window.NETCALC_WASM), {});
  return { instance, path: "base64", text: MODULE_SCRIPT + " (base64, for " + location.protocol + "//)" };
}

// A classic <script src> beside the page: allowed from file://, unlike fetch().
function runScript(source) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = source;
    script.onload = resolve;
    script.onerror = () => reject(new Error("cannot load " + source + " beside the page"));
    document.head.appendChild(script);
  });
}

async function start() {
  const { instance, path, text } = await loadModule();
  exports = instance.exports;
  document.body.dataset.module = path;
  page.module.textContent = "module: " + text;
  const builtins = call({ command: "builtins" }).builtins;
  for (const builtin of builtins) {
    const option = document.createElement("option");
    option.value = builtin.name;
    option.textContent = builtin.name;
    page.builtins.appendChild(option);
  }
  page.builtins.addEventListener("change", () => {
    const chosen = builtins.find((b) => b.name === page.builtins.value);
    if (!chosen) return;
    page.editor.value = chosen.text;
    page.editor.scrollTop = 0;
    analyse();
  });
  const later = debounce(analyse, DEBOUNCE_MS);
  page.editor.addEventListener("input", () => {
    drawGutter(null);
    later();
  });
  page.editor.addEventListener("scroll", () => {
    page.gutter.scrollTop = page.editor.scrollTop;
    placeError();
  });
  page.handTable.addEventListener("input", debounce(check, DEBOUNCE_MS));
  window.addEventListener("hashchange", () => {
    const description = fragmentDescription();
    if (description !== null && description !== page.editor.value) {
      page.editor.value = description;
      analyse();
    }
  });
  const shared = fragmentDescription();
  page.editor.value = shared !== null ? shared : builtins[0].text;
  analyse();
  window.netcalc.ready = true;
}

start().catch((problem) => {
  page.status.textContent = "netcalc could not start: " + problem;
});
