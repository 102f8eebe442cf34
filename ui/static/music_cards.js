// The recommended tracks as one element (ui/music_cards.py): a card per track with its title, artists, like
// and dislike, the "Open in Spotify" link and why it was picked, the vote's confirmation with Undo, and the
// Spotify player. Built with textContent and setAttribute only: titles and artists come from a catalog.
// A vote is sent as the trigger "vote" = {track, value} (1 like, -1 dislike, 0 undo); Python stores it and
// sends the cards again. Cards are updated in place by key, so a player keeps playing through a vote.

const SVG = "http://www.w3.org/2000/svg";
// Material Icons (Apache License 2.0, Google): thumb_up, thumb_down, undo, check_circle, block.
const ICONS = {
  up: "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z",
  down: "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z",
  undo: "M12.5 8c-2.65 0-5.05.99-6.9 2.6L2 7v9h9l-3.62-3.62c1.39-1.16 3.16-1.88 5.12-1.88 3.54 0 6.55 2.31 7.6 5.5l2.37-.78C21.08 11.03 17.15 8 12.5 8z",
  liked: "M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm-2 15l-5-5 1.41-1.41L10 14.17l7.59-7.59L19 8l-9 9z",
  disliked: "M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zM4 12c0-4.42 3.58-8 8-8 1.85 0 3.55.63 4.9 1.69L5.69 16.9C4.63 15.55 4 13.85 4 12zm8 8c-1.85 0-3.55-.63-4.9-1.69L18.31 7.1C19.37 8.45 20 10.15 20 12c0 4.42-3.58 8-8 8z",
};
ICONS.removed = ICONS.undo;
const SANDBOX = "allow-forms allow-popups allow-popups-to-escape-sandbox allow-same-origin allow-scripts";
const PLAYER_ALLOW = "autoplay; clipboard-write; encrypted-media; fullscreen; picture-in-picture";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", ICONS[name]);
  svg.appendChild(path);
  return svg;
}

function safeUrl(url, prefix) {
  return typeof url === "string" && url.startsWith(prefix) ? url : "";
}

function build(card, send) {
  const root = el("div", "card");
  root.dataset.key = card.key;
  const head = el("div", "head");
  const names = el("div", "names");
  names.append(el("strong", "title"), el("span", "artists"));
  const up = el("button", "vote up");
  const down = el("button", "vote down");
  up.type = down.type = "button";
  up.appendChild(icon("up"));
  down.appendChild(icon("down"));
  up.addEventListener("click", () => send(root, card.track, 1));
  down.addEventListener("click", () => send(root, card.track, -1));
  head.append(names, up, down);
  const meta = el("p", "meta");
  const link = el("a", "open", "Open in Spotify");
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  meta.append(link, el("span", "why"));
  const note = el("div", "note");
  const undo = el("button", "undo");
  undo.type = "button";
  undo.append(icon("undo"), el("span", "", "Undo"));
  undo.addEventListener("click", () => send(root, card.track, 0));
  note.append(el("span", "mark"), el("span", "said"), undo);
  root.append(head, meta, note);
  return root;
}

function update(root, card, labels) {
  root.querySelector(".title").textContent = card.title;
  root.querySelector(".artists").textContent = card.artists;
  for (const [name, value] of [["up", 1], ["down", -1]]) {
    const button = root.querySelector(`.vote.${name}`);
    const label = labels[name];
    button.setAttribute("aria-label", label);
    button.title = label;
    button.setAttribute("aria-pressed", String(card.vote === value));
    button.classList.toggle("chosen", card.vote === value);
    button.disabled = false;
  }
  const link = root.querySelector(".open");
  link.href = safeUrl(card.url, "https://open.spotify.com/") || "https://open.spotify.com/";
  root.querySelector(".why").textContent = card.why ? ` · ${card.why}` : "";
  const note = root.querySelector(".note");
  note.hidden = !card.note;
  const mark = root.querySelector(".mark");
  mark.replaceChildren(...(card.note_icon in ICONS ? [icon(card.note_icon)] : []));
  root.querySelector(".said").textContent = card.note || "";
  const undo = root.querySelector(".undo");
  undo.hidden = !card.undo;
  undo.disabled = false;
  const src = safeUrl(card.embed, "https://open.spotify.com/embed/");
  let player = root.querySelector("iframe");
  if (!src && player) player.remove();
  if (src && (!player || player.getAttribute("src") !== src)) {
    if (player) player.remove();
    player = el("iframe", "player");
    player.setAttribute("sandbox", SANDBOX);
    player.setAttribute("allow", PLAYER_ALLOW);
    player.setAttribute("loading", "lazy");
    player.setAttribute("tabindex", "-1");
    player.setAttribute("height", String(labels.player_height));
    player.setAttribute("src", src);
    root.appendChild(player);
  }
  if (player) player.title = `Spotify player: ${card.title} by ${card.artists}`;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const list = parentElement.querySelector(".cards");
  if (!list || !data) return;
  const send = (card, track, value) => {
    for (const button of card.querySelectorAll("button")) button.disabled = true; // until the new cards arrive
    setTriggerValue("vote", { track, value });
  };
  const existing = new Map([...list.children].map((node) => [node.dataset.key, node]));
  const wanted = [];
  for (const card of data.cards || []) {
    const root = existing.get(card.key) || build(card, send);
    existing.delete(card.key);
    update(root, card, data.labels);
    wanted.push(root);
  }
  for (const gone of existing.values()) gone.remove();
  wanted.forEach((node, i) => {
    if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
  });
}
