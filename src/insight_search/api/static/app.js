// The search page. Every piece of document text goes in with textContent / createTextNode, never as HTML.
"use strict";

const KEY_STORE = "insight-search-api-key";
const FILTERS = ["year_from", "year_to", "country", "agency", "lang"];
// The names of the languages a passage may be in (its ISO 639-1 code otherwise).
const LANGUAGE_NAMES = {
  en: "English", es: "Spanish", fr: "French", ar: "Arabic", ru: "Russian", zh: "Chinese", pt: "Portuguese",
  de: "German", it: "Italian",
};
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

const state = { q: "", params: {}, group: "passage", pattern: null, cursor: null, view: "results", loaded: { timeline: false }, lastDoc: null };
const SHORT_TITLE = 90; // characters of a title shown above a group of hits (the whole title is its tooltip)

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

// "2023", or "2023–2024" for a passage that covers a span of years.
function yearLabel(x) {
  if (x.year == null) return null;
  return x.year_end != null && x.year_end !== x.year ? x.year + "–" + x.year_end : String(x.year);
}

// Readers cut long titles mid-word ("social protecti..."): drop the cut word.
function cleanTitle(title) {
  const t = String(title || "").trim();
  return /(\.\.\.|…)$/.test(t) ? t.replace(/(\.\.\.|…)$/, "").replace(/\s+\S*$/, "").replace(/[\s,;:.-]+$/, "") + "…" : t;
}

// A title on one line: cut at a word.
function shortTitle(title) {
  const t = cleanTitle(title);
  if (t.length <= SHORT_TITLE) return t;
  const cut = t.slice(0, SHORT_TITLE + 1).replace(/\s+\S*$/, "");
  return (cut.length > SHORT_TITLE / 2 ? cut : t.slice(0, SHORT_TITLE)).replace(/[\s,;:.…-]+$/, "") + "…";
}

// A passage the reader composed from a record's fields (not a quote of the source).
function composedNote(x) {
  if (!x.composed) return null;
  if (x.section === "funding") return "from the funding table";
  if (x.section === "partners") return "from the partner list";
  return "composed from the record's fields";
}

// The PDF page(s) a source names: "p. 12", "pp. 3–4", or null.
function pageLabel(src) {
  if (!src) return null;
  if (src.page != null) return "p. " + src.page;
  if (src.page_from != null) return "pp. " + src.page_from + "–" + src.page_to;
  return null;
}

function metaLine(x) {
  const parts = [yearLabel(x), x.country, x.section ? x.section.replace(/_/g, " ") : null];
  const src = x.source ? x.source.path.split("/").pop() + (x.source.row ? " row " + x.source.row : "") : null;
  return [...parts, src, pageLabel(x.source)].filter((v) => v != null && v !== "").join(" · ");
}

function metaElement(x, tag = "p") {
  const m = el(tag, metaLine(x), "meta");
  const note = composedNote(x);
  if (note) {
    m.append(document.createTextNode(" · "));
    m.append(el("span", note, "composed"));
  }
  return m;
}

function saveToUrl() {
  const p = new URLSearchParams({ q: state.q, ...state.params });
  if (state.group === "document") p.set("group", "document");
  if (state.view === "timeline") p.set("view", "timeline");
  history.replaceState(null, "", "?" + p);
}

// ---------------------------------------------------------------- facets and filter suggestions

function addOption(select, value, label) {
  if ([...select.options].some((o) => o.value === value)) return;
  const o = el("option", label || value);
  o.value = value;
  select.append(o);
}

async function loadFacets() {
  try {
    const f = await api("/facets");
    const years = Object.keys(f.years).filter((y) => /^\d{4}$/.test(y)).sort();
    for (const id of ["year_from", "year_to"]) for (const y of years) addOption($(id), y);
    for (const code of Object.keys(f.languages || {}).filter((v) => v !== "unknown")) {
      addOption($("lang"), code, (LANGUAGE_NAMES[code] || code) + " (" + code + ")");
    }
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

// The passages per year as a bar chart: a column per year (count above its bar, the year below), the passages
// without a year as a last column; choosing a year filters on it, choosing it again removes the filter.
function renderYearFacets(years) {
  const box = $("year-facets");
  box.replaceChildren();
  const known = Object.entries(years).filter(([y]) => /^\d{4}$/.test(y)).sort(([a], [b]) => a.localeCompare(b));
  const unknown = years.unknown || 0;
  box.hidden = !known.length && !unknown;
  if (box.hidden) return;
  const max = Math.max(1, unknown, ...known.map(([, n]) => n));
  const { year_from: from, year_to: to } = state.params;
  const active = from && from === to ? from : null;
  const column = (label, n, tag) => {
    const c = el(tag, null, "year-column");
    c.append(el("span", String(n), "count"));
    const bar = el("span", null, "bar");
    bar.style.height = Math.max(2, Math.round((100 * n) / max)) + "%";
    const track = el("span", null, "track");
    track.setAttribute("aria-hidden", "true");
    track.append(bar);
    c.append(track);
    c.append(el("span", label, "year"));
    return c;
  };
  const chart = el("div", null, "year-chart");
  for (const [year, n] of known) {
    const b = column(year, n, "button");
    b.type = "button";
    b.dataset.year = year;
    b.setAttribute("aria-pressed", String(year === active));
    if (!active && (from || to) && (!from || year >= from) && (!to || year <= to)) b.classList.add("in-range");
    b.setAttribute("aria-label", year + ": " + n + (n === 1 ? " passage" : " passages"));
    b.title = year === active ? "Remove the year filter" : "Only " + year;
    b.addEventListener("click", () => setYear(year === active ? null : year));
    chart.append(b);
  }
  if (unknown) {
    const c = column("no year", unknown, "div");
    c.classList.add("unknown");
    c.setAttribute("role", "img");
    c.setAttribute("aria-label", "no year: " + unknown + (unknown === 1 ? " passage" : " passages"));
    c.title = "Passages without a year (a year filter leaves them out)";
    chart.append(c);
  }
  box.append(chart);
  const caption = el(
    "p",
    state.group === "document"
      ? "Matching documents per year, each counted in the years of its best passage."
      : "Matching passages per year; a passage that covers several years counts in each.",
    "hint",
  );
  if (active) caption.textContent = "Showing " + active + " only: choose it again to show every year.";
  box.append(caption);
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

// A hit; the hits that follow one of the same document go under its title (class "same-document").
function renderHit(r, sameDocument) {
  const li = el("li", null, "hit");
  li.dataset.doc = r.doc_id;
  if (sameDocument) {
    li.classList.add("same-document");
  } else {
    const h = el("h3", shortTitle(r.title), "doc-title");
    h.title = r.title;
    li.append(h);
  }
  const meta = metaElement(r);
  if (r.related) {
    // Not a match: none of the query's words, only near in meaning (ranked where the search put it).
    li.classList.add("related");
    const tag = el("span", "related", "related-tag");
    tag.title = "Holds none of the query's words; near in meaning";
    meta.append(document.createTextNode(" "), tag);
  }
  if (r.language) {
    const tag = el("span", r.language, "lang-tag");
    tag.title = "Language: " + (LANGUAGE_NAMES[r.language] || r.language);
    meta.prepend(tag, document.createTextNode(" "));
  }
  li.append(meta);
  const p = el("p", null, "highlight");
  if (r.language) p.lang = r.language;
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
  if (r.passages && r.passages.length) li.append(renderMorePassages(r));
  return li;
}

// One per document (group=document): the document's next best matching passages under its hit.
function renderMorePassages(r) {
  const box = el("div", null, "more-passages");
  box.append(el("p", "More from this document:", "meta"));
  const ul = el("ul");
  for (const p of r.passages) {
    const item = el("li");
    const text = el("span", null, "highlight");
    appendMarked(text, p.highlight, state.pattern);
    item.append(text, document.createTextNode(" "));
    const at = p.text.indexOf(p.highlight);
    const open = el("button", "Open", "link");
    open.type = "button";
    open.title = "Open this passage in context";
    const x = { ...r, ...p, year_end: p.year };
    open.addEventListener("click", () => openPassage(x, at >= 0 ? { start: at, end: at + p.highlight.length } : null));
    item.append(open);
    ul.append(item);
  }
  box.append(ul);
  return box;
}

async function loadResults(append) {
  const params = { q: state.q, k: 10, ...state.params };
  if (state.group === "document") params.group = "document";
  if (append && state.cursor) params.cursor = state.cursor;
  const out = await api("/search", params);
  const list = $("results");
  if (!append) {
    list.replaceChildren();
    state.lastDoc = null;
  }
  for (const r of out.results) {
    list.append(renderHit(r, state.group !== "document" && r.doc_id === state.lastDoc));
    state.lastDoc = r.doc_id;
  }
  state.cursor = out.next_cursor;
  $("more").hidden = !out.next_cursor;
  if (!append) {
    // With a year filter on, the bar still shows every year of the query, so that another can be chosen.
    const { year_from, year_to, ...others } = state.params;
    const years = year_from || year_to ? (await api("/facets", { q: state.q, ...others })).years : out.facets.years;
    renderYearFacets(years);
    renderSuggestions(out.facets);
    const nothing = out.total === 0 || !out.results.length;
    showNothingMatched(nothing);
    setStatus(
      nothing
        ? "Nothing matched “" + state.q + "”" + (Object.keys(state.params).length ? " with these filters" : "") + "."
        : out.total + " matching " + (state.group === "document" ? "document" : "passage") + (out.total === 1 ? "" : "s") + " for “" + state.q + "”" + (out.related ? ", and related ones (marked)" : ""),
    );
  }
}

// The notice when no passage matched: what was asked, and what to try.
function showNothingMatched(nothing) {
  const box = $("nothing-matched");
  box.hidden = !nothing;
  if (!nothing) return;
  const filters = Object.keys(state.params).length > 0;
  $("nothing-matched-text").textContent =
    "No passage matched “" + state.q + "”" + (filters ? " with these filters" : "") + ". " +
    (filters ? "Loosen the filters (a wider span of years, another country or agency) or reword the query." :
      "Reword the query: other or fewer words, or words the reports would use.");
  $("nothing-clear-filters").hidden = !filters;
}

// An empty list gets a sentence in `note` (a <p> beside it) instead of a numbered item.
function showEmpty(note, text) {
  const p = $(note);
  p.textContent = text || "";
  p.hidden = !text;
}

// ---------------------------------------------------------------- summary and timeline (cited sentences)

function citeLink(s) {
  const a = el("a", "[" + [yearLabel(s), s.country, pageLabel(s.source)].filter((v) => v != null).join(", ") + "]", "cite");
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
  if (s.language) li.lang = s.language; // each sentence stays in its own language
  appendMarked(li, s.text, state.pattern);
  li.append(document.createTextNode(" "));
  li.append(citeLink(s));
  return li;
}

async function loadSummary() {
  const list = $("summary");
  list.replaceChildren();
  showEmpty("summary-empty", "");
  const out = await api("/summarize", { q: state.q, max_sentences: 5, ...state.params });
  for (const s of out.sentences) list.append(renderSentence(s));
  if (!out.sentences.length) {
    showEmpty(
      "summary-empty",
      out.passages_considered
        ? "No summary: no sentence of the matching passages can be quoted for this query."
        : "No summary: no passage matched.",
    );
  }
}

async function loadTimeline() {
  const list = $("timeline");
  list.replaceChildren();
  showEmpty("timeline-empty", "");
  const out = await api("/timeline", { q: state.q, sentences_per_year: 3, ...state.params });
  for (const y of out.years) {
    const li = el("li");
    li.append(el("h3", String(y.year)));
    // What the count counts: the matching passages covering the year (the year bar's number); the
    // sentences come from that year's progress notes only, the other passages are listed, never quoted.
    const notes = y.progress_notes || 0;
    const line = el(
      "p",
      y.count + (y.count === 1 ? " matching passage" : " matching passages") +
        (notes ? ", " + notes + (notes === 1 ? " of them a progress note" : " of them progress notes") +
          " of " + y.year : ""),
      "meta",
    );
    if (y.status) {
      line.append(document.createTextNode(" · status: "));
      line.append(el("span", y.status, "status"));
    }
    li.append(line);
    const ol = el("ol");
    for (const s of y.sentences) ol.append(renderSentence(s));
    li.append(ol);
    if (y.active && y.active.length) {
      const also = el("p", "Also active in " + y.year + " (not a progress note of that year): ", "meta active");
      y.active.forEach((a, i) => {
        if (i) also.append(document.createTextNode("; "));
        const link = el("a", shortTitle(a.title));
        link.href = "#";
        link.title = a.title;
        link.addEventListener("click", (ev) => { ev.preventDefault(); openChunk(a.chunk_id); });
        also.append(link);
      });
      li.append(also);
    }
    // The indicator periods of the year (target, actual) of the documents whose passages matched.
    if (y.indicators && y.indicators.length) {
      const box = el("div", null, "indicators");
      box.append(el("p", "Indicators in " + y.year + ":", "meta"));
      const ul = el("ul");
      for (const i of y.indicators) {
        const item = el("li", i.title + ": " + i.line);
        item.title = i.doc_id;
        if (i.comment) item.append(el("span", " — " + i.comment, "meta"));
        ul.append(item);
      }
      box.append(ul);
      li.append(box);
    }
    list.append(li);
  }
  if (!out.years.length) showEmpty("timeline-empty", "No timeline: no matching passage has a year.");
  state.loaded.timeline = true;
}

// ---------------------------------------------------------------- the passage panel

let current = null; // { doc_id, passage_index, start, end } of what the panel shows

// The panel's head shows the short title; the whole document also shows it in full above its passages.
function setPanelTitle(title, full = false) {
  const short = shortTitle(title);
  $("passage-title").textContent = short;
  $("passage-title").title = title;
  $("passage-full-title").textContent = cleanTitle(title);
  $("passage-full-title").hidden = !full || short === cleanTitle(title);
}

function showPanel(title, x, text, start, end) {
  setPanelTitle(title);
  $("passage-meta").replaceWith(Object.assign(metaElement(x), { id: "passage-meta" }));
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
  showPanel(r.title, r, r.text, span ? span.start : -1, span ? span.end : -1);
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
    showPanel(c.title, c, c.text, start, end);
  } catch (e) {
    setStatus("Could not open the passage: " + e.message, true);
  }
}

// A passage listed without a quote (a timeline year's "also active"): fetch its chunk and show it whole.
async function openChunk(chunkId) {
  try {
    const c = await api("/chunks/" + encodeURIComponent(chunkId));
    current = { doc_id: c.doc_id, passage_index: c.passage_index, start: -1, end: -1 };
    showPanel(c.title, c, c.text, -1, -1);
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
      const head = el("h3", [p.label || p.section.replace(/_/g, " "), yearLabel(p), p.status].filter((v) => v != null && v !== "").join(" · "));
      const note = composedNote(p);
      if (note) head.append(document.createTextNode(" · "), el("span", note, "composed"));
      sec.append(head);
      const para = el("p");
      if (i === current.passage_index) cited = appendCited(para, p.text, current.start, current.end, state.pattern);
      else appendMarked(para, p.text, state.pattern);
      sec.append(para);
      box.append(sec);
    });
    $("passage-body").replaceChildren();
    $("passage-document").hidden = true;
    setPanelTitle(d.title, true);
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
  $("intro").hidden = true;
  state.params = formParams();
  state.group = $("group").value === "document" ? "document" : "passage";
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
  $("nothing-clear-filters").addEventListener("click", () => $("clear-filters").click());
  $("more").addEventListener("click", () => withStatus(loadResults(true), $("results-view")));
  $("group").addEventListener("change", () => {
    if (state.q) runSearch();
  });
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
    if (url.get("group") === "document") $("group").value = "document";
    if (url.get("view") === "timeline") setView("timeline");
    if (url.get("q")) {
      $("q").value = url.get("q");
      runSearch();
    }
  });
  $("q").focus();
}

document.addEventListener("DOMContentLoaded", init);
