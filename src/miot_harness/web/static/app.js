// The operator's page: asks over POST /runs/stream and shows answer, charts, evidence,
// freshness, plan and trace, and lists the user's conversations. Every value from the server
// is inserted as text; the only HTML inserted is the answer Markdown rendered by the server
// (POST /ui/render, raw HTML disabled). Charts are drawn by the vendored ECharts from the
// specs the harness built from the evidence (artifacts.charts); each result's rows appear
// once, in its evidence panel, not again in the answer's appended tables.
"use strict";

const KEY_STORAGE = "miot.apiKey";
const THREAD_STORAGE = "miot.threadId";
const MAX_CELL_CHARS = 300;
const THREADS_PAGE = 20;
// What /ui/render labels at most (web/router.py MAX_COLUMNS); further columns show their keys.
const MAX_LABELLED_COLUMNS = 200;
const NARROW = "(max-width: 900px)";

const state = {
  config: { timezone: "America/Santiago", freshness_warn_minutes: 15, freshness_refuse_minutes: 120 },
  pendingQuestion: null,
  busy: false,
  charts: [],
  threads: [],
  threadsTotal: 0,
};

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// ---------- storage ----------
// The key stays in this tab; the current conversation survives closing it.
const apiKey = () => sessionStorage.getItem(KEY_STORAGE) || "";
const threadId = () => localStorage.getItem(THREAD_STORAGE) || "";

function setThread(id) {
  if (id) localStorage.setItem(THREAD_STORAGE, id);
  else localStorage.removeItem(THREAD_STORAGE);
  markCurrentThread();
}

function questionOf(record) {
  const started = runEvents(record).find((e) => e.type === "run.started");
  const payload = (started && started.payload) || {};
  return record.message || payload.message || "(pregunta anterior)";
}

function authHeaders(extra) {
  const headers = Object.assign({}, extra || {});
  const key = apiKey();
  if (key) headers.Authorization = "Bearer " + key;
  return headers;
}

// ---------- banners ----------
function showBanner(kind, text) {
  const banner = $("banner");
  banner.className = "banner banner-" + kind;
  banner.textContent = text;
  banner.hidden = false;
}

function hideBanner() {
  $("banner").hidden = true;
}

function setServerState(kind, text) {
  const pill = $("server-state");
  pill.className = "pill pill-" + kind;
  pill.textContent = text;
}

const UNREACHABLE =
  "No se pudo contactar al servidor del harness. Revise que esté en ejecución y vuelva a intentarlo.";

// ---------- time and freshness ----------
function formatTime(iso, withSeconds) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const options = { timeZone: state.config.timezone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (withSeconds) options.second = "2-digit";
  else Object.assign(options, { day: "2-digit", month: "2-digit" });
  return new Intl.DateTimeFormat("es-CL", options).format(date);
}

function runEvents(record) {
  return Array.isArray(record.events) ? record.events : [];
}

function refusalReason(record) {
  const done = runEvents(record).find((e) => e.type === "run.completed");
  return (done && done.payload && done.payload.refusal_reason) || null;
}

function evidenceOf(record) {
  const evidence = record.artifacts && record.artifacts.evidence;
  return Array.isArray(evidence) ? evidence : [];
}

// The oldest refresh stamp among the run's evidence (or its tool.completed events).
function oldestRefresh(record) {
  const stamps = evidenceOf(record).map((item) => item.refreshed_at);
  for (const event of runEvents(record)) {
    if (event.type === "tool.completed") stamps.push(event.payload && event.payload.refreshed_at);
  }
  const valid = stamps.filter(Boolean).map((s) => new Date(s)).filter((d) => !Number.isNaN(d.getTime()));
  if (!valid.length) return null;
  return new Date(Math.min(...valid.map((d) => d.getTime())));
}

function freshnessOf(record) {
  const refreshed = oldestRefresh(record);
  if (refusalReason(record) === "stale") return { level: "stale", refreshed };
  if (!refreshed) return null;
  const at = new Date(record.finished_at || record.created_at || Date.now());
  const minutes = (at.getTime() - refreshed.getTime()) / 60000;
  const warned =
    runEvents(record).some((e) => e.type === "freshness.warning") ||
    evidenceOf(record).some((item) => item.is_stale);
  if (minutes > state.config.freshness_refuse_minutes) return { level: "stale", refreshed };
  if (warned || minutes > state.config.freshness_warn_minutes) return { level: "warn", refreshed };
  return { level: "fresh", refreshed };
}

const FRESHNESS_LABELS = { fresh: "Datos al día", warn: "Datos con retraso", stale: "Datos vencidos" };

function freshnessBadge(record) {
  const freshness = freshnessOf(record);
  if (!freshness) return null;
  const label = FRESHNESS_LABELS[freshness.level];
  const when = freshness.refreshed ? " · actualizados " + formatTime(freshness.refreshed.toISOString()) : "";
  const badge = el("span", "badge freshness freshness-" + freshness.level, label + when);
  badge.dataset.level = freshness.level;
  return badge;
}

// ---------- evidence tables ----------
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
// Chilean style, as the harness writes its tables: 1.512 and 61,7; decimals as in the evidence
// ("always": Spanish would otherwise leave four-digit numbers ungrouped).
const NUMBER = new Intl.NumberFormat("es-CL", { maximumFractionDigits: 10, useGrouping: "always" });
const TILE_NUMBER = new Intl.NumberFormat("es-CL", { maximumFractionDigits: 1, useGrouping: "always" });
const PERCENT = new Intl.NumberFormat("es-CL", {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
  useGrouping: "always",
});

function numberText(value) {
  return typeof value === "number" && Number.isFinite(value) ? NUMBER.format(value) : value;
}

// `percent`: the column holds percentages, written with one decimal like the harness's tables.
function cellText(value, percent) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "sí" : "no";
  if (typeof value === "number" && percent && Number.isFinite(value)) return PERCENT.format(value) + " %";
  if (typeof value === "number") return numberText(value);
  // Timestamps read in the harness's zone, like the freshness badge.
  if (typeof value === "string" && ISO_TIMESTAMP.test(value)) return formatTime(value);
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return text.length > MAX_CELL_CHARS ? text.slice(0, MAX_CELL_CHARS) + "…" : text;
}

// `words`: each column's label and percent flag from the server; a column without them shows its key.
function tableOf(columns, rows, words) {
  const table = el("table");
  const head = el("tr");
  for (const column of columns) {
    const th = head.appendChild(el("th", null, (words[column] || {}).label || column));
    th.title = column;
  }
  table.appendChild(el("thead")).appendChild(head);
  const body = table.appendChild(el("tbody"));
  for (const row of rows) {
    const tr = body.appendChild(el("tr"));
    for (const column of columns) {
      const td = tr.appendChild(el("td", null, cellText(row[column], (words[column] || {}).percent)));
      td.title = td.textContent;
    }
  }
  return table;
}

function columnsOf(rows) {
  const columns = [];
  for (const row of rows) {
    for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  }
  return columns;
}

// Nested objects become dotted keys (servicio.notas); lists stay as one JSON cell.
function flatten(data, prefix, into) {
  for (const [key, value] of Object.entries(data)) {
    const name = prefix ? prefix + "." + key : key;
    if (value && typeof value === "object" && !Array.isArray(value)) flatten(value, name, into);
    else into.push({ campo: name, valor: value });
  }
  return into;
}

function rowsOf(item) {
  const output = item.output || {};
  if (Array.isArray(item.rows)) return item.rows;
  if (Array.isArray(output.rows)) return output.rows;
  return null;
}

// What the evidence table shows: a result's rows, or a document or value as field/value pairs.
function tableData(item) {
  const output = item.output || {};
  const rows = rowsOf(item);
  if (rows) return { columns: columnsOf(rows), rows };
  let data = item.data && typeof item.data === "object" ? item.data : {};
  if (output.data && typeof output.data === "object") data = output.data;
  else if (output.value !== undefined) data = { valor: output.value };
  return { columns: ["campo", "valor"], rows: flatten(data, "", []) };
}

// ---------- CSV export ----------
function csvField(value) {
  if (value === null || value === undefined) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

function csvOf(columns, rows) {
  const lines = [columns.map(csvField).join(",")];
  for (const row of rows) lines.push(columns.map((column) => csvField(row[column])).join(","));
  // The byte order mark makes spreadsheets read the accents as UTF-8.
  return "\ufeff" + lines.join("\r\n") + "\r\n";
}

function downloadCsv(name, columns, rows) {
  const url = URL.createObjectURL(new Blob([csvOf(columns, rows)], { type: "text/csv;charset=utf-8" }));
  const link = el("a");
  link.href = url;
  link.download = name + ".csv";
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---------- charts ----------
function tilesBlock(spec) {
  const tiles = el("div", "tiles");
  for (const tile of spec.tiles || []) {
    const box = tiles.appendChild(el("div", "tile"));
    box.dataset.key = tile.key;
    const value = tile.value === null || tile.value === undefined ? "—" : TILE_NUMBER.format(tile.value);
    box.appendChild(el("span", "tile-value", value + (tile.unit && value !== "—" ? " " + tile.unit : "")));
    box.appendChild(el("span", "tile-label", tile.label));
  }
  return tiles;
}

function axesOf(option, key) {
  return [].concat(option[key] || []);
}

// The dimension a series draws as its length: the one encoded on its value axis.
function valueDimension(option, series) {
  const encode = series.encode || {};
  const x = axesOf(option, "xAxis")[series.xAxisIndex || 0] || {};
  return x.type === "value" ? encode.x : encode.y;
}

// ECharts writes numbers the English way (1,200.5); axes, tooltips and bare value labels
// get the page's formatter (an option from JSON cannot carry a function).
function localized(option) {
  for (const key of ["xAxis", "yAxis"]) {
    for (const axis of axesOf(option, key)) {
      if (axis.type === "value") axis.axisLabel = Object.assign({}, axis.axisLabel, { formatter: numberText });
    }
  }
  // A mark with several tooltip dimensions hands the formatter all its values at once.
  const tooltipValue = (value) => (Array.isArray(value) ? value.map(numberText) : numberText(value));
  if (option.tooltip) option.tooltip = Object.assign({}, option.tooltip, { valueFormatter: tooltipValue });
  for (const series of axesOf(option, "series")) {
    const dimension = valueDimension(option, series);
    if (series.label && series.label.show && !series.label.formatter && dimension) {
      series.label = Object.assign({}, series.label, { formatter: (params) => numberText(params.data[dimension]) });
    }
  }
  return option;
}

// Drawn once the box is in the page, so ECharts can measure its width.
function drawChart(box, spec) {
  if (!window.echarts) {
    box.appendChild(el("p", "muted", "No se pudo cargar la biblioteca de gráficos."));
    return;
  }
  const canvas = box.appendChild(el("div", "chart-canvas"));
  canvas.style.height = (spec.height || 300) + "px";
  const chart = window.echarts.init(canvas, null, { renderer: "svg" });
  chart.setOption(localized(spec.option || {}));
  state.charts.push(chart);
}

function chartBlocks(charts) {
  const blocks = [];
  for (const chart of charts) {
    const spec = chart.spec || {};
    const box = el("div", "chart chart-" + (spec.kind || "unknown"));
    box.appendChild(el("h3", "chart-title", chart.title));
    if (spec.kind === "kpi_tiles") box.appendChild(tilesBlock(spec));
    blocks.push({ box, spec });
  }
  return blocks;
}

function disposeCharts() {
  for (const chart of state.charts) chart.dispose();
  state.charts = [];
}

function chartsOf(record) {
  const charts = record.artifacts && record.artifacts.charts;
  return Array.isArray(charts) ? charts : [];
}

// ---------- prose and appended tables ----------
// After the prose the harness appends, per evidence item with rows and in evidence order, a
// block "**Título**", a blank line, a Markdown table of every row, a blank line and italic
// notes. The page draws those rows in the evidence panel, so it shows the answer without
// these blocks and keeps each block's title and notes for its panel.
const APPENDED_TABLE = /\n\n\*\*([^\n]+)\*\*\n\n\|/g;
const NOTE_LINE = /^_(.+)_$/;

// The block a match starts: its title, table rows, notes and where it ends in the answer.
function appendedBlock(answer, match) {
  const lines = answer.slice(match.index + 2).split("\n");
  let end = 2; // past the title and the blank line under it
  while (end < lines.length && lines[end].startsWith("|")) end++;
  const rows = end - 4; // less the title, the blank line, the header and the separator
  const notes = [];
  let next = lines[end] === "" ? end + 1 : end;
  while (next < lines.length && NOTE_LINE.test(lines[next])) {
    notes.push(NOTE_LINE.exec(lines[next])[1]);
    end = ++next;
  }
  const length = lines.slice(0, end).join("\n").length;
  return { title: match[1], rows, notes, end: match.index + 2 + length };
}

// `{prose, appended}`: `appended[i]` is `{title, notes}` for evidence item i; the prose is
// the rest of the answer. Unless the last blocks are exactly one per item with rows, each
// holding all its rows, the answer is shown whole, as written.
function splitAnswer(answer, evidence) {
  const whole = { prose: answer, appended: {} };
  const tabled = [];
  evidence.forEach((item, index) => {
    const rows = rowsOf(item);
    if (rows && rows.length) tabled.push({ index, rows: rows.length });
  });
  const starts = Array.from(answer.matchAll(APPENDED_TABLE));
  if (!tabled.length || starts.length < tabled.length) return whole;
  const tail = starts.slice(starts.length - tabled.length);
  const blocks = tail.map((match) => appendedBlock(answer, match));
  if (blocks.some((block, i) => block.rows !== tabled[i].rows)) return whole;
  const appended = {};
  const rest = [answer.slice(0, tail[0].index)];
  blocks.forEach((block, i) => {
    appended[tabled[i].index] = { title: block.title, notes: block.notes };
    rest.push(answer.slice(block.end, i + 1 < tail.length ? tail[i + 1].index : answer.length).trim());
  });
  return { prose: rest.filter((text) => text.trim()).join("\n\n"), appended };
}

// ---------- evidence ----------
function evidenceBlock(item, index, charts, container, appended, words) {
  const block = container.appendChild(el("figure", "evidence"));
  block.dataset.index = String(index);
  const rows = rowsOf(item);
  const total = item.total_count ?? (item.output || {}).total_count;
  let count = "";
  if (rows) {
    count = numberText(rows.length) + (total !== undefined && total !== null ? " de " + numberText(total) : "") + " filas";
  }
  const head = block.appendChild(el("figcaption"));
  const name = head.appendChild(el("span", "evidence-name"));
  if (appended) name.appendChild(el("strong", "evidence-title", appended.title));
  name.appendChild(el("span", "evidence-source", [item.tool || "evidencia", count].filter(Boolean).join(" · ")));
  const { columns, rows: shown } = tableData(item);
  const download = head.appendChild(el("button", "link download-csv", "Descargar CSV"));
  download.type = "button";
  download.disabled = !shown.length;
  download.addEventListener("click", () => downloadCsv(item.tool || "evidencia", columns, shown));
  const blocks = chartBlocks(charts);
  for (const { box } of blocks) block.appendChild(box);
  for (const { box, spec } of blocks) if (spec.kind === "echarts") drawChart(box, spec);
  // With a chart above it the table is one click away; without one it is the answer's body.
  let holder = block;
  if (blocks.length) {
    holder = block.appendChild(el("details", "table-fold"));
    holder.appendChild(el("summary", null, "Ver tabla"));
  }
  const scroller = holder.appendChild(el("div", "table-scroll"));
  const visible = columns.filter((column) => !(words[column] || {}).bookkeeping);
  if (shown.length) scroller.appendChild(tableOf(visible, shown, words));
  else scroller.appendChild(el("p", "muted", "Sin filas para estos filtros."));
  for (const note of appended ? appended.notes : []) block.appendChild(el("p", "evidence-note", note));
}

// ---------- plan and trace ----------
function argsText(args) {
  if (!args || typeof args !== "object" || !Object.keys(args).length) return "sin filtros";
  return Object.entries(args).map(([k, v]) => k + "=" + cellText(v)).join(", ");
}

function renderPlan(steps) {
  const plan = $("plan");
  plan.replaceChildren();
  if (!steps.length) {
    plan.appendChild(el("li", "muted", "Sin herramientas: respuesta sin consulta de datos."));
    return;
  }
  for (const step of steps) {
    const li = plan.appendChild(el("li"));
    li.appendChild(el("code", "tool", step.tool));
    li.appendChild(el("span", "args", " " + argsText(step.args)));
    if (step.rationale) li.appendChild(el("p", "rationale", cellText(step.rationale)));
  }
}

const EVENT_LABELS = {
  "run.queued": "En espera",
  "run.started": "Inicio",
  "route.selected": "Ruta",
  "plan.created": "Plan",
  "agent.turn": "Agente",
  "tool.started": "Herramienta",
  "tool.completed": "Resultado",
  "tool.failed": "Error de herramienta",
  "freshness.warning": "Frescura",
  "answer.completed": "Respuesta",
  "run.completed": "Fin",
  "run.failed": "Falla",
};

function eventDetail(event) {
  const p = event.payload || {};
  switch (event.type) {
    case "run.queued":
      return "posición " + (p.position ?? "?") + " en la fila";
    case "run.started":
      return p.tenant_id ? "tenant " + p.tenant_id + " · usuario " + (p.user_id || "?") : "";
    case "plan.created": {
      const steps = Array.isArray(p.steps) ? p.steps : [];
      return steps.length ? steps.map((step) => step.tool).join(", ") : cellText(p).slice(0, 200);
    }
    case "route.selected":
      return p.route || "";
    case "tool.started":
      return (p.tool || "") + " · " + argsText(p.args);
    case "tool.completed":
      return (p.tool || "") + " · " + (p.row_count ?? "?") + " filas · " + Math.round(p.duration_ms || 0) + " ms";
    case "tool.failed":
      return (p.tool || "") + " · " + (p.error_type || "") + ": " + (p.message || "");
    case "agent.turn":
      return (p.agent || event.agent || "") + " · " + (p.model || "") + " · " + (p.model_calls ?? 0) + " llamadas";
    case "answer.completed":
      return p.chars !== undefined ? p.chars + " caracteres" : "";
    case "run.completed":
      return (p.status || "") + (p.refusal_reason ? " · " + p.refusal_reason : "");
    case "run.failed":
      return p.reason || "";
    default:
      return Object.keys(p).length ? cellText(p).slice(0, 200) : "";
  }
}

function appendEvent(event) {
  const li = el("li", "event event-" + String(event.type).replace(".", "-"));
  li.appendChild(el("time", "muted", formatTime(event.ts, true)));
  li.appendChild(el("strong", null, EVENT_LABELS[event.type] || event.type));
  if (event.agent) li.appendChild(el("span", "agent", event.agent));
  li.appendChild(el("span", "detail", eventDetail(event)));
  $("timeline").appendChild(li);
  if (event.type === "tool.started") livePlanStep(event.payload || {});
}

function livePlanStep(payload) {
  const plan = $("plan");
  if (plan.querySelector(".muted")) plan.replaceChildren();
  const li = plan.appendChild(el("li"));
  li.appendChild(el("code", "tool", payload.tool));
  li.appendChild(el("span", "args", " " + argsText(payload.args)));
}

function resetTrace(label) {
  $("timeline").replaceChildren();
  renderCritic(null);
  $("plan").replaceChildren(el("li", "muted", "Planificando…"));
  $("trace-run").textContent = label || "";
}

// The critic's review when it ran: `{ok, concerns}`; null when the critic is off.
function criticOf(record) {
  const critic = record.artifacts && record.artifacts.critic;
  if (!critic || typeof critic !== "object") return null;
  const concerns = Array.isArray(critic.concerns) ? critic.concerns : [];
  return concerns.map((concern) => (typeof concern === "string" ? concern : cellText(concern)));
}

function renderCritic(concerns) {
  const list = $("critic");
  if (concerns && concerns.length) list.replaceChildren(...concerns.map((text) => el("li", "concern", text)));
  else list.replaceChildren(el("li", "muted", "Revisó la respuesta: sin observaciones."));
  $("critic-box").hidden = concerns === null;
}

function showRecordTrace(record) {
  $("timeline").replaceChildren();
  $("trace-run").textContent = record.run_id ? "· " + record.run_id : "";
  for (const event of runEvents(record)) appendEvent(event);
  const artifacts = record.artifacts || {};
  const plan = artifacts.nexo_plan || artifacts.story_plan;
  renderPlan(plan && Array.isArray(plan.steps) ? plan.steps : []);
  renderCritic(criticOf(record));
}

// ---------- turns ----------
// Fills `container` with the answer's HTML; returns the operator words of `columns` (none
// when the server could not render, and the answer is then shown as plain text).
async function renderAnswer(container, markdown, columns) {
  try {
    const response = await fetch("/ui/render", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ markdown, columns }),
    });
    if (!response.ok) throw new Error("render " + response.status);
    const rendered = await response.json();
    container.innerHTML = rendered.html;
    return rendered.columns || {};
  } catch (error) {
    container.textContent = markdown;
    return {};
  }
}

const STATUS_LABELS = {
  completed: "Respondida",
  refused: "Rechazada",
  failed: "Falló",
  running: "En curso",
  needs_input: "Necesita precisión",
};
const REASON_LABELS = {
  tenant: "otro cliente (tenant) no autorizado",
  stale: "datos demasiado antiguos",
  unsafe: "solicitud no permitida",
  out_of_scope: "fuera del alcance de las herramientas",
  nexo_disabled: "Nexo deshabilitado",
};

const WORKING = "Consultando…";

function newTurn(question) {
  $("empty-thread").hidden = true;
  const li = el("li", "turn");
  li.appendChild(el("p", "question", question));
  const body = li.appendChild(el("div", "turn-body"));
  body.appendChild(el("p", "muted working", WORKING));
  $("turns").appendChild(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

// Set last, once the turn is drawn whole and the page takes the next question: whoever waits
// for an answer (the browser tests) waits for this, not for its first element.
function markDone(turn) {
  turn.dataset.done = "true";
}

// A run over the server's limit waits in line; the turn says where until it starts.
function showProgress(turn, event) {
  const working = turn.querySelector(".working");
  if (!working) return;
  if (event.type === "run.queued") {
    const position = (event.payload || {}).position;
    working.textContent = "En espera (posición " + (position ?? "?") + ")…";
    working.dataset.queued = "true";
  } else if (event.type === "run.started") {
    working.textContent = WORKING;
    delete working.dataset.queued;
  }
}

async function fillTurn(turn, record) {
  const body = turn.querySelector(".turn-body");
  body.replaceChildren();
  turn.classList.add("status-" + record.status);
  turn.dataset.runId = record.run_id || "";
  const meta = body.appendChild(el("div", "turn-meta"));
  const status = el("span", "badge status status-" + record.status, STATUS_LABELS[record.status] || record.status);
  meta.appendChild(status);
  const reason = refusalReason(record);
  if (reason) meta.appendChild(el("span", "badge reason", REASON_LABELS[reason] || reason));
  const badge = freshnessBadge(record);
  if (badge) meta.appendChild(badge);
  const trace = meta.appendChild(el("button", "link show-trace", "Ver traza"));
  trace.type = "button";
  trace.addEventListener("click", () => showRecordTrace(record));
  const evidence = evidenceOf(record);
  const { prose, appended } = splitAnswer(record.answer || "", evidence);
  const answer = body.appendChild(el("div", "answer"));
  const columns = Array.from(new Set(evidence.flatMap((item) => tableData(item).columns)));
  const words = await renderAnswer(answer, prose || "(sin respuesta)", columns.slice(0, MAX_LABELLED_COLUMNS));
  const clarification = record.artifacts && record.artifacts.clarification;
  if (record.status === "needs_input" && clarification && Array.isArray(clarification.options)) {
    body.appendChild(clarificationBlock(clarification.options));
  }
  if (evidence.length) {
    const section = body.appendChild(el("details", "evidence-list"));
    section.open = true;
    section.appendChild(el("summary", null, "Evidencia (" + evidence.length + ")"));
    const charts = chartsOf(record);
    evidence.forEach((item, index) => {
      const own = charts.filter((chart) => chart.evidence_index === index);
      evidenceBlock(item, index, own, section, appended[index], words);
    });
  }
}

// Each option is a ready question that completes the one asked, on the same thread.
function clarificationBlock(options) {
  const box = el("div", "clarify");
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", "Opciones para precisar la pregunta");
  for (const option of options) {
    const button = box.appendChild(el("button", "option", option.label || option.message));
    button.type = "button";
    button.title = option.message;
    button.addEventListener("click", () => {
      for (const other of box.querySelectorAll("button")) other.disabled = true;
      button.classList.add("chosen");
      ask(option.message);
    });
  }
  return box;
}

function failTurn(turn, text) {
  const body = turn.querySelector(".turn-body");
  body.replaceChildren(el("p", "error", text));
  turn.classList.add("status-error");
}

// ---------- SSE over fetch (EventSource cannot POST) ----------
function parseFrame(frame) {
  let event = "message";
  const data = [];
  for (const line of frame.split(/\r?\n/)) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length ? { event, data: data.join("\n") } : null;
}

async function* sseFrames(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let match;
    while ((match = /\r?\n\r?\n/.exec(buffer))) {
      const frame = parseFrame(buffer.slice(0, match.index));
      buffer = buffer.slice(match.index + match[0].length);
      if (frame) yield frame;
    }
  }
  const last = parseFrame(buffer);
  if (last) yield last;
}

function errorText(status, body) {
  if (status === 429) {
    return "La fila de espera está llena o la espera por un cupo se agotó. Vuelva a intentarlo en unos segundos.";
  }
  const detail = body && body.detail;
  if (Array.isArray(detail) && detail.length) {
    return "Solicitud inválida: " + detail.map((d) => (d.loc || []).join(".") + " " + d.msg).join("; ");
  }
  if (typeof detail === "string") return "Error " + status + ": " + detail;
  return "El servidor respondió con el error " + status + ".";
}

// Why a stream ended without a record: a run that found no slot in time, or a cut stream.
function noRecordText(failed) {
  if (failed && failed.retry_after_s !== undefined) {
    return (
      "No se liberó un cupo a tiempo: hay demasiadas consultas en curso. Vuelva a intentarlo en " +
      numberText(failed.retry_after_s) + " s."
    );
  }
  return "La transmisión terminó sin registro de la ejecución.";
}

async function ask(question) {
  if (state.busy) return;
  state.busy = true;
  $("go").disabled = true;
  const turn = newTurn(question);
  resetTrace("· en curso");
  try {
    const payload = { message: question };
    if (threadId()) payload.thread_id = threadId();
    const response = await fetch("/runs/stream", {
      method: "POST",
      headers: authHeaders({ "Content-Type": "application/json", Accept: "text/event-stream" }),
      body: JSON.stringify(payload),
    });
    if (response.status === 401) {
      turn.remove();
      state.pendingQuestion = question;
      askForKey(apiKey() ? "La clave API no fue aceptada. Ingrese otra." : "Este servidor requiere una clave API.");
      return;
    }
    if (!response.ok) {
      failTurn(turn, errorText(response.status, await response.json().catch(() => null)));
      return;
    }
    hideBanner();
    let record = null;
    let failed = null;
    for await (const frame of sseFrames(response)) {
      if (frame.event === "harness_event") {
        const event = JSON.parse(frame.data);
        appendEvent(event);
        showProgress(turn, event);
        if (event.type === "run.failed") failed = event.payload || {};
      } else if (frame.event === "record") record = JSON.parse(frame.data);
    }
    if (!record) {
      failTurn(turn, noRecordText(failed));
      return;
    }
    if (record.thread_id) setThread(record.thread_id);
    showRecordTrace(record);
    await fillTurn(turn, record);
    $("q").value = "";
    loadThreads();
  } catch (error) {
    failTurn(turn, UNREACHABLE);
    showBanner("error", UNREACHABLE);
    setServerState("error", "Sin conexión");
  } finally {
    state.busy = false;
    $("go").disabled = false;
    markDone(turn);
  }
}

// ---------- API key ----------
function askForKey(prompt) {
  $("key-prompt").textContent = prompt;
  $("key-form").hidden = false;
  $("api-key").value = "";
  $("api-key").focus();
}

function saveKey(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (!key) return;
  // Another user's key starts afresh; a first key in a new tab reopens the saved thread,
  // which the server shows only to its owner.
  const changed = Boolean(apiKey()) && key !== apiKey();
  sessionStorage.setItem(KEY_STORAGE, key);
  $("key-form").hidden = true;
  if (changed) clearThread();
  const pending = state.pendingQuestion;
  state.pendingQuestion = null;
  checkHealth();
  if (pending) ask(pending);
  else loadThread();
  loadThreads();
}

// ---------- thread ----------
function clearThread() {
  setThread("");
  disposeCharts();
  $("turns").replaceChildren();
  $("empty-thread").hidden = false;
  resetTrace("");
  $("plan").replaceChildren(el("li", "muted", "Aún sin plan."));
}

function runsOf(body) {
  if (Array.isArray(body)) return body;
  if (body && Array.isArray(body.runs)) return body.runs;
  return [];
}

async function loadThread() {
  const id = threadId();
  if (!id) return;
  try {
    const response = await fetch("/threads/" + encodeURIComponent(id) + "/runs", { headers: authHeaders() });
    if (response.status === 401) {
      askForKey("Este servidor requiere una clave API.");
      return;
    }
    if (!response.ok) {
      setThread("");
      return;
    }
    const runs = runsOf(await response.json());
    disposeCharts();
    $("turns").replaceChildren();
    for (const record of runs) {
      const turn = newTurn(questionOf(record));
      await fillTurn(turn, record);
      markDone(turn);
    }
    if (runs.length) showRecordTrace(runs[runs.length - 1]);
  } catch (error) {
    showBanner("error", UNREACHABLE);
  }
}

function openThread(id) {
  if (state.busy) return;
  setThread(id);
  loadThread();
  if (window.matchMedia(NARROW).matches) $("threads-box").open = false;
}

// ---------- conversations ----------
function threadsOf(body) {
  if (Array.isArray(body)) return body;
  if (body && Array.isArray(body.threads)) return body.threads;
  return [];
}

function markCurrentThread() {
  const current = threadId();
  for (const item of document.querySelectorAll("#threads .thread")) {
    if (item.dataset.threadId === current) item.setAttribute("aria-current", "true");
    else item.removeAttribute("aria-current");
  }
}

function renderThreads(threads) {
  const list = $("threads");
  if (!threads.length) {
    list.replaceChildren(el("li", "muted", "Sin conversaciones."));
    return;
  }
  list.replaceChildren();
  for (const thread of threads) {
    const item = list.appendChild(el("li", "thread"));
    item.dataset.threadId = thread.thread_id;
    const button = item.appendChild(el("button", "thread-open"));
    button.type = "button";
    button.appendChild(el("span", "thread-question", thread.first_message || "(sin pregunta)"));
    const when = thread.updated_at || thread.created_at;
    if (when) button.appendChild(el("time", "muted small", formatTime(when)));
    button.addEventListener("click", () => openThread(thread.thread_id));
  }
  if (threads.length < state.threadsTotal) {
    const more = list.appendChild(el("li")).appendChild(el("button", "link more-threads", "Más conversaciones"));
    more.type = "button";
    more.addEventListener("click", () => loadThreads(true));
  }
  markCurrentThread();
}

// The newest page of the user's threads, or with `more` the next page after those shown.
async function loadThreads(more) {
  const offset = more ? state.threads.length : 0;
  try {
    const query = "/threads?limit=" + THREADS_PAGE + "&offset=" + offset;
    const response = await fetch(query, { headers: authHeaders() });
    if (!response.ok) return;
    const body = await response.json();
    const page = threadsOf(body);
    state.threads = more ? state.threads.concat(page) : page;
    state.threadsTotal = typeof body.total === "number" ? body.total : state.threads.length;
    renderThreads(state.threads);
  } catch (error) {
    // checkHealth reports an unreachable server; the list keeps what it showed.
  }
}

// ---------- health ----------
async function checkHealth() {
  try {
    const response = await fetch("/health", { headers: authHeaders() });
    if (response.status === 401) {
      setServerState("warn", "Requiere clave API");
      return;
    }
    if (!response.ok) {
      setServerState("warn", "Servidor con problemas (" + response.status + ")");
      return;
    }
    const health = await response.json();
    if (health.nexo_enabled === false) {
      setServerState("warn", "Nexo deshabilitado");
      const why = health.reason || "sin conexión a la base Coordinador";
      showBanner(
        "warn",
        "Nexo está deshabilitado (" + why + "). Las preguntas operacionales no se pueden responder " +
          "hasta que el servidor se conecte a la base Coordinador; el resto del harness sigue disponible."
      );
    } else {
      setServerState("ok", "Nexo activo" + (health.tools ? " · " + health.tools + " herramientas" : ""));
      hideBanner();
    }
  } catch (error) {
    setServerState("error", "Sin conexión");
    showBanner("error", UNREACHABLE);
  }
}

async function loadConfig() {
  try {
    const response = await fetch("/ui/config");
    if (response.ok) state.config = await response.json();
  } catch (error) {
    // Defaults above stay in force; checkHealth reports an unreachable server.
  }
}

// ---------- wiring ----------
function init() {
  $("ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const question = $("q").value.trim();
    if (question) ask(question);
  });
  $("q").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("ask-form").requestSubmit();
    }
  });
  $("key-form").addEventListener("submit", saveKey);
  $("cancel-key").addEventListener("click", () => {
    $("key-form").hidden = true;
    state.pendingQuestion = null;
  });
  $("change-key").addEventListener("click", () => askForKey("Ingrese la clave API para este servidor."));
  $("new-thread").addEventListener("click", () => {
    clearThread();
    loadThreads();
  });
  // On a phone the conversation comes first; the list and the trace open on request.
  if (window.matchMedia(NARROW).matches) {
    $("threads-box").open = false;
    $("trace-box").open = false;
  }
  window.addEventListener("resize", () => {
    for (const chart of state.charts) chart.resize();
  });
  loadConfig().then(() => Promise.all([checkHealth(), loadThread(), loadThreads()]));
}

document.addEventListener("DOMContentLoaded", init);
