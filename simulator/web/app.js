// The simulator's web chat page: pick who you are, talk in the groups and private chats, press the bot's
// buttons, and watch everything live from the simulator's event stream (/_sim/events). No build step.
"use strict";

const state = {
  info: null,
  instance: null,
  lastSeq: 0,
  people: new Map(), // user id -> {user, label, private_chat}
  chats: new Map(), // chat id -> chat (as /_sim/chats describes it)
  messages: new Map(), // chat id -> Map(message id -> message)
  notes: new Map(), // chat id -> [{after, text, warn}] presses and refusals seen live
  unread: new Map(),
  commands: [],
  me: null,
  current: null,
  replyTo: null,
  photo: false,
  myQueries: new Map(), // callback query id -> {chatId, at}
  forceReply: new Set(), // "chat:message" of bot messages that asked for a reply (force_reply)
  lastPress: null,
  events: null,
  reconnecting: false,
  rateLimited: [],
  apiErrors: [],
};

const $ = (id) => document.getElementById(id);
const GROUP_TYPES = new Set(["group", "supergroup"]);
const SCOPE_NAMES = { chat: "单会话超限", group: "单群超限", global: "全局超限" };

// ------------------------------------------------------------------ talking to the simulator

async function api(path, body) {
  const options = body === undefined
    ? { headers: { Accept: "application/json" } }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const data = await response.json();
  if (!data.ok) throw new Error(data.description || `HTTP ${response.status}`);
  return data.result;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function load() {
  const info = await api("/_sim/info");
  state.info = info;
  state.instance = info.instance;
  state.lastSeq = info.last_event_seq;
  const [people, chats, commands] = await Promise.all([
    api("/_sim/people"), api("/_sim/chats"), api("/_sim/commands").catch(() => []),
  ]);
  state.people = new Map(people.map((p) => [p.user.id, p]));
  state.chats = new Map(chats.map((c) => [c.id, c]));
  state.commands = pickCommands(commands);
  state.messages = new Map();
  state.notes = new Map();
  state.unread = new Map();
  await Promise.all(chats.map(async (chat) => {
    const list = await api(`/_sim/messages?chat_id=${chat.id}`);
    state.messages.set(chat.id, new Map(list.map((m) => [m.message_id, m])));
  }));
  document.title = info.title || document.title;
  $("page-title").textContent = info.title || "本地模拟器";
  chooseMe(Number(localStorage.getItem("sim.me")) || null);
  const saved = Number(localStorage.getItem("sim.chat")) || null;
  state.current = saved && (state.chats.has(saved) || saved === state.me) ? saved : firstGroupId();
  renderPeople();
  renderChatList();
  renderConversation();
  connect();
}

function connect() {
  if (state.events) state.events.close();
  setConnection("connecting");
  const events = new EventSource(`/_sim/events?since=${state.lastSeq}`);
  state.events = events;
  events.onopen = () => setConnection("open");
  events.onmessage = (e) => {
    const event = JSON.parse(e.data);
    if (event.seq <= state.lastSeq) return;
    state.lastSeq = event.seq;
    handleEvent(event);
  };
  events.onerror = () => {
    // The browser would resume with Last-Event-ID, but a restarted demo numbers its events afresh:
    // take over, and reload everything when the server is a new one.
    events.close();
    if (state.events === events) state.events = null;
    reconnect();
  };
}

async function reconnect() {
  if (state.reconnecting) return;
  state.reconnecting = true;
  setConnection("lost");
  try {
    for (;;) {
      await sleep(1000);
      try {
        const info = await api("/_sim/info");
        if (info.instance !== state.instance) {
          toast("模拟器已重新启动，正在重新载入…");
          await load();
        } else {
          connect();
        }
        return;
      } catch (err) {
        // not back yet: try again in a second
      }
    }
  } finally {
    state.reconnecting = false;
  }
}

function setConnection(kind) {
  const el = $("conn");
  el.dataset.state = kind;
  el.textContent = { open: "已连接", connecting: "连接中…", lost: "连接中断，正在重连…" }[kind];
}

// ------------------------------------------------------------------ events

function handleEvent(event) {
  switch (event.type) {
    case "message":
    case "edit":
      if (event.client_markup && event.client_markup.force_reply) {
        state.forceReply.add(`${event.chat_id}:${event.message.message_id}`);
      }
      upsertMessage(event.chat_id, event.message, event.type === "edit");
      break;
    case "delete":
      removeMessage(event.chat_id, event.message_id);
      break;
    case "callback_query":
      notePress(event.chat_id, event.callback_query);
      break;
    case "callback_answer":
      answerArrived(event.callback_query_id, event.answer);
      break;
    case "rate_limited":
      rateLimited(event);
      break;
    case "api_error":
      apiError(event);
      break;
    case "chat":
      refreshChat(event.chat_id, event.chat);
      if (event.new_chat_id) refreshChat(event.new_chat_id);
      break;
    case "member":
      rememberUser(event.user);
      refreshChat(event.chat_id);
      break;
    case "commands":
      api("/_sim/commands").then((c) => { state.commands = pickCommands(c); }).catch(() => {});
      break;
    case "reset":
      load().catch(() => reconnect());
      break;
    default:
      break;
  }
}

function rememberUser(user) {
  if (!user || user.is_bot || state.people.has(user.id)) return;
  state.people.set(user.id, { user, label: null, private_chat: false });
  renderPeople();
}

async function refreshChat(chatId, described) {
  try {
    const chat = described || await api(`/_sim/chat?chat_id=${chatId}`);
    state.chats.set(chat.id, chat);
    if (!state.messages.has(chat.id)) state.messages.set(chat.id, new Map());
    renderChatList();
    if (chat.id === state.current) renderHead();
  } catch (err) {
    // the chat may be gone after a reset; the next load brings the truth
  }
}

function upsertMessage(chatId, message, edited) {
  if (!state.messages.has(chatId)) {
    state.messages.set(chatId, new Map());
    if (!state.chats.has(chatId)) refreshChat(chatId);
  }
  rememberUser(message.from);
  const chatMessages = state.messages.get(chatId);
  const known = chatMessages.has(message.message_id);
  chatMessages.set(message.message_id, message);
  if (chatId === state.current) {
    const old = document.querySelector(`.msg[data-message-id="${message.message_id}"]`);
    const el = renderMessage(chatId, message);
    if (old) {
      old.replaceWith(el);
      if (edited) flash(el);
    } else {
      appendToConversation(el);
    }
    if (!known && isBot(message.from) && asksForReply(chatId, message)) {
      const press = state.lastPress;
      if (press && press.chatId === chatId && Date.now() - press.at < 20000) setReply(chatId, message);
    }
  } else if (!known && !edited && message.from.id !== state.me) {
    state.unread.set(chatId, (state.unread.get(chatId) || 0) + 1);
  }
  if (chatId === state.me && !state.chats.has(chatId)) refreshChat(chatId);
  renderChatList();
}

function removeMessage(chatId, messageId) {
  const chatMessages = state.messages.get(chatId);
  if (chatMessages) chatMessages.delete(messageId);
  if (chatId === state.current) {
    const el = document.querySelector(`.msg[data-message-id="${messageId}"]`);
    if (el) el.remove();
  }
  renderChatList();
}

function notePress(chatId, query) {
  const message = query.message || {};
  const label = buttonLabel(message, query.data) || query.data;
  const who = personName(query.from);
  addNote(chatId, `${who} 点了「${label}」`);
}

function answerArrived(queryId, answer) {
  if (!state.myQueries.has(queryId)) return;
  state.myQueries.delete(queryId);
  if (answer && answer.text) toast(answer.text, answer.show_alert);
}

function addNote(chatId, text, warn = false) {
  const list = state.notes.get(chatId) || [];
  const chatMessages = state.messages.get(chatId);
  const after = chatMessages && chatMessages.size ? Math.max(...chatMessages.keys()) : 0;
  const note = { after, text, warn };
  list.push(note);
  state.notes.set(chatId, list.slice(-50));
  if (chatId === state.current) appendToConversation(renderNote(note));
}

function rateLimited(event) {
  const chat = state.chats.get(event.chat_id);
  const where = chat ? chatTitle(chat) : (event.chat_id ? String(event.chat_id) : "");
  state.rateLimited.unshift({ time: event.time, text: `${event.method} · ${where} · ${SCOPE_NAMES[event.scope] || event.scope} · 等 ${event.retry_after} 秒` });
  state.rateLimited = state.rateLimited.slice(0, 30);
  renderEventList("list-429", state.rateLimited, "暂无");
  if (event.chat_id) addNote(event.chat_id, `模拟器对 ${event.method} 回答了 429（${SCOPE_NAMES[event.scope] || event.scope}，${event.retry_after} 秒后再试）`, true);
  const figure = $("count-429");
  figure.textContent = String(Number(figure.textContent || 0) + 1);
}

function apiError(event) {
  state.apiErrors.unshift({ time: event.time, text: `${event.method} → ${event.error_code} ${event.description}` });
  state.apiErrors = state.apiErrors.slice(0, 12);
  renderEventList("list-errors", state.apiErrors, "暂无");
}

// ------------------------------------------------------------------ who am I

function chooseMe(wanted) {
  if (wanted && state.people.has(wanted)) {
    state.me = wanted;
  } else {
    const resident = [...state.people.values()].find((p) => (p.label || "").includes("居民"));
    const first = resident || state.people.values().next().value;
    state.me = first ? first.user.id : null;
  }
  if (state.me) localStorage.setItem("sim.me", String(state.me));
}

function roleOf(person) {
  const label = person.label || "";
  const parts = label.split("·").map((s) => s.trim()).filter(Boolean);
  return parts.length ? parts[parts.length - 1] : "其他";
}

function renderPeople() {
  const select = $("me");
  const groups = new Map();
  for (const person of state.people.values()) {
    if (person.user.is_bot) continue;
    const role = roleOf(person);
    if (!groups.has(role)) groups.set(role, []);
    groups.get(role).push(person);
  }
  select.textContent = "";
  for (const [role, people] of groups) {
    const group = document.createElement("optgroup");
    group.label = role;
    for (const person of people) {
      const option = document.createElement("option");
      option.value = String(person.user.id);
      option.textContent = person.label ? `${personName(person.user)}（${person.label}）` : personName(person.user);
      group.appendChild(option);
    }
    select.appendChild(group);
  }
  if (state.me) select.value = String(state.me);
}

function switchMe(userId) {
  state.me = userId;
  localStorage.setItem("sim.me", String(userId));
  $("me").value = String(userId);
  setReply(null);
  renderChatList();
  renderConversation();
}

async function addResident(name) {
  const ids = [...state.people.keys()].filter((id) => id < 1000000);
  const userId = Math.max(1100, ...ids) + 1;
  const user = await api("/_sim/users", { user_id: userId, first_name: name, label: "新居民" });
  state.people.set(user.id, { user, label: "新居民", private_chat: false });
  renderPeople();
  switchMe(user.id);
  toast(`你现在是新居民 ${name}：在楼栋群里说一句话试试`);
}

// ------------------------------------------------------------------ chat list

function firstGroupId() {
  for (const chat of state.chats.values()) if (GROUP_TYPES.has(chat.type) && !chat.migrated_to_chat_id) return chat.id;
  return state.me;
}

function chatTitle(chat) {
  if (GROUP_TYPES.has(chat.type)) return chat.title || String(chat.id);
  const name = [chat.first_name, chat.last_name].filter(Boolean).join(" ");
  return chat.id === state.me ? "我 · 与机器人私聊" : `私聊 · ${name}`;
}

function lastPreview(chatId) {
  const chatMessages = state.messages.get(chatId);
  if (!chatMessages || !chatMessages.size) return "";
  const last = chatMessages.get(Math.max(...chatMessages.keys()));
  const who = isBot(last.from) ? botName() : personName(last.from);
  return `${who}：${previewOf(last)}`;
}

function renderChatList() {
  const nav = $("chat-list");
  nav.textContent = "";
  const groups = [...state.chats.values()].filter((c) => GROUP_TYPES.has(c.type) && !c.migrated_to_chat_id);
  const privates = [...state.chats.values()].filter((c) => c.type === "private" && c.id !== state.me);
  nav.appendChild(section("群聊"));
  for (const chat of groups) nav.appendChild(chatItem(chat.id, chatTitle(chat), true));
  nav.appendChild(section("私聊（与机器人）"));
  const mine = state.chats.get(state.me);
  const myTitle = "我 · 与机器人私聊";
  if (state.me) nav.appendChild(chatItem(state.me, mine ? chatTitle(mine) : myTitle, false));
  for (const chat of privates) nav.appendChild(chatItem(chat.id, chatTitle(chat), false));
}

function section(text) {
  const el = document.createElement("div");
  el.className = "chat-section";
  el.textContent = text;
  return el;
}

function chatItem(chatId, title, isGroup) {
  const el = document.createElement("div");
  el.className = "chat-item" + (chatId === state.current ? " active" : "");
  el.dataset.chatId = String(chatId);
  el.tabIndex = 0;
  el.setAttribute("role", "button");
  el.appendChild(avatar(isGroup ? title.replace(/^私聊 · |^我 · /, "") : (state.chats.get(chatId) || {}).first_name || "我", chatId, isGroup));
  const main = document.createElement("div");
  main.className = "chat-item-main";
  const titleEl = document.createElement("div");
  titleEl.className = "chat-item-title";
  titleEl.textContent = title;
  const last = document.createElement("div");
  last.className = "chat-item-last";
  last.textContent = lastPreview(chatId) || (chatId === state.me ? "发送 /start 开始" : "");
  main.append(titleEl, last);
  el.appendChild(main);
  const unread = state.unread.get(chatId);
  if (unread) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = String(unread);
    el.appendChild(badge);
  }
  el.addEventListener("click", () => selectChat(chatId));
  el.addEventListener("keydown", (e) => { if (e.key === "Enter") selectChat(chatId); });
  return el;
}

function selectChat(chatId) {
  state.current = chatId;
  localStorage.setItem("sim.chat", String(chatId));
  state.unread.delete(chatId);
  setReply(null);
  $("app").classList.add("show-chat");
  renderChatList();
  renderConversation();
  $("composer-text").focus();
}

// ------------------------------------------------------------------ conversation

function renderHead() {
  const chat = state.chats.get(state.current);
  const become = $("become");
  become.hidden = !(chat && chat.type === "private" && chat.id !== state.me && state.people.has(chat.id));
  if (!become.hidden) become.textContent = `切换为 ${chat.first_name}`;
  if (!chat) {
    $("conv-title").textContent = state.current === state.me ? "我 · 与机器人私聊" : "选择一个会话";
    $("conv-sub").textContent = state.current === state.me ? `${botName()} · 还没有消息` : "";
    return;
  }
  $("conv-title").textContent = chatTitle(chat);
  if (GROUP_TYPES.has(chat.type)) {
    const present = Object.values(chat.members || {}).filter((s) => ["creator", "administrator", "member", "restricted"].includes(s)).length;
    $("conv-sub").textContent = `${chat.type === "supergroup" ? "超级群" : "群"} · ${present} 位成员 · 机器人：${botStatusName(chat.bot_status)}`;
  } else {
    $("conv-sub").textContent = `${botName()} · ${chat.blocked ? "已屏蔽机器人" : chat.started ? "已开始" : "尚未开始"}`;
  }
}

function renderConversation() {
  renderHead();
  const box = $("messages");
  box.textContent = "";
  const chatId = state.current;
  const chatMessages = state.messages.get(chatId) || new Map();
  const notes = state.notes.get(chatId) || [];
  const ids = [...chatMessages.keys()].sort((a, b) => a - b);
  let n = 0;
  for (const id of ids) {
    while (n < notes.length && notes[n].after < id) box.appendChild(renderNote(notes[n++]));
    box.appendChild(renderMessage(chatId, chatMessages.get(id)));
  }
  while (n < notes.length) box.appendChild(renderNote(notes[n++]));
  if (!ids.length) {
    const empty = document.createElement("div");
    empty.className = "empty";
    empty.textContent = chatId === state.me ? "这是你和机器人的私聊。发送 /start 开始，或 /help 看看能做什么。" : "还没有消息。";
    box.appendChild(empty);
  }
  box.scrollTop = box.scrollHeight;
  updateComposer();
}

function appendToConversation(el) {
  const box = $("messages");
  const empty = box.querySelector(".empty");
  if (empty) empty.remove();
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 160;
  box.appendChild(el);
  if (nearBottom || el.classList.contains("mine")) box.scrollTop = box.scrollHeight;
}

function renderNote(note) {
  const el = document.createElement("div");
  el.className = "note" + (note.warn ? " warn" : "");
  el.textContent = note.text;
  return el;
}

function renderMessage(chatId, message) {
  const service = serviceText(message);
  if (service) {
    const el = document.createElement("div");
    el.className = "note msg-service";
    el.dataset.messageId = String(message.message_id);
    el.textContent = service;
    return el;
  }
  const fromBot = isBot(message.from);
  const mine = !fromBot && message.from.id === state.me;
  const el = document.createElement("div");
  el.className = "msg" + (fromBot ? " bot" : "") + (mine ? " mine" : " other");
  el.dataset.messageId = String(message.message_id);
  el.appendChild(avatar(fromBot ? botName() : personName(message.from), message.from.id, false, fromBot));
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  if (!mine) {
    const who = document.createElement("div");
    who.className = "who";
    who.style.color = colorFor(message.from.id, fromBot);
    who.textContent = fromBot ? botName() : personName(message.from);
    const label = fromBot ? "机器人" : (state.people.get(message.from.id) || {}).label;
    if (label) {
      const span = document.createElement("span");
      span.className = "label";
      span.textContent = label;
      who.appendChild(span);
    }
    bubble.appendChild(who);
  }
  if (message.reply_to_message) bubble.appendChild(renderQuote(chatId, message.reply_to_message));
  bubble.appendChild(renderBody(message));
  const markup = message.reply_markup || {};
  if (markup.inline_keyboard) bubble.appendChild(renderKeyboard(chatId, message));
  if (fromBot && asksForReply(chatId, message)) {
    const hint = document.createElement("div");
    hint.className = "force-reply";
    hint.textContent = "↩ 机器人请你回复这条消息（点这里）";
    hint.addEventListener("click", () => setReply(chatId, message));
    bubble.appendChild(hint);
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  const reply = document.createElement("span");
  reply.className = "reply-action";
  reply.textContent = "回复";
  reply.addEventListener("click", () => setReply(chatId, message));
  const time = document.createElement("span");
  time.textContent = clock(message.date) + (message.edit_date ? " · 已编辑" : "");
  meta.append(reply, time);
  bubble.appendChild(meta);
  el.appendChild(bubble);
  return el;
}

function renderQuote(chatId, original) {
  const quote = document.createElement("div");
  quote.className = "quote";
  const who = document.createElement("span");
  who.className = "quote-who";
  who.textContent = isBot(original.from) ? botName() : personName(original.from);
  const text = document.createElement("span");
  text.className = "quote-text";
  const current = (state.messages.get(chatId) || new Map()).get(original.message_id) || original;
  text.textContent = previewOf(current);
  quote.append(who, text);
  quote.addEventListener("click", () => {
    const target = document.querySelector(`.msg[data-message-id="${original.message_id}"]`);
    if (target) {
      target.scrollIntoView({ block: "center", behavior: "smooth" });
      flash(target);
    }
  });
  return quote;
}

function renderBody(message) {
  const body = document.createDocumentFragment();
  if (message.photo && message.photo.length) {
    const largest = message.photo[message.photo.length - 1];
    const img = document.createElement("img");
    img.className = "photo";
    img.alt = "图片";
    img.loading = "lazy";
    img.src = `/_sim/file?file_id=${encodeURIComponent(largest.file_id)}`;
    img.addEventListener("click", () => window.open(img.src, "_blank"));
    body.appendChild(img);
  }
  if (message.document) {
    const doc = message.document;
    const box = document.createElement("div");
    box.className = "doc";
    const link = document.createElement("a");
    const name = doc.file_name || "文件";
    link.href = `/_sim/file?file_id=${encodeURIComponent(doc.file_id)}&name=${encodeURIComponent(name)}`;
    link.download = name;
    link.textContent = `📄 ${name}`;
    const size = document.createElement("span");
    size.className = "muted";
    size.textContent = humanSize(doc.file_size || 0) + " · 下载";
    box.append(link, size);
    body.appendChild(box);
  }
  if (message.forward_origin) {
    const origin = document.createElement("div");
    origin.className = "muted";
    origin.textContent = `↪ 转发自 ${message.forward_origin.sender_user_name || "其他聊天"}`;
    body.appendChild(origin);
  }
  if (message.location) {
    const pin = document.createElement("div");
    pin.className = "doc";
    pin.textContent = `📍 ${message.location.latitude.toFixed(5)}, ${message.location.longitude.toFixed(5)}`;
    body.appendChild(pin);
  }
  if (message.sticker) {
    const sticker = document.createElement("div");
    sticker.className = "sticker";
    sticker.textContent = message.sticker.emoji || "🙂";
    body.appendChild(sticker);
  }
  const text = message.text ?? message.caption;
  if (text) {
    const el = document.createElement("div");
    el.className = "text";
    el.appendChild(renderText(text, message.entities || message.caption_entities || []));
    body.appendChild(el);
  }
  return body;
}

function renderText(text, entities) {
  // Entity offsets count UTF-16 code units, which is what JavaScript strings index by.
  const out = document.createDocumentFragment();
  const sorted = [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
  let at = 0;
  for (const entity of sorted) {
    if (entity.offset < at) continue; // nested entities are shown as their outer one
    if (entity.offset > at) out.appendChild(document.createTextNode(text.slice(at, entity.offset)));
    const part = text.slice(entity.offset, entity.offset + entity.length);
    out.appendChild(entityElement(entity, part));
    at = entity.offset + entity.length;
  }
  if (at < text.length) out.appendChild(document.createTextNode(text.slice(at)));
  return out;
}

function entityElement(entity, part) {
  const tags = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre", blockquote: "blockquote" };
  if (tags[entity.type]) {
    const el = document.createElement(tags[entity.type]);
    el.textContent = part;
    return el;
  }
  if (entity.type === "url" || entity.type === "text_link") {
    const link = document.createElement("a");
    const href = entity.type === "url" ? part : entity.url;
    link.href = /^https?:\/\//i.test(href) ? href : `http://${href}`;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = part;
    return link;
  }
  if (entity.type === "bot_command") {
    const el = document.createElement("span");
    el.className = "cmd";
    el.title = "点击发送这个命令";
    el.textContent = part;
    el.addEventListener("click", () => sendText(part));
    return el;
  }
  return document.createTextNode(part);
}

function renderKeyboard(chatId, message) {
  const kb = document.createElement("div");
  kb.className = "kb";
  for (const row of message.reply_markup.inline_keyboard) {
    const rowEl = document.createElement("div");
    rowEl.className = "kb-row";
    for (const button of row) {
      if (button.url) {
        const link = document.createElement("a");
        link.href = /^(https?|tg):/i.test(button.url) ? button.url : "#";
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        link.textContent = button.text;
        const deepLink = /^https:\/\/t\.me\/[A-Za-z0-9_]+\?start=([A-Za-z0-9_-]{1,64})$/.exec(button.url);
        if (deepLink) {
          // a t.me deep link to the bot: open the private chat here, as Telegram would, with /start <param>
          link.addEventListener("click", (event) => {
            event.preventDefault();
            startWithBot(deepLink[1]);
          });
        }
        rowEl.appendChild(link);
        continue;
      }
      const el = document.createElement("button");
      el.type = "button";
      el.textContent = button.text;
      el.dataset.callbackData = button.callback_data || "";
      el.addEventListener("click", () => press(chatId, message, button, el));
      rowEl.appendChild(el);
    }
    kb.appendChild(rowEl);
  }
  return kb;
}

function serviceText(message) {
  const who = message.from ? personName(message.from) : "";
  if (message.new_chat_members) return `${message.new_chat_members.map(personName).join("、")} 加入了群聊`;
  if (message.left_chat_member) return `${personName(message.left_chat_member)} 离开了群聊`;
  if (message.migrate_to_chat_id) return "本群已升级为超级群";
  if (message.migrate_from_chat_id) return "本群由普通群升级而来";
  if (message.pinned_message) return `${who} 置顶了一条消息：${previewOf(message.pinned_message)}`;
  if (message.new_chat_title) return `${who} 把群名改为「${message.new_chat_title}」`;
  if (message.group_chat_created || message.supergroup_chat_created) return `${who} 创建了群`;
  return null;
}

// ------------------------------------------------------------------ acting

async function press(chatId, message, button, el) {
  if (!state.me) return toast("先在左上角选择“我是谁”");
  el.classList.add("pending");
  try {
    const result = await api("/_sim/press_button", {
      chat_id: chatId, message_id: message.message_id, user_id: state.me, callback_data: button.callback_data,
    });
    state.myQueries.set(result.callback_query_id, { chatId, at: Date.now() });
    state.lastPress = { chatId, at: Date.now() };
  } catch (err) {
    toast(`按钮没有按成：${err.message}`);
  } finally {
    setTimeout(() => el.classList.remove("pending"), 1500);
  }
}

async function startWithBot(param) {
  if (!state.me) return toast("先在左上角选择“我是谁”");
  try {
    const sent = await api("/_sim/send_message", { chat_id: state.me, user_id: state.me, text: `/start ${param}` });
    await refreshChat(state.me);
    selectChat(state.me);
    upsertMessage(state.me, sent, false);
  } catch (err) {
    toast(`没能打开私聊：${err.message}`);
  }
}

async function sendText(text) {
  const chatId = state.current;
  if (!canWriteHere()) return toast(writeHint());
  const body = { chat_id: chatId, user_id: state.me };
  if (state.photo) {
    body.photo = true;
    if (text) body.caption = text;
  } else {
    body.text = text;
  }
  if (state.replyTo && state.replyTo.chatId === chatId) body.reply_to_message_id = state.replyTo.message.message_id;
  const sent = await api("/_sim/send_message", body);
  setReply(null);
  setPhoto(false);
  if (state.current === chatId) upsertMessage(chatId, sent, false);
  return sent;
}

function canWriteHere() {
  if (!state.me || state.current === null) return false;
  const chat = state.chats.get(state.current);
  if (state.current === state.me) return true;
  return Boolean(chat && GROUP_TYPES.has(chat.type) && !chat.migrated_to_chat_id);
}

function writeHint() {
  const chat = state.chats.get(state.current);
  if (chat && chat.type === "private") return `这是 ${chat.first_name} 与机器人的私聊：切换为 ${chat.first_name} 才能在这里说话`;
  return "先选择“我是谁”和一个会话";
}

function updateComposer() {
  const ok = canWriteHere();
  const input = $("composer-text");
  input.disabled = !ok;
  $("send").disabled = !ok;
  input.placeholder = ok ? `以 ${personName((state.people.get(state.me) || {}).user)} 的身份说点什么…（回车发送）` : writeHint();
}

function setReply(chatId, message) {
  state.replyTo = message ? { chatId, message } : null;
  $("reply-bar").hidden = !message;
  if (message) {
    $("reply-bar-who").textContent = isBot(message.from) ? botName() : personName(message.from);
    $("reply-bar-snippet").textContent = previewOf(message);
    $("composer-text").focus();
  }
}

function setPhoto(on) {
  state.photo = on;
  $("photo-button").setAttribute("aria-pressed", on ? "true" : "false");
}

// ------------------------------------------------------------------ the limits panel

async function pollStats() {
  for (;;) {
    try {
      renderStats(await api("/_sim/stats"));
    } catch (err) {
      // the server is restarting; the event stream's reconnect will report it
    }
    await sleep(1500);
  }
}

function renderStats(stats) {
  const limits = stats.limits || {};
  const now = Math.floor(Date.now() / 1000);
  const perSecond = stats.per_second || {};
  $("rate-now").textContent = String(Math.max(perSecond[now] || 0, perSecond[now - 1] || 0));
  const spark = $("spark");
  spark.textContent = "";
  const values = [];
  for (let t = now - 29; t <= now; t++) values.push(perSecond[t] || 0);
  const top = Math.max(limits.global_per_s || 30, ...values);
  for (const v of values) {
    const bar = document.createElement("div");
    bar.style.height = `${Math.round((v / top) * 100)}%`;
    bar.title = `${v} 条/秒`;
    spark.appendChild(bar);
  }
  const off = limits.enabled === false;
  $("lim-global").textContent = off ? "已关闭" : `${limits.global_per_s} 条/秒`;
  $("lim-chat").textContent = off ? "已关闭" : `${limits.per_chat_per_s} 条/秒（可连发 ${limits.per_chat_burst}）`;
  $("lim-group").textContent = off ? "已关闭" : `${limits.per_group_per_min} 条/分钟`;
  $("peak-global").textContent = `${stats.max_global_per_s} 条/秒`;
  $("peak-chat").textContent = `${stats.max_rate_per_chat_per_s} 条/秒`;
  $("peak-group").textContent = `${stats.max_per_group_per_min} 条/分钟`;
  $("sent").textContent = `${stats.sent} / ${stats.edits}`;
  $("pending").textContent = String(stats.updates_pending);
  $("count-429").textContent = String(stats["429"] || 0);
}

function renderEventList(id, items, emptyText) {
  const list = $(id);
  list.textContent = "";
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = emptyText;
    list.appendChild(li);
  }
  for (const item of items) {
    const li = document.createElement("li");
    li.textContent = `${clock(item.time)} ${item.text}`;
    list.appendChild(li);
  }
}

// ------------------------------------------------------------------ small helpers

function asksForReply(chatId, message) {
  return state.forceReply.has(`${chatId}:${message.message_id}`);
}

function isBot(user) {
  return Boolean(user && user.is_bot);
}

function botName() {
  return (state.info && state.info.bot && state.info.bot.first_name) || "机器人";
}

function personName(user) {
  if (!user) return "";
  return [user.first_name, user.last_name].filter(Boolean).join(" ") || String(user.id);
}

function botStatusName(status) {
  return { member: "成员", administrator: "管理员", left: "已退出", kicked: "已被移出" }[status] || status;
}

function previewOf(message) {
  if (!message) return "";
  if (message.text) return message.text.replace(/\s+/g, " ").slice(0, 80);
  if (message.photo) return "[图片]" + (message.caption ? " " + message.caption : "");
  if (message.document) return `[文件] ${message.document.file_name || ""}`;
  if (message.sticker) return `[贴纸] ${message.sticker.emoji || ""}`;
  return serviceText(message) || "[消息]";
}

function buttonLabel(message, data) {
  for (const row of (message.reply_markup || {}).inline_keyboard || []) {
    for (const button of row) if (button.callback_data === data) return button.text;
  }
  return null;
}

function pickCommands(entries) {
  const fallback = entries.find((e) => e.scope && e.scope.type === "default" && !e.language_code) || entries[0];
  return fallback ? fallback.commands : [];
}

function colorFor(id, bot) {
  if (bot) return "#2f7de1";
  const hue = (Math.abs(Number(id)) * 47) % 360;
  return `hsl(${hue}, 55%, 42%)`;
}

function avatar(name, id, group, bot = false) {
  const el = document.createElement("div");
  el.className = "avatar" + (group ? " group" : "");
  el.style.background = bot ? "#2f7de1" : group ? "#5b8def" : colorFor(id, false);
  el.textContent = (name || "?").trim().charAt(0) || "?";
  return el;
}

function clock(seconds) {
  const d = new Date(seconds * 1000);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function flash(el) {
  el.classList.remove("flash");
  void el.offsetWidth; // restart the animation
  el.classList.add("flash");
}

let toastTimer = null;
function toast(text, alert = false) {
  const el = $("toast");
  el.textContent = text;
  el.className = "toast" + (alert ? " alert" : "");
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, alert ? 5000 : 2600);
}

// ------------------------------------------------------------------ wiring

function wire() {
  $("me").addEventListener("change", (e) => switchMe(Number(e.target.value)));
  $("new-resident").addEventListener("click", () => {
    $("new-resident-form").hidden = false;
    $("new-resident-name").focus();
  });
  $("new-resident-cancel").addEventListener("click", () => { $("new-resident-form").hidden = true; });
  $("new-resident-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = $("new-resident-name").value.trim();
    if (!name) return;
    try {
      await addResident(name);
      $("new-resident-form").hidden = true;
      $("new-resident-name").value = "";
    } catch (err) {
      toast(`没有加成：${err.message}`);
    }
  });
  $("composer").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("composer-text");
    const text = input.value.trim();
    if (!text && !state.photo) return;
    try {
      await sendText(text);
      input.value = "";
      input.style.height = "";
    } catch (err) {
      toast(`没有发出去：${err.message}`);
    }
  });
  $("composer-text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("composer-text").addEventListener("input", (e) => {
    e.target.style.height = "";
    e.target.style.height = `${Math.min(e.target.scrollHeight, 140)}px`;
  });
  $("reply-cancel").addEventListener("click", () => setReply(null));
  $("photo-button").addEventListener("click", () => setPhoto(!state.photo));
  $("commands-button").addEventListener("click", () => {
    const menu = $("commands-menu");
    menu.textContent = "";
    for (const command of state.commands) {
      const item = document.createElement("button");
      item.type = "button";
      const name = document.createElement("b");
      name.textContent = `/${command.command}`;
      item.append(name, document.createTextNode(command.description || ""));
      item.addEventListener("click", () => {
        const input = $("composer-text");
        input.value = `/${command.command} `;
        menu.hidden = true;
        input.focus();
      });
      menu.appendChild(item);
    }
    if (!state.commands.length) menu.appendChild(section("机器人还没有设置命令"));
    menu.hidden = !menu.hidden;
  });
  $("back").addEventListener("click", () => $("app").classList.remove("show-chat"));
  $("become").addEventListener("click", () => switchMe(state.current));
  const toggleLimits = () => $("app").classList.toggle("limits-hidden");
  $("toggle-limits").addEventListener("click", toggleLimits);
  $("toggle-limits-2").addEventListener("click", toggleLimits);
  $("limits-close").addEventListener("click", () => $("app").classList.add("limits-hidden"));
  // On a narrow window the panel is a drawer over the chats: closed until asked for.
  const narrow = window.matchMedia("(max-width: 1100px)");
  const fit = () => $("app").classList.toggle("limits-hidden", narrow.matches);
  narrow.addEventListener("change", fit);
  fit();
}

async function start() {
  wire();
  for (;;) {
    try {
      await load();
      break;
    } catch (err) {
      setConnection("lost");
      await sleep(1000);
    }
  }
  pollStats();
}

start();
