"use strict";
// Draws a run's page from the JSON beside it (engine/report/model.py says what it holds).
// Every value goes in through textContent or an attribute: nothing from the run is HTML.
(function () {
  const box = JSON.parse(document.getElementById("run-data").textContent);
  const LIVE = box.live;
  const ROWS = 300, NW = 168, NH = 26, GX = 12, GY = 46, WRAP = 10, GUTTER = 90, MAX_EDGES = 4000;
  const SVGNS = "http://www.w3.org/2000/svg";
  const view = { q: "", sel: null, open: new Set(), ganttAll: false, listAll: false };
  let D = box.data, byName = new Map(), instances = new Map(), regions = {};

  function el(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "onclick") node.addEventListener("click", v);
      else if (v !== null && v !== undefined) node.setAttribute(k, String(v));
    }
    for (const kid of kids) {
      if (kid === null || kid === undefined) continue;
      node.append(kid instanceof Node ? kid : String(kid));
    }
    return node;
  }
  function sv(tag, attrs, text) {
    const node = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  const put = (node, ...kids) => node.replaceChildren(...kids.filter((k) => k !== null && k !== undefined));
  const badge = (phase) => el("span", { class: "badge p-" + phase }, phase);
  const secs = (s) => s === null || s === undefined ? "-" : s < 1 ? (s * 1000).toFixed(0) + " ms" : s < 120 ? s.toFixed(2) + " s" : (s / 60).toFixed(1) + " min";
  const iso = (s) => s === null || s === undefined ? "-" : new Date((D.run.created + s) * 1000).toISOString();
  const text = (v) => typeof v === "string" ? v : JSON.stringify(v, null, 2);
  const clip = (s, n) => s.length > n ? s.slice(0, n - 1) + "…" : s;

  function index() {
    byName = new Map(D.steps.map((s) => [s.name, s]));
    instances = new Map();
    for (const s of D.steps) if (s.parent) (instances.get(s.parent) || instances.set(s.parent, []).get(s.parent)).push(s.name);
  }
  function matches(step) {
    if (!view.q) return true;
    const q = view.q.toLowerCase();
    return step.name.toLowerCase().includes(q) || step.phase.toLowerCase() === q ||
      (step.processor || "").toLowerCase().includes(q);
  }
  function hits() {
    const found = new Set();
    if (!view.q) return found;
    for (const s of D.steps) if (matches(s)) found.add(s.parent || s.name);
    return found;
  }
  function select(name) {
    view.sel = name;
    drawPanel();
    drawList();
    for (const g of regions.dag.querySelectorAll(".node")) g.classList.toggle("sel", g.getAttribute("data-step") === name);
  }
  function counts(names) {
    const c = {};
    for (const n of names) { const p = (byName.get(n) || { phase: "Pending" }).phase; c[p] = (c[p] || 0) + 1; }
    return Object.entries(c).map(([p, n]) => n.toLocaleString("en") + " " + p).join(", ");
  }
  function kv(rows) {
    return el("table", { class: "kv" }, ...rows.filter((r) => r[1] !== null && r[1] !== undefined)
      .map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v instanceof Node ? v : el("pre", {}, text(v))))));
  }

  function drawHeader() {
    const r = D.run, end = r.finished === null ? r.now : r.finished;
    put(regions.header, 
      el("h1", {}, r.workflow), badge(r.phase), el("span", { class: "mute" }, r.id),
      el("span", {}, "started " + new Date(r.created * 1000).toISOString()),
      el("span", {}, "took " + secs(end)), el("span", {}, counts(D.steps.filter((s) => !s.parent).map((s) => s.name))),
      r.message ? el("span", { class: "mute" }, r.message) : null,
      LIVE && r.phase === "Running" ? el("span", { class: "mute" }, "live: updating") : null);
  }

  function drawDag() {
    const found = hits(), layers = D.layers, rows = [];
    let widest = 2;
    layers.forEach((names, i) => {
      const collapsed = names.length > D.collapse_over && !view.open.has(i);
      const cols = collapsed ? 2 : Math.min(names.length, WRAP);
      widest = Math.max(widest, cols);
      rows.push({ names, i, collapsed, cols, lines: collapsed ? 1 : Math.ceil(names.length / WRAP) });
    });
    const width = GUTTER + widest * (NW + GX), pos = new Map();
    const g = sv("g"), edges = sv("g"), gutter = sv("g");
    let y = 10;
    for (const row of rows) {
      const label = (row.i === D.finally_from ? "finally " : "layer ") + (row.i + 1) + " (" + row.names.length + ")";
      const gl = sv("text", { x: 4, y: y + 17, class: "gutter" }, label);
      gutter.append(gl);
      if (row.collapsed) {
        const x = GUTTER + (widest - 2) * (NW + GX) / 2, w = 2 * NW + GX;
        const n = row.names.filter((s) => found.has(s)).length;
        const lg = sv("g", { class: "layer node", "data-layer": row.i });
        lg.append(sv("rect", { x, y, width: w, height: NH, rx: 4 }),
          sv("text", { x: x + 8, y: y + 17 }, clip(row.names.length.toLocaleString("en") + " steps: " + counts(row.names) + (n ? " · " + n + " match" : "") + " (open)", 52)));
        lg.addEventListener("click", () => { view.open.add(row.i); drawDag(); });
        g.append(lg);
        for (const s of row.names) pos.set(s, { x: x + w / 2, y });
        y += NH + GY;
        continue;
      }
      if (row.names.length > D.collapse_over) {
        gl.setAttribute("style", "cursor:pointer;text-decoration:underline");
        gl.setAttribute("pointer-events", "all");
        gl.addEventListener("click", () => { view.open.delete(row.i); drawDag(); });
      }
      row.names.forEach((name, k) => {
        const line = Math.floor(k / WRAP), col = k % WRAP;
        const inLine = Math.min(WRAP, row.names.length - line * WRAP);
        const x = GUTTER + (widest - inLine) * (NW + GX) / 2 + col * (NW + GX), ny = y + line * (NH + 10);
        const s = byName.get(name) || { phase: "Pending", name };
        const node = sv("g", { class: "node p-" + s.phase + (found.has(name) ? " hit" : "") + (view.sel === name ? " sel" : ""), "data-step": name });
        const each = instances.get(name) || [];
        const tip = [name + ": " + s.phase, each.length ? "for_each: " + counts(each) : "", s.when ? "when: " + s.when : "",
          s.depends ? "depends: " + s.depends : "", s.message || ""].filter(Boolean).join("\n");
        node.append(sv("title", {}, tip), sv("rect", { x, y: ny, width: NW, height: NH, rx: 4 }),
          sv("text", { x: x + 7, y: ny + 17 }, each.length ? clip(name, 16) + " ×" + each.length.toLocaleString("en") : clip(name, 24)));
        node.addEventListener("click", () => select(name));
        g.append(node);
        pos.set(name, { x: x + NW / 2, y: ny });
      });
      y += row.lines * (NH + 10) - 10 + GY;
    }
    const seen = new Set();
    for (const [from, to, kind] of D.edges) {
      const a = pos.get(from), b = pos.get(to);
      if (!a || !b || seen.size >= MAX_EDGES) continue;
      const key = a.x + "," + a.y + ">" + b.x + "," + b.y + kind;
      if (seen.has(key) || a.y === b.y) continue;
      seen.add(key);
      const y1 = a.y + NH, mid = (y1 + b.y) / 2;
      edges.append(sv("path", { class: "edge " + kind, d: `M${a.x},${y1} C${a.x},${mid} ${b.x},${mid} ${b.x},${b.y}` }));
    }
    const pic = sv("svg", { width, height: y, viewBox: `0 0 ${width} ${y}`, role: "img", "aria-label": "the run's DAG" });
    pic.append(edges, g, gutter);
    put(regions.dag, pic, el("div", { class: "mute" }, "solid: dependencies, dashed: depends; hover a step for its when/depends; a wide layer opens on click"));
  }

  function drawGantt() {
    const rows = D.steps.filter((s) => s.attempts.length && matches(s))
      .sort((a, b) => (a.attempts[0].start || 0) - (b.attempts[0].start || 0));
    let span = D.run.finished === null ? D.run.now : D.run.finished;
    for (const s of rows) for (const a of s.attempts) span = Math.max(span, a.end === null ? D.run.now : a.end);
    span = span || 1;
    const pct = (t) => (100 * t / span).toFixed(3) + "%";
    const shown = view.ganttAll ? rows : rows.slice(0, ROWS);
    const out = [el("div", { class: "grow mute" }, el("div", { class: "gname" }, "0 s"), el("div", { style: "flex:1;text-align:right" }, secs(span)))];
    for (const s of shown) {
      const track = el("div", { class: "gtrack" });
      let prev = null;
      for (const a of s.attempts) {
        const end = a.end === null ? D.run.now : a.end;
        if (prev !== null && a.start > prev) {
          track.append(el("div", { class: "gap", style: `left:${pct(prev)};width:${pct(a.start - prev)}`, title: "waited " + secs(a.start - prev) + " before attempt " + a.n }));
        }
        track.append(el("div", { class: "bar p-" + a.phase, style: `left:${pct(a.start)};width:${pct(Math.max(0, end - a.start))}`,
          title: `${s.name} #${a.n} ${a.phase} ${secs(end - a.start)}` + (a.error ? "\n" + a.error : "") }));
        prev = end;
      }
      out.push(el("div", { class: "grow", "data-gantt": s.name, onclick: () => select(s.name) }, el("div", { class: "gname", title: s.name }, s.name), track));
    }
    if (shown.length < rows.length) out.push(el("button", { class: "more", onclick: () => { view.ganttAll = true; drawGantt(); } }, "show all " + rows.length.toLocaleString("en") + " rows"));
    if (!rows.length) out.push(el("div", { class: "mute" }, "no attempts" + (view.q ? " match" : " yet")));
    put(regions.gantt, el("div", { class: "gantt" }, ...out), el("div", { class: "mute" }, "one bar per attempt; a dotted line is the wait before a retry (backoff)"));
  }

  function drawList() {
    const rows = D.steps.filter(matches), shown = view.listAll ? rows : rows.slice(0, ROWS);
    const body = shown.map((s) => {
      const took = s.started !== null && s.finished !== null ? s.finished - s.started : null;
      return el("tr", { class: "row" + (view.sel === s.name ? " sel" : ""), "data-row": s.name, onclick: () => select(s.name) },
        el("td", {}, s.name), el("td", {}, badge(s.phase)), el("td", {}, s.attempts.length), el("td", {}, secs(took)),
        el("td", { class: "mute" }, clip(s.error || s.message || "", 120)));
    });
    put(regions.list, el("table", {}, el("tr", {}, ...["step", "phase", "attempts", "took", "why"].map((h) => el("th", {}, h))), ...body),
      shown.length < rows.length ? el("button", { class: "more", onclick: () => { view.listAll = true; drawList(); } }, "show all " + rows.length.toLocaleString("en")) : null);
  }

  function sectionTable(sec) {
    if (sec.note) return el("div", {}, el("h3", {}, sec.title), el("div", { class: "mute" }, sec.note));
    return el("div", { class: "section" }, el("h3", {}, sec.title),
      el("table", { class: "decisions" }, el("tr", {}, ...sec.columns.map((c) => el("th", {}, c))),
        ...sec.rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c))))),
      sec.totals.length ? kv(sec.totals) : null);
  }

  function drawPanel() {
    const s = view.sel && byName.get(view.sel);
    if (!s) {
      put(regions.panel, el("h2", {}, "Step"), el("div", { class: "mute" }, "click a step in the graph, the timeline or the list"));
      return;
    }
    const parts = [el("h2", {}, s.name), kv([
      ["phase", badge(s.phase)], ["processor", s.processor], ["for_each", s.for_each], ["when", s.when], ["depends", s.depends],
      ["dependencies", s.dependencies && s.dependencies.length ? s.dependencies.join(", ") : null],
      ["decided", s.message], ["error", s.error], ["started", s.started === null ? null : iso(s.started)],
      ["finished", s.finished === null ? null : iso(s.finished)]])];
    if (s.section) parts.push(sectionTable(s.section));
    if (Object.keys(s.outputs).length) parts.push(el("h3", {}, "Outputs"), kv(Object.entries(s.outputs)));
    if (s.data.length) parts.push(el("h3", {}, "Data"), el("table", {}, ...s.data.map((d) => el("tr", {}, el("td", {}, d.key), el("td", { class: "mute" }, d.kind), el("td", {}, el("pre", {}, d.preview))))));
    if (s.files.length) parts.push(el("h3", {}, "Files"), el("table", {}, ...s.files.map((f) => el("tr", {}, el("td", {}, f.name), el("td", {}, f.bytes.toLocaleString("en") + " bytes"), el("td", { class: "mute" }, f.path)))));
    if (s.attempts.length) {
      parts.push(el("h3", {}, "Attempts"), el("table", {}, el("tr", {}, ...["#", "phase", "started", "took", "error"].map((h) => el("th", {}, h))),
        ...s.attempts.map((a) => el("tr", {}, el("td", {}, a.n + (a.retired ? " (before retry)" : "")), el("td", {}, badge(a.phase)), el("td", {}, iso(a.start)),
          el("td", {}, secs(a.end === null ? null : a.end - a.start)), el("td", {}, el("pre", {}, (a.error_type ? a.error_type + ": " : "") + (a.error || "")))))));
      for (const a of s.attempts) {
        if (!a.log) continue;
        parts.push(el("h3", {}, "Log of attempt " + a.n + (a.log.left_out ? " (last lines; " + a.log.left_out + " earlier left out: flowspec logs has them)" : "")),
          el("div", { class: "log" }, ...a.log.lines.map(([stream, line]) => el("pre", { class: stream }, line))));
      }
    }
    if (s.env && Object.keys(s.env).length) parts.push(el("h3", {}, "Env (as the spec declares it)"), el("table", {}, ...Object.entries(s.env).map(([k, [v, origin]]) => el("tr", {}, el("td", {}, k), el("td", {}, el("pre", {}, v)), el("td", { class: "mute" }, origin)))));
    put(regions.panel, ...parts);
  }

  function drawRun() {
    const r = D.run;
    put(regions.run, el("h2", {}, "Run"), kv([["run", r.id], ["spec", r.spec_file], ["files", r.files_dir]]),
      el("h3", {}, "Params"), Object.keys(r.params).length ? kv(Object.entries(r.params)) : el("div", { class: "mute" }, "none"),
      el("h3", {}, "Workflow env (secrets as references)"), Object.keys(r.env).length ? kv(Object.entries(r.env)) : el("div", { class: "mute" }, "none"));
  }

  function drawAll() {
    index();
    if (view.sel && !byName.has(view.sel)) view.sel = null;
    drawHeader(); drawDag(); drawGantt(); drawList(); drawPanel(); drawRun();
  }

  function skeleton() {
    const search = el("input", { type: "search", placeholder: "search steps by name, processor or phase", "aria-label": "search steps" });
    let timer = null;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => { view.q = search.value.trim(); view.ganttAll = view.listAll = false; drawDag(); drawGantt(); drawList(); }, 120);
    });
    regions = { header: el("header"), dag: el("div"), gantt: el("div"), list: el("div"), panel: el("section", { id: "panel" }), run: el("section") };
    document.getElementById("app").replaceChildren(regions.header, el("main", {},
      el("div", {}, el("section", {}, search), el("section", {}, el("h2", {}, "Graph"), regions.dag),
        el("section", {}, el("h2", {}, "Timeline"), regions.gantt), el("section", {}, el("h2", {}, "Steps"), regions.list)),
      el("aside", {}, regions.panel, regions.run)));
  }

  function poll() {
    if (!LIVE || !["Running", "Pending"].includes(D.run.phase)) return;
    setTimeout(() => {
      fetch(LIVE, { cache: "no-store" }).then((r) => r.ok ? r.json() : null).then((data) => {
        if (data) { D = data; drawAll(); }
      }).catch(() => undefined).finally(poll);
    }, 2000);
  }

  skeleton();
  drawAll();
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted && byName.has(wanted)) select(wanted);
  poll();
})();
