// The monitor page: state from the server's event stream ("state" on every (re)connect, then
// "gate" and "event" changes), drawn as one tile per gate and a table of the last events.
"use strict";

const state = { gates: new Map(), events: [] };
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
  for (const verdict of ["allow", "deny", "no-app"]) {
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
  return node;
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
  // an ALLOW names the phone's platform; a DENY or NO_APP had no phone running Bluezone
  const phone = last.verdict === "allow" ? (last.platform ? t(last.platform) : "")
    : t("no_bluezone_phone");
  box.append(el("span", "when", [clock(last.at), phone, presses(last)].filter(Boolean).join(" · ")));
  if (last.verdict === "deny") box.append(el("span", "ask", t("ask_visitor")));
  return box;
}

// "×3" for a decision that answered three presses (or beam breaks), nothing for one.
function presses(decision) {
  return Number.isInteger(decision.presses) && decision.presses > 1 ? "×" + decision.presses : "";
}

function drawTiles() {
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
  $("collect").hidden = !collectable;
  const where = $("collect-where");
  where.hidden = collectable || !chosen.length;
  where.textContent = t(only ? "collect_mqtt_gate" : "collect_mqtt_all");
}

// --- events --------------------------------------------------------------------------
function detail(event) {
  if (event.kind === "decision") {
    const rssi = Number.isInteger(event.rssi) ? event.rssi + " dBm" : ""; // none without a phone
    return [t(event.verdict), event.platform ? t(event.platform) : "", rssi, presses(event)]
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
  const source = new EventSource("/api/stream");
  source.addEventListener("open", () => setLink(true));
  source.addEventListener("error", () => setLink(false));
  source.addEventListener("state", (message) => {
    const data = JSON.parse(message.data);
    state.gates = new Map(data.gates.map((g) => [g.port, g]));
    state.events = data.events;
    setLink(true);
    drawTiles();
    drawEvents();
  });
  source.addEventListener("gate", (message) => {
    const gate = JSON.parse(message.data);
    state.gates.set(gate.port, gate);
    drawTiles();
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
  $("gates-view").hidden = events;
  $("events-view").hidden = !events;
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
  const body = JSON.stringify(port ? { port } : {});
  const reply = await fetch("/api/collect", { method: "POST", body });
  $("collect-note").textContent = reply.ok ? t("collect_asked") : String(reply.status);
});
window.addEventListener("hashchange", showView);

showView();
applyLanguage();
connect();
