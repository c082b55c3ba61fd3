// The monitor page: state from the server's event stream ("state" on every (re)connect, then
// "gate", "event" and "sites" changes), drawn as one tile per gate, how many are inside per
// site and a table of the last events. A guard who logs in may also open a door (exempt) and
// collect now; the server sends Bluezone IDs only to a logged-in page.
"use strict";

const state = { gates: new Map(), events: [], sites: [] };
// guard: the name logged in, or null; csrf: sent with every POST; logins: the server has guards
const session = { guard: null, csrf: null, logins: false, reasons: [] };
let stream = null;
let sessionKnown = false; // the first answer of /api/session: the stream already matches it
let exemptPort = null;
let lang = localStorage.getItem("bzgate.lang") === "en" ? "en" : "vi";
let sound = localStorage.getItem("bzgate.sound") === "on";
let audio = null;

const $ = (id) => document.getElementById(id);
const t = (key) => (LABELS[lang][key] ?? key);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

// Times on the gates' clock (Vietnam), wherever the browser is.
function clock(at) {
  return at ? new Date(at * 1000).toLocaleTimeString(lang === "vi" ? "vi-VN" : "en-GB",
    { timeZone: "Asia/Ho_Chi_Minh" }) : "";
}

// --- tiles ---------------------------------------------------------------------------
function tile(gate) {
  const node = el("article", "tile " + (gate.online ? "online" : "offline"));
  node.dataset.port = gate.port;
  node.dataset.gate = gate.gate_id;
  const head = el("div", "tile-head");
  const name = el("div", "name");
  name.append(el("h2", "", gate.gate_id || gate.port), el("div", "site", gate.site));
  const badge = el("span", "badge " + (gate.online ? "on" : "off"), t(gate.online ? "online" : "offline"));
  head.append(name, badge);
  node.append(head);

  node.append(verdictBox(gate));

  const facts = el("dl", "facts");
  const today = gate.today || {};
  const fact = (label, value) => facts.append(el("dt", "", t(label)), el("dd", "", value));
  fact("mode", gate.mode ? t(gate.mode) : "–");
  const counts = el("dd", "counts");
  for (const verdict of ["allow", "deny", "no-app", "exempt", "exit"]) {
    if (["exempt", "exit"].includes(verdict) && !today[verdict]) continue; // rare: when there are
    const chip = el("span", "count c-" + verdict, String(today[verdict] ?? 0));
    chip.title = t(verdict);
    counts.append(chip);
  }
  facts.append(el("dt", "", t("today")), counts);
  fact("compliance", gate.compliance === null ? "–" : gate.compliance + " %");
  if (gate.decisions !== null && gate.decisions !== undefined) {
    fact("decisions_total", String(gate.decisions)); // the gate's own counter, since it started
  }
  if (gate.source === "mqtt") fact("journal", t("via_ingest"));
  if (gate.collect) {
    fact("collected", `${clock(gate.collect.at)} · ${t(gate.collect.result)}`);
  }
  if (!gate.online && gate.seen) fact("last_seen", clock(gate.seen));
  node.append(facts);

  const alarms = el("ul", "alarms");
  for (const code of gate.alarms || []) {
    const item = el("li", "alarm", t(code));
    item.dataset.alarm = code;
    alarms.append(item);
  }
  node.append(alarms);
  if (!gate.online && gate.error) node.append(el("p", "error", gate.error)); // for IT staff
  if (session.guard) node.append(doorControl(gate));
  return node;
}

// A logged-in guard opens a serial gate's door for a visitor without a phone; a Wi-Fi gate
// takes no door commands over MQTT, and its tile says so.
function doorControl(gate) {
  if (gate.source === "mqtt") return el("p", "note no-door", t("exempt_mqtt"));
  const button = el("button", "exempt-open", t("exempt_button"));
  button.type = "button";
  button.disabled = !gate.online;
  button.addEventListener("click", () => openExempt(gate));
  return button;
}

// What the gate decided last, or that a press is checking for a phone until its decision.
function verdictBox(gate) {
  const last = gate.last;
  const shown = gate.checking && gate.online ? "checking" : last ? last.verdict : "";
  const box = el("div", "verdict " + (shown ? "v-" + shown : "none"));
  box.dataset.verdict = shown;
  if (shown === "checking") {
    box.append(el("span", "word", t("checking")), el("span", "when", t("checking_wait")));
    return box;
  }
  box.append(el("span", "word", last ? t(last.verdict) : t("no_decision")));
  if (!last) return box;
  // an ALLOW names the phone's platform; a DENY or NO_APP had no phone running Bluezone; an
  // EXEMPT says why the guard let the visitor in; an EXIT is someone leaving
  const phone = last.verdict === "allow" ? (last.platform ? t(last.platform) : "")
    : last.verdict === "exempt" ? (last.reason ? t(last.reason) : "")
    : last.verdict === "exit" ? "" : t("no_bluezone_phone");
  box.append(el("span", "when", [clock(last.at), phone, presses(last)].filter(Boolean).join(" · ")));
  if (last.verdict === "deny") box.append(el("span", "ask", t("ask_visitor")));
  return box;
}

// "×3" for a decision that answered three presses (or beam breaks), nothing for one.
function presses(decision) {
  return Number.isInteger(decision.presses) && decision.presses > 1 ? "×" + decision.presses : "";
}

function drawSites() {
  const sites = $("sites");
  sites.replaceChildren();
  if (!state.sites.length) return;
  sites.append(el("span", "sites-label", t("inside_now")));
  for (const site of state.sites) {
    const item = el("span", "site-inside");
    item.dataset.site = site.site;
    item.append(el("span", "site-name", site.site || t("no_site")), el("b", "", String(site.inside)));
    sites.append(item);
  }
}

function drawTiles() {
  drawSites();
  const tiles = $("tiles");
  tiles.replaceChildren(...[...state.gates.values()].map(tile));
  if (!state.gates.size) tiles.append(el("p", "empty", t("no_gates")));
  const filter = $("filter");
  const chosen = filter.value;
  const options = [...state.gates.values()].map((g) => {
    const option = el("option", "", g.gate_id || g.port);
    option.value = g.port;
    return option;
  });
  filter.replaceChildren(filter.options[0], ...options);
  filter.value = chosen;
  offerCollect();
}

// "Collect now" only for gates on a serial link: an MQTT gate's journal comes through
// `bzgate ingest`, and the page says so instead of offering a button that does nothing.
function offerCollect() {
  const only = $("filter").value;
  const chosen = [...state.gates.values()].filter((g) => !only || g.port === only);
  const collectable = chosen.some((g) => g.source !== "mqtt");
  $("collect").hidden = !collectable || !session.guard;
  $("collect-login").hidden = !collectable || !!session.guard || !session.logins;
  const where = $("collect-where");
  where.hidden = collectable || !chosen.length;
  where.textContent = t(only ? "collect_mqtt_gate" : "collect_mqtt_all");
}

// --- events --------------------------------------------------------------------------
function detail(event) {
  if (event.kind === "decision") {
    const rssi = Number.isInteger(event.rssi) ? event.rssi + " dBm" : ""; // none without a phone
    // the ID (or an unread iPhone's address) only reaches a logged-in guard's page
    return [t(event.verdict), event.platform ? t(event.platform) : "",
      event.reason ? t(event.reason) : "", rssi, presses(event),
      event.id ? event.id.toUpperCase() : event.addr || ""] // IDs as bzgate decode prints them
      .filter(Boolean).join(" · ");
  }
  if (event.kind === "alarm") return t(event.alarm);
  if (event.kind === "collect") return `${t(event.result)} · ${event.records} ${t("records")}`;
  return "";
}

function drawEvents() {
  const only = $("filter").value;
  const rows = state.events.filter((e) => !only || e.port === only).map((event) => {
    const row = el("tr", "ev-" + event.kind + (event.verdict ? " v-" + event.verdict : ""));
    row.append(el("td", "", clock(event.at)), el("td", "", event.gate_id || event.port),
      el("td", "", t(event.kind)), el("td", "", detail(event)));
    return row;
  });
  $("event-rows").replaceChildren(...rows);
}

// --- sound: a short beep for DENY, two for an alarm (WebAudio, nothing fetched) ----------
function beep(times) {
  if (!sound) return;
  audio = audio || new AudioContext();
  for (let i = 0; i < times; i++) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.2;
    osc.connect(gain).connect(audio.destination);
    const start = audio.currentTime + i * 0.3;
    osc.start(start);
    osc.stop(start + 0.18);
  }
}

// --- the stream ----------------------------------------------------------------------
function connect() {
  if (stream) stream.close();
  const source = stream = new EventSource("/api/stream");
  source.addEventListener("open", () => setLink(true));
  source.addEventListener("error", () => setLink(false));
  source.addEventListener("state", (message) => {
    const data = JSON.parse(message.data);
    state.gates = new Map(data.gates.map((g) => [g.port, g]));
    state.events = data.events;
    state.sites = data.sites || [];
    setLink(true);
    if (sessionKnown) loadSession(); // a restarted monitor knows no login of before
    drawTiles();
    drawEvents();
  });
  source.addEventListener("gate", (message) => {
    const gate = JSON.parse(message.data);
    state.gates.set(gate.port, gate);
    drawTiles();
  });
  source.addEventListener("sites", (message) => {
    state.sites = JSON.parse(message.data);
    drawSites();
  });
  source.addEventListener("event", (message) => {
    const event = JSON.parse(message.data);
    state.events.unshift(event);
    state.events.length = Math.min(state.events.length, 200);
    drawEvents();
    if (event.kind === "decision" && event.verdict === "deny") beep(1);
    if (event.kind === "alarm" || event.kind === "offline") beep(2);
  });
}

function setLink(up) {
  const link = $("link");
  link.className = "link " + (up ? "up" : "down");
  link.dataset.label = up ? "live" : "connecting";
  link.textContent = t(link.dataset.label);
}

// --- language, views, actions ----------------------------------------------------------
function applyLanguage() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-label]")) {
    node.textContent = t(node.dataset.label);
  }
  $("lang").textContent = lang === "vi" ? "English" : "Tiếng Việt";
  drawTiles();
  drawEvents();
}

function showView() {
  const events = location.hash === "#events";
  const login = location.hash === "#login" && !session.guard;
  $("gates-view").hidden = events || login;
  $("events-view").hidden = !events;
  $("login-view").hidden = !login;
  if (login) $("login-name").focus();
  $("nav-gates").classList.toggle("current", !events);
  $("nav-events").classList.toggle("current", events);
}

$("lang").addEventListener("click", () => {
  lang = lang === "vi" ? "en" : "vi";
  localStorage.setItem("bzgate.lang", lang);
  applyLanguage();
});
$("sound").checked = sound;
$("sound").addEventListener("change", () => {
  sound = $("sound").checked;
  localStorage.setItem("bzgate.sound", sound ? "on" : "off");
  if (sound) beep(1); // also unlocks audio, which browsers allow only after a user's action
});
$("filter").addEventListener("change", () => {
  drawEvents();
  offerCollect();
});
$("collect").addEventListener("click", async () => {
  const port = $("filter").value;
  const { reply } = await post("/api/collect", port ? { port } : {});
  $("collect-note").textContent = reply.ok ? t("collect_asked") : String(reply.status);
});
window.addEventListener("hashchange", showView);

// --- the guard's session -----------------------------------------------------------------
// Every POST: JSON, with the session's CSRF token; a session gone (expired, the monitor
// restarted) shows the page as before the login.
async function post(path, body) {
  const headers = { "Content-Type": "application/json" };
  if (session.csrf) headers["X-CSRF-Token"] = session.csrf;
  const reply = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
  const data = await reply.json().catch(() => ({}));
  if (reply.status === 401 && path !== "/api/login" && session.guard) loadSession();
  return { reply, data };
}

async function loadSession() {
  const had = session.guard;
  Object.assign(session, await (await fetch("/api/session")).json());
  showSession();
  if (sessionKnown && had !== session.guard) connect(); // the stream again: with IDs, or not
  sessionKnown = true;
}

function showSession() {
  $("nav-login").hidden = !session.logins || !!session.guard;
  $("guard").hidden = !session.guard;
  $("guard-name").textContent = session.guard || "";
  const reasons = session.reasons.map((reason) => {
    const option = el("option", "", t(reason));
    option.value = reason;
    return option;
  });
  const chosen = $("exempt-reason").value;
  $("exempt-reason").replaceChildren(...reasons);
  if (chosen) $("exempt-reason").value = chosen;
  showView();
  drawTiles();
}

$("login-form").addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  const { reply, data } = await post("/api/login",
    { name: $("login-name").value, password: $("login-password").value });
  $("login-password").value = "";
  if (!reply.ok) {
    $("login-error").textContent = data.error === "wrong name or password" ? t("login_wrong")
      : data.error && data.error.startsWith("too many") ? t("login_locked") : data.error || String(reply.status);
    return;
  }
  $("login-error").textContent = "";
  location.hash = "#gates";
  await loadSession();
});
$("logout").addEventListener("click", async () => {
  await post("/api/logout", {});
  await loadSession();
});

// --- exempt: the door opened for a visitor without a phone, for a reason chosen -------------
function openExempt(gate) {
  exemptPort = gate.port;
  $("exempt-gate").textContent = gate.gate_id || gate.port;
  $("exempt-error").textContent = "";
  $("exempt-note").value = "";
  showNote();
  $("exempt").showModal();
}

function showNote() {
  $("exempt-note-field").hidden = $("exempt-reason").value !== "staff-override";
}

$("exempt-reason").addEventListener("change", showNote);
$("exempt-cancel").addEventListener("click", () => $("exempt").close());
$("exempt-form").addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  const reason = $("exempt-reason").value;
  const note = reason === "staff-override" ? $("exempt-note").value : null;
  $("exempt-submit").disabled = true;
  try {
    const { reply, data } = await post("/api/exempt", { port: exemptPort, reason, note });
    if (reply.ok) $("exempt").close();
    else $("exempt-error").textContent = t("exempt_failed") + ": " + (data.error || reply.status);
  } finally {
    $("exempt-submit").disabled = false;
  }
});

showView();
applyLanguage();
connect();
loadSession();
