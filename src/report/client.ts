/**
 * The report's only script: it builds the search-tree explorer from the JSON data block. It creates every node
 * with `createElement` and sets text with `textContent` only, so no data is ever parsed as markup. The page's CSP
 * allows this exact text by its sha256 hash (computed at render time), and nothing else.
 *
 * Plain ES2020 in a raw string: it runs in the reader's browser, not in Node. It uses no `${` (this is a template
 * literal) and no `</script` (it sits inside a script element).
 */
export const EXPLORER_SCRIPT = String.raw`(() => {
  "use strict";
  const root = document.getElementById("ex-root");
  const block = document.getElementById("bayesact-data");
  if (!root || !block) return;
  let data = null;
  try {
    data = JSON.parse(block.textContent || "null");
  } catch (err) {
    root.textContent = "The explorer's data could not be read.";
    return;
  }
  if (!data || !Array.isArray(data.episodes) || !Array.isArray(data.strings) || data.episodes.length === 0) {
    root.textContent = "No episode was recorded.";
    return;
  }
  const S = data.strings;
  const str = (ref) => (typeof ref === "number" && ref >= 0 && ref < S.length ? String(S[ref]) : "");

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmt(x, digits) {
    if (x === null || x === undefined) return "–";
    if (typeof x !== "number" || !isFinite(x)) return String(x);
    const s = x.toFixed(digits === undefined ? 3 : digits);
    return s.indexOf(".") >= 0 ? s.replace(/\.?0+$/, "") : s;
  }
  function field(dl, name, value, pre) {
    dl.appendChild(el("dt", null, name));
    const dd = el("dd");
    if (pre) dd.appendChild(el("pre", "text", value));
    else dd.textContent = value;
    dl.appendChild(dd);
    return dd;
  }

  root.replaceChildren();
  const controls = el("div", "ex-controls");
  const epLabel = el("label", null, "Episode ");
  const epSelect = el("select");
  epSelect.id = "ex-episode";
  data.episodes.forEach((ep, i) => {
    const steps = Array.isArray(ep.steps) ? ep.steps.length : 0;
    const o = el("option", null, str(ep.id) + " — " + (ep.success ? "solved" : "not solved") + ", " + steps + " step(s)");
    o.value = String(i);
    epSelect.appendChild(o);
  });
  epLabel.appendChild(epSelect);
  const stLabel = el("label", null, "Step ");
  const stSelect = el("select");
  stSelect.id = "ex-step";
  stLabel.appendChild(stSelect);
  const prev = el("button", null, "◀ previous step");
  prev.type = "button";
  prev.id = "ex-prev";
  const next = el("button", null, "next step ▶");
  next.type = "button";
  next.id = "ex-next";
  controls.append(epLabel, stLabel, prev, next);

  const episodeInfo = el("p", "ex-episode-info");
  episodeInfo.id = "ex-episode-info";
  const body = el("div", "ex-body");
  const treePane = el("div", "ex-pane ex-tree");
  treePane.id = "ex-tree";
  const actualPane = el("div", "ex-pane ex-actual");
  actualPane.id = "ex-actual";
  body.append(treePane, actualPane);
  const callsPane = el("div", "ex-calls");
  callsPane.id = "ex-calls";
  root.append(controls, episodeInfo, body, callsPane);

  function currentEpisode() {
    return data.episodes[Number(epSelect.value)] || data.episodes[0];
  }

  function fillSteps() {
    const ep = currentEpisode();
    stSelect.replaceChildren();
    (ep.steps || []).forEach((st, i) => {
      const label = "t = " + st.t + (st.recorded ? " · " + str(st.action) : " · (not finished)") + (st.tree ? "" : " · no tree");
      const o = el("option", null, label.length > 90 ? label.slice(0, 89) + "…" : label);
      o.value = String(i);
      stSelect.appendChild(o);
    });
  }

  function renderTree(step) {
    treePane.replaceChildren(el("h3", null, "Search tree at step t = " + step.t));
    const tree = step.tree;
    if (!tree || !Array.isArray(tree.nodes) || tree.nodes.length === 0) {
      treePane.appendChild(el("p", "muted", "No search tree was recorded at this step."));
      return;
    }
    const kids = new Map();
    let rootNode = null;
    for (const n of tree.nodes) {
      if (n[1] < 0) {
        if (!rootNode) rootNode = n;
        continue;
      }
      if (!kids.has(n[1])) kids.set(n[1], []);
      kids.get(n[1]).push(n);
    }
    if (!rootNode) {
      treePane.appendChild(el("p", "muted", "The recorded tree has no root."));
      return;
    }
    const legend = el("p", "muted", "V: value estimate · N: visits · r: predicted reward. ");
    const chosenNode = tree.nodes.find((n) => n[0] === tree.chosen);
    legend.appendChild(
      el("span", "chosen-badge", chosenNode ? "chosen: " + str(chosenNode[2]) : "chosen action not recorded"),
    );
    treePane.appendChild(legend);
    const seen = new Set();
    function nodeItem(n, depth) {
      seen.add(n[0]);
      const chosen = tree.chosen !== null && n[0] === tree.chosen;
      const li = el("li", chosen ? "node chosen" : "node");
      const det = el("details");
      det.open = depth < 2;
      const sum = el("summary");
      sum.appendChild(el("span", "act", n[2] >= 0 ? str(n[2]) : "root (current state)"));
      sum.appendChild(el("span", "stat", "V " + fmt(n[4])));
      sum.appendChild(el("span", "stat", "N " + fmt(n[5], 0)));
      if (n[6] !== null) sum.appendChild(el("span", "stat", "r " + fmt(n[6])));
      if (chosen) sum.appendChild(el("span", "chosen-badge", "chosen"));
      det.appendChild(sum);
      det.appendChild(el("pre", "text state", str(n[3])));
      const children = (kids.get(n[0]) || []).filter((c) => !seen.has(c[0]));
      if (children.length > 0) {
        const ul = el("ul");
        for (const c of children) ul.appendChild(nodeItem(c, depth + 1));
        det.appendChild(ul);
      }
      li.appendChild(det);
      return li;
    }
    const ul = el("ul", "tree");
    ul.appendChild(nodeItem(rootNode, 0));
    treePane.appendChild(ul);
    if (tree.omitted > 0) treePane.appendChild(el("p", "note", tree.omitted + " more node(s) are not included in this report."));
  }

  function renderActual(ep, index) {
    const step = ep.steps[index];
    actualPane.replaceChildren(el("h3", null, "What happened at step t = " + step.t));
    if (!step.recorded) {
      actualPane.appendChild(el("p", "muted", "This step did not finish (the episode stopped during it)."));
      return;
    }
    const dl = el("dl", "facts");
    field(dl, "Observation", str(step.observation), true);
    field(dl, "Action", str(step.action), true);
    field(dl, "Reward", fmt(step.reward));
    field(dl, "Feedback", str(step.feedback), true);
    field(dl, "Done", step.done ? "yes" : "no");
    field(dl, "Next observation", str(step.next), true);
    if (step.done) field(dl, "Outcome", "the episode ended here (" + str(ep.end) + ").");
    actualPane.appendChild(dl);
  }

  function renderCalls(step) {
    const calls = Array.isArray(step.calls) ? step.calls : [];
    callsPane.replaceChildren(el("h3", null, "LLM calls during step t = " + step.t + " (" + calls.length + ")"));
    if (calls.length === 0) {
      callsPane.appendChild(el("p", "muted", "No LLM call was made during this step."));
      return;
    }
    for (const c of calls) {
      const det = el("details", c.ok ? "call" : "call failed");
      const parts = ["#" + c.seq, str(c.model), c.inputTokens + " in / " + c.outputTokens + " out tokens", "$" + fmt(c.costUsd, 6), fmt(c.latencyMs, 0) + " ms"];
      if (c.cacheHits > 0) parts.push("cache hit");
      if (c.retries > 0) parts.push(c.retries + (c.retries === 1 ? " retry (" : " retries (") + fmt(c.retryWaitMs / 1000, 1) + " s waited)");
      if (c.timeouts > 0) parts.push(c.timeouts + (c.timeouts === 1 ? " timeout" : " timeouts"));
      if (!c.ok) parts.push("failed: " + (str(c.error) || "error"));
      det.appendChild(el("summary", null, parts.join(" · ")));
      for (const m of c.messages || []) {
        const msg = el("div", "msg");
        msg.appendChild(el("div", "role", str(m[0])));
        msg.appendChild(el("pre", "text", str(m[1])));
        det.appendChild(msg);
      }
      (c.responses || []).forEach((r, i) => {
        const msg = el("div", "msg response");
        msg.appendChild(el("div", "role", "response " + (i + 1)));
        msg.appendChild(el("pre", "text", str(r)));
        det.appendChild(msg);
      });
      if ((c.responses || []).length === 0) det.appendChild(el("p", "muted", "No response."));
      callsPane.appendChild(det);
    }
  }

  function render() {
    const ep = currentEpisode();
    episodeInfo.textContent =
      "Instance " + str(ep.instance) + " · seed " + ep.seed + " · " + (ep.success ? "solved" : "not solved") +
      " · return " + fmt(ep.totalReturn) + " · ended: " + str(ep.end);
    const index = Number(stSelect.value);
    const step = ep.steps[index];
    prev.disabled = !(index > 0);
    next.disabled = !(index < ep.steps.length - 1);
    if (!step) {
      treePane.replaceChildren(el("p", "muted", "This episode has no recorded step."));
      actualPane.replaceChildren();
      callsPane.replaceChildren();
      return;
    }
    renderTree(step);
    renderActual(ep, index);
    renderCalls(step);
  }

  epSelect.addEventListener("change", () => {
    fillSteps();
    render();
  });
  stSelect.addEventListener("change", render);
  prev.addEventListener("click", () => {
    if (stSelect.selectedIndex > 0) stSelect.selectedIndex -= 1;
    render();
  });
  next.addEventListener("click", () => {
    if (stSelect.selectedIndex < stSelect.options.length - 1) stSelect.selectedIndex += 1;
    render();
  });
  // Rows of the episodes table open their episode here.
  for (const row of document.querySelectorAll("tr[data-explorer]")) {
    row.addEventListener("click", () => {
      epSelect.value = row.getAttribute("data-explorer") || "0";
      fillSteps();
      render();
      root.scrollIntoView();
    });
  }
  fillSteps();
  render();
})();
`;
