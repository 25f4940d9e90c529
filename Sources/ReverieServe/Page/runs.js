// Reverie's runs page: the runs under `reverie serve --runs DIR`, each run's logged metrics drawn as SVG curves
// (losses, learning rate, gradient norm, steps/s, evaluation scores) and its sample sheets. Refreshes every 10 s.
"use strict";

const token = new URLSearchParams(location.hash.slice(1)).get("token");
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
let selected = null;
let sheets = [];

async function get(path, asBlob) {
  const reply = await fetch(path, { headers: token ? { Authorization: "Bearer " + token } : {} });
  if (!reply.ok) throw new Error((await reply.json().catch(() => ({}))).error || reply.statusText);
  return asBlob ? reply.blob() : reply.json();
}

function svg(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  return node;
}

// One metric: its points as a polyline over labelled axes (log scale for losses that span decades).
function chart(title, points) {
  const [w, h, pad] = [330, 180, 50];
  const xs = points.map((p) => p[0]);
  let ys = points.map((p) => p[1]).filter(Number.isFinite);
  const positive = ys.every((y) => y > 0);
  const log = positive && Math.max(...ys) / Math.min(...ys) > 100;
  const f = (y) => (log ? Math.log10(y) : y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys.map(f)), Math.max(...ys.map(f))];
  const sx = (x) => pad + ((x - x0) / Math.max(x1 - x0, 1e-12)) * (w - pad - 8);
  const sy = (y) => h - 20 - ((f(y) - y0) / Math.max(y1 - y0, 1e-12)) * (h - 36);
  const figure = document.createElement("figure");
  figure.className = "chart";
  figure.dataset.metric = title;
  const plot = svg("svg", { viewBox: `0 0 ${w} ${h}`, width: w, height: h });
  plot.append(svg("rect", { x: pad, y: 8, width: w - pad - 8, height: h - 28, fill: "#fff", stroke: "#d2d2d7" }));
  const line = points.filter((p) => Number.isFinite(p[1])).map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`);
  plot.append(svg("polyline", { points: line.join(" "), fill: "none", stroke: "#0a66c2", "stroke-width": 1.5 }));
  const label = (text, x, y, anchor) => {
    const t = svg("text", { x, y, "font-size": 10, fill: "#6e6e73", "text-anchor": anchor });
    t.textContent = text;
    plot.append(t);
  };
  const fmt = (v) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : +v.toPrecision(3));
  label(fmt(log ? 10 ** y1 : y1), pad - 3, 16, "end");
  label(fmt(log ? 10 ** y0 : y0), pad - 3, h - 20, "end");
  label(x0, pad, h - 6, "start");
  label(x1, w - 8, h - 6, "end");
  const caption = document.createElement("figcaption");
  caption.textContent = `${title}${log ? " (log)" : ""}: ${fmt(points[points.length - 1][1])} at step ${x1}`;
  figure.append(plot, caption);
  return figure;
}

async function showSheet(index) {
  if (!sheets.length) return;
  const file = sheets[index];
  $("sheet-name").textContent = file;
  const blob = await get(`/v1/runs/sheet?run=${encodeURIComponent(selected)}&file=${encodeURIComponent(file)}`, true);
  $("sheet").src = URL.createObjectURL(blob);
}

async function showRun(name) {
  selected = name;
  for (const li of document.querySelectorAll("#run-list li")) li.classList.toggle("current", li.dataset.run === name);
  const data = await get("/v1/runs/series?run=" + encodeURIComponent(name));
  $("run").hidden = false;
  $("run-name").textContent = name;
  const order = (k) => (k === "loss" ? 0 : k.startsWith("eval/") ? 2 : ["lr", "grad_norm", "steps_per_second"].includes(k) ? 3 : 1);
  const keys = Object.keys(data.series).sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  $("charts").replaceChildren(...keys.map((k) => chart(k, data.series[k])));
  const keepLast = sheets.length === 0 || +$("sheet-step").value === sheets.length - 1;
  sheets = data.samples;
  $("sheet-step").max = Math.max(sheets.length - 1, 0);
  if (keepLast) $("sheet-step").value = Math.max(sheets.length - 1, 0);
  $("sheet").hidden = !sheets.length;
  await showSheet(+$("sheet-step").value);
}

async function refresh() {
  try {
    const data = await get("/v1/runs");
    $("root").textContent = data.root;
    const list = $("run-list");
    list.replaceChildren(...data.runs.map((r) => {
      const li = document.createElement("li");
      li.dataset.run = r.name;
      li.textContent = r.name + (r.stage ? ` (${r.stage})` : "") + (r.step !== undefined ? ` · step ${r.step} · loss ${(+r.loss).toPrecision(3)}` : "");
      li.addEventListener("click", () => showRun(r.name).catch(fail));
      return li;
    }));
    if (!selected && data.runs.length) selected = data.runs[0].name;
    if (selected) await showRun(selected);
    $("status").textContent = data.runs.length ? "" : "no runs yet under " + data.root;
  } catch (error) {
    fail(error);
  }
}

function fail(error) {
  $("status").className = "error";
  $("status").textContent = error.message;
}

$("sheet-step").addEventListener("input", () => showSheet(+$("sheet-step").value).catch(fail));
refresh();
setInterval(refresh, 10000);
