// Reverie's page: one editing session at a time, over the server's /v1 API. Plain JavaScript, nothing fetched
// from elsewhere. A token (for a server bound beyond loopback) comes from the address: http://host:port/#token=…
"use strict";

const token = new URLSearchParams(location.hash.slice(1)).get("token");
const $ = (id) => document.getElementById(id);
let session = null;
const blobs = new Map(); // turn image path → object URL (images are fetched with the token, then shown)

function headers(extra) {
  const h = Object.assign({}, extra);
  if (token) h["Authorization"] = "Bearer " + token;
  return h;
}

async function call(method, path, body, type) {
  const init = { method, headers: headers(type ? { "Content-Type": type } : {}) };
  if (body !== undefined) init.body = type === "application/json" ? JSON.stringify(body) : body;
  const reply = await fetch(path, init);
  const data = reply.headers.get("Content-Type")?.startsWith("application/json") ? await reply.json() : null;
  if (!reply.ok) throw new Error((data && data.error) || reply.status + " " + reply.statusText);
  return data;
}

async function image(path) {
  if (!blobs.has(path)) {
    const reply = await fetch(path, { headers: headers({}) });
    if (!reply.ok) throw new Error("could not load " + path);
    blobs.set(path, URL.createObjectURL(await reply.blob()));
  }
  return blobs.get(path);
}

function busy(what) {
  for (const b of document.querySelectorAll("button")) b.disabled = !!what;
  $("status").className = "";
  $("status").textContent = what || "";
}

function failed(error) {
  busy(null);
  $("status").className = "error";
  $("status").textContent = error.message;
}

async function show(s) {
  session = s;
  const current = s.turns[s.current];
  $("stage").hidden = false;
  $("current-image").src = await image(current.image);
  $("current-caption").textContent = current.caption;
  $("current-said").hidden = !current.said;
  $("current-said").textContent = current.said ? "the model meant: " + current.said : "";
  $("download").href = $("current-image").src;
  $("download").download = "turn-" + current.index + ".png";
  const strip = $("history");
  strip.replaceChildren();
  for (const t of s.turns) {
    const li = document.createElement("li");
    li.className = "turn" + (t.index === s.current ? " current" : "");
    li.dataset.index = t.index;
    li.title = t.caption;
    const img = document.createElement("img");
    img.alt = "turn " + t.index;
    img.src = await image(t.image);
    const what = document.createElement("p");
    what.className = "what";
    what.textContent = t.index + ". " + (t.instruction || "uploaded") + (t.parent !== undefined && t.parent !== t.index - 1 ? " (from " + t.parent + ")" : "");
    const caption = document.createElement("p");
    caption.className = "caption";
    caption.textContent = t.caption;
    li.append(img, what, caption);
    li.addEventListener("click", () => run("going back to turn " + t.index + "…", () => call("POST", "/v1/sessions/" + s.id + "/select/" + t.index)));
    strip.append(li);
  }
  busy(null);
}

async function run(what, request) {
  busy(what);
  try {
    await show(await request());
  } catch (error) {
    failed(error);
  }
}

$("draw-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const prompt = $("prompt").value.trim();
  if (prompt) run("drawing…", () => call("POST", "/v1/sessions", { prompt }, "application/json"));
});

$("upload").addEventListener("change", () => {
  const file = $("upload").files[0];
  if (file) run("reading the image…", () => call("POST", "/v1/sessions", file, file.type || "image/png"));
});

$("edit-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const instruction = $("instruction").value.trim();
  if (!instruction || !session) return;
  run("editing…", async () => {
    const s = await call("POST", "/v1/sessions/" + session.id + "/edit", { instruction, from: session.current }, "application/json");
    $("instruction").value = "";
    return s;
  });
});

$("undo").addEventListener("click", () => {
  if (session) run("undoing…", () => call("POST", "/v1/sessions/" + session.id + "/undo"));
});

call("GET", "/v1/health")
  .then((h) => { $("model").textContent = h.checkpoint + " · " + h.image_size + "×" + h.image_size; })
  .catch(failed);
