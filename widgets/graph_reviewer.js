// GraphReviewer front end (anywidget module). It draws what Python sends and sends every user
// action back as a message {action, ...}; all state and every decision live in Python
// (rcakit.ui.reviewer.GraphReviewer -> rcakit.review.ReviewSession). Names are data: they are
// drawn on the canvas by vis-network or set with textContent, never parsed as HTML.
// vis-network 9.1.2 (as bundled with pyvis) arrives as the model's `_vis_source` string and is evaluated
// in render(), once per page: anywidget gives a model 2 s to load this module and run it, which a
// 480 kB module in the module itself could miss on a busy machine ("[anywidget] Failed to initialize
// model."); render() has no such limit.

function loadVis(source) {
  if (globalThis.__rcakitVis) return globalThis.__rcakitVis;
  if (!source) throw new Error("rcakit GraphReviewer: the model carries no vis-network source (_vis_source)");
  const mod = { exports: {} };
  // vis-network ships as a UMD bundle; give it a CommonJS-like scope instead of a global `define`.
  new Function("exports", "module", "define", source)(mod.exports, mod, undefined);
  globalThis.__rcakitVis = mod.exports;
  return mod.exports;
}

function h(tag, props = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "className") node.className = v;
    else node.setAttribute(k, v);
  }
  if (text !== null) node.textContent = String(text);
  return node;
}

const ACTIONS = [
  ["accept", "Accept", "a"], ["reject", "Reject", "r"], ["reverse", "Reverse", "v"],
  ["skip", "Skip", "s"], ["undo", "Undo", "u"], ["redo", "Redo", "y"], ["next_batch", "Next 5", "n"],
];
const KEYS = Object.fromEntries(ACTIONS.map(([action, , key]) => [key, action]));

function render({ model, el }) {
  const t0 = performance.now();
  const vis = loadVis(model.get("_vis_source"));
  const send = (action, args = {}) => model.send({ action, ...args });

  // data-lm-suppress-shortcuts: keys typed in the widget are ours, not JupyterLab's (a = insert cell...).
  const root = h("div", { className: "rcakit-reviewer", tabindex: "0", "data-lm-suppress-shortcuts": "true" });
  const toolbar = h("div", { className: "rcakit-toolbar" });
  for (const [action, label, key] of ACTIONS) {
    const b = h("button", { className: "rcakit-btn", dataset: { action }, title: `${label} (${key})` }, `${label} (${key})`);
    b.addEventListener("click", () => { send(action); root.focus(); });
    toolbar.appendChild(b);
  }
  const filters = h("div", { className: "rcakit-filters" });
  const selects = {};
  for (const name of ["provenance", "status", "component"]) {
    const label = h("label", {}, `${name} `);
    const sel = h("select", { dataset: { filter: name } });
    sel.addEventListener("change", () => {
      const f = { ...model.get("filters") };
      f[name] = sel.value;
      send("set_filter", f);
    });
    selects[name] = sel;
    label.appendChild(sel);
    filters.appendChild(label);
  }
  // Apply each answer to the similar edges too (listed under Details before the click).
  const similarLabel = h("label", { title: "accept/reject/reverse also apply to the similar edges listed under Details" },
    "similar ");
  const similar = h("select", { dataset: { role: "propagate" } });
  for (const [value, text] of [["", "off"], ["replicas", "replicas"], ["role", "same role"]]) {
    similar.appendChild(h("option", { value }, text));
  }
  similar.value = model.get("propagate") || "";
  similar.addEventListener("change", () => send("set_propagate", { scope: similar.value }));
  model.on("change:propagate", () => { similar.value = model.get("propagate") || ""; });
  similarLabel.appendChild(similar);
  filters.appendChild(similarLabel);
  const main = h("div", { className: "rcakit-main" });
  const graphBox = h("div", { className: "rcakit-graph" });
  graphBox.style.height = model.get("height") || "560px";
  const side = h("div", { className: "rcakit-side" });
  const queueTitle = h("div", { className: "rcakit-title" }, "Suspicious edges");
  const queueList = h("ol", { className: "rcakit-queue" });
  const detailsTitle = h("div", { className: "rcakit-title" }, "Details");
  const details = h("div", { className: "rcakit-details" });
  side.append(queueTitle, queueList, detailsTitle, details);
  main.append(graphBox, side);

  const adder = h("div", { className: "rcakit-add" });
  const listId = `rcakit-nodes-${Math.random().toString(36).slice(2)}`;
  const datalist = h("datalist", { id: listId });
  const src = h("input", { list: listId, placeholder: "cause entity:metric", dataset: { role: "add-source" } });
  const dst = h("input", { list: listId, placeholder: "effect entity:metric", dataset: { role: "add-target" } });
  const why = h("input", { placeholder: "reason (optional)", dataset: { role: "add-reason" } });
  const addBtn = h("button", { className: "rcakit-btn", dataset: { action: "add_edge" } }, "Add edge");
  addBtn.addEventListener("click", () => {
    if (src.value && dst.value) send("add_edge", { source: src.value, target: dst.value, reason: why.value });
  });
  adder.append(h("span", {}, "Add: "), src, h("span", {}, " → "), dst, why, addBtn, datalist);
  const status = h("div", { className: "rcakit-status" });
  root.append(toolbar, filters, main, adder, status);
  el.appendChild(root);

  const graphOf = () => JSON.parse(model.get("graph_json") || "{}");
  let current = graphOf();
  const initial = { nodes: current.nodes || [], edges: current.edges || [] };
  const nodes = new vis.DataSet(initial.nodes);
  const edges = new vis.DataSet(initial.edges);
  // Python sends positions (a seeded layout), so nothing moves and the first frame is the final one;
  // without them (an old kernel-side version), fall back to a short physics stabilization.
  const laidOut = initial.nodes.length > 0 && initial.nodes.every((n) => n.x !== undefined);
  const network = new vis.Network(graphBox, { nodes, edges }, {
    physics: laidOut ? false : { stabilization: { iterations: 150, fit: true },
                                 barnesHut: { springLength: 150, avoidOverlap: 0.2 } },
    interaction: { hover: true, multiselect: false },
    edges: { smooth: { type: "continuous" }, selectionWidth: 2 },
    nodes: { margin: 6, widthConstraint: { maximum: 180 } },
  });
  // Freeze the layout once it settled (edges stay where the reviewer saw them), and fit it in view.
  const settle = () => {
    if (root.dataset.stable === "1") return;
    network.setOptions({ physics: false });
    network.fit();
    root.dataset.stable = "1";
  };
  if (laidOut) network.once("afterDrawing", () => requestAnimationFrame(settle));
  network.on("stabilizationIterationsDone", settle);
  network.on("stabilized", settle);
  setTimeout(settle, 5000);
  // The output area may attach the widget after render(): fit once it has a size.
  let fitted = false;
  const fitNow = () => {
    if (graphBox.clientWidth > 0) {
      fitted = true;
      network.setSize("100%", graphBox.style.height);  // the canvas may still have an earlier (hidden) size
      network.redraw();
      network.fit();
    } else fitted = false;  // hidden: fit when it gets a size
  };
  const resize = new ResizeObserver(() => { if (!fitted) fitNow(); });
  resize.observe(graphBox);
  root.__rcakitNetwork = network;
  root.__rcakitEdges = edges;

  network.on("click", (p) => {
    root.focus();
    if (p.nodes.length) send("select_node", { name: String(p.nodes[0]) });
    else if (p.edges.length) {
      const e = edges.get(p.edges[0]);
      if (e) send("select_edge", { source: e.from, target: e.to });
    }
  });

  function sync(ds, items) {
    const ids = new Set(items.map((x) => x.id));
    ds.remove(ds.getIds().filter((id) => !ids.has(id)));
    ds.update(items);
  }
  function drawGraph() {
    current = graphOf();
    const g = { nodes: current.nodes || [], edges: current.edges || [] };
    const t = performance.now();
    sync(nodes, g.nodes);
    sync(edges, g.edges);
    root.dataset.edgeCount = String(g.edges.length);
    root.dataset.lastDrawMs = String(Math.round(performance.now() - t));
  }
  function drawOptions() {
    const o = model.get("options") || {};
    const f = model.get("filters") || {};
    for (const [name, sel] of Object.entries(selects)) {
      sel.textContent = "";
      sel.appendChild(h("option", { value: "" }, "all"));
      for (const v of o[name] || []) {
        const opt = h("option", { value: v }, v);
        if (f[name] === v) opt.selected = true;
        sel.appendChild(opt);
      }
    }
    datalist.textContent = "";
    for (const n of o.nodes || []) datalist.appendChild(h("option", { value: n }));
  }
  function drawQueue() {
    queueList.textContent = "";
    for (const item of model.get("queue") || []) {
      const li = h("li", {
        className: "rcakit-queue-item" + (item.current ? " rcakit-current" : "") + (item.done ? " rcakit-done" : ""),
        dataset: { source: item.source, target: item.target, kind: item.kind },
      });
      li.appendChild(h("span", { className: "rcakit-edge" }, `${item.source} → ${item.target}`));
      li.appendChild(h("span", { className: "rcakit-kind" }, ` ${item.kind}${item.done ? " · " + item.done : ""}`));
      li.title = (item.reasons || []).join("; ");
      li.addEventListener("click", () => { send("select_edge", { source: item.source, target: item.target }); root.focus(); });
      queueList.appendChild(li);
    }
  }
  function drawDetails() {
    const d = model.get("details") || {};
    details.textContent = "";
    if (!Object.keys(d).length) { details.appendChild(h("em", {}, "Click an edge or a node.")); return; }
    for (const [k, v] of Object.entries(d)) {
      if (v === null || v === "" || (Array.isArray(v) && !v.length)) continue;
      details.appendChild(h("div", { className: "rcakit-key" }, k));
      details.appendChild(h("pre", { className: "rcakit-val" }, typeof v === "string" ? v : JSON.stringify(v, null, 1)));
    }
    const sel = model.get("selected") || [];
    if (sel[0] === "edge") {
      const id = (current.edges || []).find((e) => e.from === sel[1] && e.to === sel[2]);
      if (id) network.selectEdges([id.id]);
    } else if (sel[0] === "node") network.selectNodes([sel[1]]);
  }
  function drawStatus() {
    const s = model.get("summary") || {};
    status.textContent = s.text || "";
    root.dataset.decisions = String(s.decisions ?? 0);
    for (const b of toolbar.querySelectorAll("button")) {
      const a = b.dataset.action;
      b.disabled = (a === "undo" && !s.can_undo) || (a === "redo" && !s.can_redo) ||
        (["accept", "reject", "reverse", "skip"].includes(a) && !s.has_target);
    }
  }

  root.addEventListener("keydown", (ev) => {
    const tag = (ev.target.tagName || "").toLowerCase();
    if (["input", "select", "textarea"].includes(tag) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const action = KEYS[ev.key];
    if (action) { ev.preventDefault(); ev.stopPropagation(); send(action); }
  });

  const handlers = [
    ["change:graph_json", drawGraph], ["change:options", drawOptions], ["change:filters", drawOptions],
    ["change:queue", drawQueue], ["change:details", drawDetails], ["change:selected", drawDetails],
    ["change:summary", drawStatus],
    // another session in the same widget (the dashboard's next incident): show all of its graph
    ["change:generation", () => requestAnimationFrame(fitNow)],
  ];
  for (const [event, fn] of handlers) model.on(event, fn);
  drawGraph(); drawOptions(); drawQueue(); drawDetails(); drawStatus();
  network.once("afterDrawing", () => { root.dataset.renderMs = String(Math.round(performance.now() - t0)); });
  return () => { for (const [event, fn] of handlers) model.off(event, fn); resize.disconnect(); network.destroy(); };
}

export default { render };
