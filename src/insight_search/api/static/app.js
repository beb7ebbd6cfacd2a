// The search page. Every piece of document text goes in with textContent / createTextNode, never as HTML.
"use strict";

const KEY_STORE = "insight-search-api-key";
const FILTERS = ["year_from", "year_to", "country", "agency"];
const STOP = new Set(["the", "and", "for", "with", "from", "that", "this", "into", "over", "what", "which"]);

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text != null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

// ---------------------------------------------------------------- API calls (with the optional API key)

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function askForKey() {
  const dialog = $("key-dialog");
  const input = $("api-key");
  input.value = "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        const key = dialog.returnValue === "ok" ? input.value.trim() : "";
        if (key) sessionStorage.setItem(KEY_STORE, key);
        resolve(Boolean(key));
      },
      { once: true },
    );
    dialog.returnValue = "";
    dialog.showModal();
  });
}

async function api(path, params, retried = false) {
  const url = params ? path + "?" + new URLSearchParams(params) : path;
  const headers = { Accept: "application/json" };
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers["X-API-Key"] = key;
  const res = await fetch(url, { headers });
  let body = null;
  try {
    body = await res.json();
  } catch (e) {
    body = null;
  }
  if (res.status === 401 && !retried) {
    sessionStorage.removeItem(KEY_STORE);
    if (await askForKey()) return api(path, params, true);
  }
  if (!res.ok) {
    let detail = body && typeof body.detail === "string" ? body.detail : res.statusText;
    if (res.status === 429) detail = "Too many requests: try again in " + (res.headers.get("Retry-After") || "a few") + " s";
    throw new ApiError(res.status, detail);
  }
  return body;
}

// ---------------------------------------------------------------- marking text

function queryTerms(q) {
  const words = q.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 3 && !STOP.has(w));
  // A crude stem (the word less its last letters) so that "legislation" also marks "legislative".
  const stems = words.map((w) => (w.length > 6 ? w.slice(0, w.length - 3) : w));
  return [...new Set(stems)];
}

function termPattern(terms) {
  if (!terms.length) return null;
  const esc = terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp("(?<![\\p{L}\\p{N}])(?:" + esc.join("|") + ")[\\p{L}\\p{N}]*", "giu");
}

// Append `text` to `parent`, wrapping the query words in <mark>.
function appendMarked(parent, text, pattern) {
  if (!pattern) {
    parent.append(document.createTextNode(text));
    return;
  }
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) parent.append(document.createTextNode(text.slice(last, m.index)));
    parent.append(el("mark", m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
}

// Append `text` with [start, end) as the cited sentence; returns the <mark> (or null).
function appendCited(parent, text, start, end, pattern) {
  if (!(start >= 0 && end > start && end <= text.length)) {
    appendMarked(parent, text, pattern);
    return null;
  }
  appendMarked(parent, text.slice(0, start), pattern);
  const mark = el("mark", null, "cited");
  appendMarked(mark, text.slice(start, end), pattern);
  parent.append(mark);
  appendMarked(parent, text.slice(end), pattern);
  return mark;
}

// ---------------------------------------------------------------- state

const state = { q: "", params: {}, pattern: null, cursor: null, view: "results", loaded: { timeline: false } };

function formParams() {
  const p = {};
  for (const name of FILTERS) {
    const v = $(name).value.trim();
    if (v) p[name] = v;
  }
  return p;
}

function setStatus(text, isError = false) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("error", isError);
}

function metaLine(x) {
  const parts = [x.year, x.country, x.section ? x.section.replace(/_/g, " ") : null];
  const src = x.source ? x.source.path.split("/").pop() + (x.source.row ? " row " + x.source.row : "") : null;
  return [...parts, src].filter((v) => v != null && v !== "").join(" · ");
}

function saveToUrl() {
  const p = new URLSearchParams({ q: state.q, ...state.params });
  if (state.view === "timeline") p.set("view", "timeline");
  history.replaceState(null, "", "?" + p);
}

// ---------------------------------------------------------------- facets and filter suggestions

function addOption(select, value) {
  if ([...select.options].some((o) => o.value === value)) return;
  const o = el("option", value);
  o.value = value;
  select.append(o);
}

async function loadFacets() {
  try {
    const f = await api("/facets");
    const years = Object.keys(f.years).filter((y) => /^\d{4}$/.test(y)).sort();
    for (const id of ["year_from", "year_to"]) for (const y of years) addOption($(id), y);
    for (const [field, list] of [["countries", "country-options"], ["agencies", "agency-options"]]) {
      const dl = $(list);
      dl.replaceChildren();
      for (const v of Object.keys(f[field]).filter((v) => v !== "unknown")) {
        const o = document.createElement("option");
        o.value = v;
        dl.append(o);
      }
    }
  } catch (e) {
    if (e instanceof ApiError) setStatus("Could not load the filters: " + e.message, true);
  }
}

function renderYearFacets(years) {
  const box = $("year-facets");
  box.replaceChildren();
  const known = Object.entries(years).filter(([y]) => /^\d{4}$/.test(y)).sort(([a], [b]) => a.localeCompare(b));
  const max = Math.max(1, ...known.map(([, n]) => n));
  const active = state.params.year_from && state.params.year_from === state.params.year_to ? state.params.year_from : null;
  for (const [year, n] of known) {
    const b = el("button");
    b.type = "button";
    b.setAttribute("aria-pressed", String(year === active));
    b.title = year === active ? "Remove the year filter" : "Only " + year;
    b.append(el("span", year + " (" + n + ")"));
    const bar = el("span", null, "bar");
    bar.style.height = Math.round(4 + (36 * n) / max) + "px";
    bar.setAttribute("aria-hidden", "true");
    b.append(bar);
    b.addEventListener("click", () => setYear(year === active ? null : year));
    box.append(b);
  }
  if (years.unknown) box.append(el("span", "no year: " + years.unknown, "unknown"));
}

function setYear(year) {
  for (const id of ["year_from", "year_to"]) {
    if (year) addOption($(id), year);
    $(id).value = year || "";
  }
  runSearch();
}

function renderSuggestions(facets) {
  const box = $("suggestions");
  box.replaceChildren();
  for (const [field, key] of [["country", "countries"], ["agency", "agencies"]]) {
    if (state.params[field]) continue;
    const top = Object.entries(facets[key] || {}).filter(([v]) => v !== "unknown").slice(0, 4);
    if (top.length < 2) continue; // one value for everything filters nothing
    for (const [value, n] of top) {
      const b = el("button", "Only " + value + " (" + n + ")");
      b.type = "button";
      b.addEventListener("click", () => {
        $(field).value = value;
        runSearch();
      });
      box.append(b);
    }
  }
  box.hidden = box.childElementCount === 0;
}

// ---------------------------------------------------------------- results

function renderHit(r) {
  const li = el("li", null, "hit");
  li.append(el("h3", r.title));
  li.append(el("p", metaLine(r), "meta"));
  const p = el("p", null, "highlight");
  appendMarked(p, r.highlight, state.pattern);
  li.append(p);
  const details = el("details");
  details.append(el("summary", "Whole passage"));
  const full = el("p");
  const at = r.text.indexOf(r.highlight);
  appendCited(full, r.text, at, at + r.highlight.length, state.pattern);
  details.append(full);
  li.append(details);
  const actions = el("div", null, "hit-actions");
  const open = el("button", "Open in context");
  open.type = "button";
  open.addEventListener("click", () => openPassage(r, at >= 0 ? { start: at, end: at + r.highlight.length } : null));
  actions.append(open);
  li.append(actions);
  return li;
}

async function loadResults(append) {
  const params = { q: state.q, k: 10, ...state.params };
  if (append && state.cursor) params.cursor = state.cursor;
  const out = await api("/search", params);
  const list = $("results");
  if (!append) list.replaceChildren();
  for (const r of out.results) list.append(renderHit(r));
  state.cursor = out.next_cursor;
  $("more").hidden = !out.next_cursor;
  if (!append) {
    // With a year filter on, the bar still shows every year of the query, so that another can be chosen.
    const { year_from, year_to, ...others } = state.params;
    const years = year_from || year_to ? (await api("/facets", { q: state.q, ...others })).years : out.facets.years;
    renderYearFacets(years);
    renderSuggestions(out.facets);
    const shown = out.results.length;
    setStatus(
      shown
        ? out.total + " matching passages for “" + state.q + "”"
        : "Nothing found for “" + state.q + "”" + (Object.keys(state.params).length ? " with these filters" : ""),
    );
  }
}

// ---------------------------------------------------------------- summary and timeline (cited sentences)

function citeLink(s) {
  const a = el("a", "[" + [s.year, s.country].filter((v) => v != null).join(", ") + "]", "cite");
  a.href = "/chunks/" + encodeURIComponent(s.chunk_id);
  a.title = "Open the source: " + s.title;
  a.addEventListener("click", (ev) => {
    ev.preventDefault();
    openCitation(s, a);
  });
  return a;
}

function renderSentence(s) {
  const li = el("li");
  appendMarked(li, s.text, state.pattern);
  li.append(document.createTextNode(" "));
  li.append(citeLink(s));
  return li;
}

async function loadSummary() {
  const list = $("summary");
  list.replaceChildren();
  const out = await api("/summarize", { q: state.q, max_sentences: 5, ...state.params });
  for (const s of out.sentences) list.append(renderSentence(s));
  if (!out.sentences.length) list.append(el("li", "No sentence matches."));
}

async function loadTimeline() {
  const list = $("timeline");
  list.replaceChildren();
  const out = await api("/timeline", { q: state.q, sentences_per_year: 3, ...state.params });
  for (const y of out.years) {
    const li = el("li");
    li.append(el("h3", String(y.year)));
    const line = el("p", y.count + (y.count === 1 ? " passage" : " passages"), "meta");
    if (y.status) {
      line.append(document.createTextNode(" · status: "));
      line.append(el("span", y.status, "status"));
    }
    li.append(line);
    const ol = el("ol");
    for (const s of y.sentences) ol.append(renderSentence(s));
    li.append(ol);
    list.append(li);
  }
  if (!out.years.length) list.append(el("li", "No passage with a year matches."));
  state.loaded.timeline = true;
}

// ---------------------------------------------------------------- the passage panel

let current = null; // { doc_id, passage_index, start, end } of what the panel shows

function showPanel(title, meta, text, start, end) {
  $("passage-title").textContent = title;
  $("passage-meta").textContent = meta;
  const body = $("passage-body");
  body.replaceChildren();
  const mark = appendCited(body, text, start, end, state.pattern);
  $("document-body").replaceChildren();
  $("passage-document").hidden = false;
  const dialog = $("passage");
  if (!dialog.open) dialog.showModal();
  if (mark) mark.scrollIntoView({ block: "center" });
  $("passage-close").focus();
}

// A search hit: its chunk is in hand.
function openPassage(r, span) {
  current = { doc_id: r.doc_id, passage_index: r.passage_index, start: span ? r.start + span.start : -1, end: span ? r.start + span.end : -1 };
  showPanel(r.title, metaLine(r), r.text, span ? span.start : -1, span ? span.end : -1);
}

// A cited sentence: fetch its chunk; sentence offsets are in the passage, the chunk starts at chunk.start.
async function openCitation(s) {
  try {
    const c = await api("/chunks/" + encodeURIComponent(s.chunk_id));
    let start = s.start - c.start;
    let end = s.end - c.start;
    if (!(start >= 0 && end <= c.text.length) || c.text.slice(start, end) !== s.text) {
      start = c.text.indexOf(s.text);
      end = start + s.text.length;
    }
    current = { doc_id: c.doc_id, passage_index: c.passage_index, start: s.start, end: s.end };
    showPanel(c.title, metaLine(c), c.text, start, end);
  } catch (e) {
    setStatus("Could not open the passage: " + e.message, true);
  }
}

async function showDocument() {
  if (!current) return;
  const box = $("document-body");
  try {
    const d = await api("/documents/" + encodeURIComponent(current.doc_id));
    box.replaceChildren();
    let cited = null;
    d.passages.forEach((p, i) => {
      const sec = el("section");
      sec.append(el("h3", [p.label || p.section.replace(/_/g, " "), p.year, p.status].filter((v) => v != null && v !== "").join(" · ")));
      const para = el("p");
      if (i === current.passage_index) cited = appendCited(para, p.text, current.start, current.end, state.pattern);
      else appendMarked(para, p.text, state.pattern);
      sec.append(para);
      box.append(sec);
    });
    $("passage-body").replaceChildren();
    $("passage-document").hidden = true;
    $("passage-title").textContent = d.title;
    if (cited) cited.scrollIntoView({ block: "center" });
  } catch (e) {
    box.replaceChildren(el("p", "Could not load the document: " + e.message));
  }
}

// ---------------------------------------------------------------- views and the search itself

function setView(view) {
  state.view = view;
  $("show-results").setAttribute("aria-pressed", String(view === "results"));
  $("show-timeline").setAttribute("aria-pressed", String(view === "timeline"));
  $("results-view").hidden = view !== "results";
  $("timeline-view").hidden = view !== "timeline";
  if (state.q) saveToUrl();
  if (view === "timeline" && state.q && !state.loaded.timeline) {
    withStatus(loadTimeline(), $("timeline-view"));
  }
}

async function withStatus(promise, busy) {
  if (busy) busy.setAttribute("aria-busy", "true");
  try {
    await promise;
  } catch (e) {
    setStatus(e instanceof ApiError ? e.message : "Request failed: " + e, true);
  } finally {
    if (busy) busy.removeAttribute("aria-busy");
  }
}

async function runSearch() {
  const q = $("q").value.trim();
  if (!q) {
    setStatus("Type what to look for.", true);
    $("q").focus();
    return;
  }
  state.q = q;
  state.params = formParams();
  state.pattern = termPattern(queryTerms(q));
  state.cursor = null;
  state.loaded.timeline = false;
  saveToUrl();
  setStatus("Searching…");
  const jobs = [withStatus(loadResults(false), $("results-view")), withStatus(loadSummary(), $("summary-panel"))];
  if (state.view === "timeline") jobs.push(withStatus(loadTimeline(), $("timeline-view")));
  await Promise.all(jobs);
}

function init() {
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    runSearch();
  });
  $("clear-filters").addEventListener("click", () => {
    for (const id of FILTERS) $(id).value = "";
    if (state.q) runSearch();
  });
  $("more").addEventListener("click", () => withStatus(loadResults(true), $("results-view")));
  $("show-results").addEventListener("click", () => setView("results"));
  $("show-timeline").addEventListener("click", () => setView("timeline"));
  $("passage-close").addEventListener("click", () => $("passage").close());
  $("passage-document").addEventListener("click", showDocument);

  const url = new URLSearchParams(location.search);
  loadFacets().then(() => {
    for (const id of FILTERS) {
      const v = url.get(id);
      if (!v) continue;
      if ($(id).tagName === "SELECT") addOption($(id), v);
      $(id).value = v;
    }
    if (url.get("view") === "timeline") setView("timeline");
    if (url.get("q")) {
      $("q").value = url.get("q");
      runSearch();
    }
  });
  $("q").focus();
}

document.addEventListener("DOMContentLoaded", init);
