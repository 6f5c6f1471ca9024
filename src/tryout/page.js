"use strict";
// The try-out page: draws what the server says each person sees, and turns the command box,
// the buttons and the clock into requests. Redraws whenever the server's event stream ticks.
(function () {
  const acting = document.getElementById("acting-as");
  const messages = document.getElementById("messages");
  const dmMessages = document.getElementById("dm-messages");
  const form = document.getElementById("command-form");
  const box = document.getElementById("command");
  const help = document.getElementById("command-help");
  const suggestions = document.getElementById("command-suggestions");
  const jump = document.getElementById("jump");
  const jumpResult = document.getElementById("jump-result");
  let calls = [];
  // Channel and thread names by id, for <#id> mentions.
  let channelNames = {};
  // The button last pressed, until focus has been given back after the redraw.
  let pressed = null;
  let drawing = false;
  let again = false;

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) if (child) node.appendChild(child);
    return node;
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.message || "Something went wrong.");
    return answer;
  }

  // Discord's markdown as careprompt uses it: [links](url), **bold**, *italics*, `code` and
  // <#channel>.
  function inline(text) {
    const out = document.createDocumentFragment();
    const pattern = /\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)|\*\*([^*]+)\*\*|`([^`]+)`|<#(\d+)>|\*(?![\s*])([^*\n]+?)(?<!\s)\*/g;
    let at = 0;
    let match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > at) out.appendChild(document.createTextNode(text.slice(at, match.index)));
      if (match[1]) out.appendChild(el("a", { href: match[2], target: "_blank", rel: "noopener", text: match[1] }));
      else if (match[3]) out.appendChild(el("strong", { text: match[3] }));
      else if (match[4]) out.appendChild(el("code", { text: match[4] }));
      else if (match[6]) out.appendChild(el("em", { text: match[6] }));
      else out.appendChild(el("span", { class: "mention", text: "#" + (channelNames[match[5]] || "unknown-channel") }));
      at = pattern.lastIndex;
    }
    if (at < text.length) out.appendChild(document.createTextNode(text.slice(at)));
    return out;
  }

  function rich(tag, attrs, text) {
    const node = el(tag, attrs);
    node.appendChild(inline(text || ""));
    return node;
  }

  function colour(value) {
    return typeof value === "number" ? "#" + value.toString(16).padStart(6, "0") : null;
  }

  function embed(data, files) {
    const parts = [];
    const title = data.title || "";
    if (title) {
      parts.push(el("h3", {}, [data.url ? el("a", { href: data.url, target: "_blank", rel: "noopener", text: title }) : document.createTextNode(title)]));
    }
    if (data.author && data.author.name) parts.push(el("p", { class: "footer", text: data.author.name }));
    if (data.description) parts.push(rich("p", {}, data.description));
    if (data.fields && data.fields.length) {
      const list = el("dl");
      for (const field of data.fields) {
        list.appendChild(rich("dt", {}, field.name));
        list.appendChild(rich("dd", {}, field.value));
      }
      parts.push(list);
    }
    const image = data.image && data.image.url;
    if (image) {
      const name = image.startsWith("attachment://") ? image.slice(13) : null;
      const file = name && files.find((f) => f.name === name);
      if (file) parts.push(el("img", { src: file.url, alt: data.title ? "Picture: " + data.title : "Picture careprompt attached" }));
    }
    if (data.footer && data.footer.text) parts.push(el("p", { class: "footer", text: data.footer.text }));
    const box = el("div", { class: "embed" }, parts);
    const bar = colour(data.color);
    if (bar) box.style.borderLeftColor = bar;
    return box;
  }

  function buttons(message) {
    const row = el("div", { class: "buttons" });
    const walk = (components) => {
      for (const c of components || []) {
        if (c.type === 2) {
          if (c.style === 5 && c.url) {
            row.appendChild(el("a", { class: "link-button", href: c.url, target: "_blank", rel: "noopener", text: (c.label || "Open") + " ↗" }));
          } else {
            const label = c.label || (c.emoji && c.emoji.name) || "Button";
            const button = el("button", { type: "button", class: "style-" + c.style, "data-key": message.id + ":" + c.custom_id, "data-label": label, text: label });
            if (c.disabled) button.disabled = true;
            button.addEventListener("click", () => click(message.id, c.custom_id, button));
            row.appendChild(button);
          }
        }
        walk(c.components);
      }
    };
    walk(message.components);
    return row.children.length ? row : null;
  }

  function drawMessage(message) {
    const meta = el("p", { class: "meta" }, [el("span", { class: "author", text: "careprompt" }), el("span", { class: "badge", text: "APP" })]);
    const item = el("li", { class: "message" + (message.private ? " private" : "") });
    if (message.used) item.appendChild(el("p", { class: "meta", text: message.used }));
    item.appendChild(meta);
    if (message.thinking) item.appendChild(el("p", { class: "content", text: "careprompt is thinking…" }));
    if (message.content) item.appendChild(rich("p", { class: "content" }, message.content));
    const files = message.files || [];
    for (const e of message.embeds || []) item.appendChild(embed(e, files));
    for (const file of files) {
      const shownAsPicture = (message.embeds || []).some((e) => e.image && e.image.url === "attachment://" + file.name);
      const link = el("a", { href: file.url, download: file.name, text: "Download " + file.name + " (" + Math.max(1, Math.round(file.size / 1024)) + " KB)" });
      const children = [link];
      if (file.image && !shownAsPicture) children.push(el("img", { src: file.url, alt: "Picture " + file.name }));
      item.appendChild(el("div", { class: "file" }, children));
    }
    const row = buttons(message);
    if (row) item.appendChild(row);
    if (message.private) item.appendChild(el("p", { class: "only-you", text: "Only you can see this" }));
    return item;
  }

  // A thread careprompt opened (a reflective session) shows where it started, with its own
  // messages inside, as Discord shows a thread under its channel.
  function drawThread(entry) {
    const thread = entry.thread;
    const name = thread.name + (thread.archived ? " (archived)" : "");
    const list = el("ol", { class: "messages thread-messages", "aria-label": "Messages in the thread " + name });
    list.replaceChildren(...(thread.messages.length ? thread.messages.map(drawMessage) : [el("li", { class: "empty", text: "No messages in this thread yet." })]));
    const heading = el("p", { class: "thread-name", text: "Thread: " + name });
    return el("li", { class: "thread" + (thread.archived ? " archived" : "") }, [heading, list]);
  }

  function drawItem(item) {
    return item.thread ? drawThread(item) : drawMessage(item);
  }

  // Redraws a list only when what it shows changed, and gives focus back to the button that
  // had it, so a keyboard user is not thrown to the top of the page by someone else's post.
  function fill(list, items, empty) {
    const shown = JSON.stringify(items);
    if (list.dataset.shown === shown) return;
    list.dataset.shown = shown;
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    list.replaceChildren(...(items.length ? items.map(drawItem) : [el("li", { class: "empty", text: empty })]));
    if (focused) {
      const again = list.querySelector('[data-key="' + CSS.escape(focused) + '"]');
      if (again) { again.focus(); return; }
    }
    // A pressed button is disabled while careprompt answers, which takes focus from it. Give it
    // back to that button, or, where its card was replaced by the next one (a session's Next),
    // to the same button on the newest card, so a keyboard user carries on from there.
    if (pressed && list.contains(pressed.list)) {
      const same = list.querySelector('[data-key="' + CSS.escape(pressed.key) + '"]');
      const alike = [...list.querySelectorAll("button[data-label]")].filter((b) => b.dataset.label === pressed.label && !b.disabled);
      const target = same && !same.disabled ? same : alike[alike.length - 1];
      if (target) { pressed = null; target.focus(); return; }
    }
    // Like Discord, show the newest message; the command box keeps the focus it had.
    if (list.lastElementChild && list === messages) list.lastElementChild.scrollIntoView({ block: "nearest" });
  }

  async function draw() {
    if (drawing) { again = true; return; }
    drawing = true;
    try {
      do {
        again = false;
        const response = await fetch("/api/view?as=" + encodeURIComponent(acting.value));
        if (!response.ok) break;
        const view = await response.json();
        channelNames = view.channel_names || {};
        document.getElementById("server-name").textContent = view.server;
        document.getElementById("now").textContent = view.now;
        document.getElementById("next-post").textContent = view.next_post || "no schedule yet";
        document.getElementById("dm-name").textContent = view.me.name;
        fill(messages, view.channel, "No messages yet. As Sam, try /schedule set, then Jump to the next post.");
        fill(dmMessages, view.dms, "No direct messages. /optin sends the channel's posts here too.");
        document.body.dataset.drawn = String(Number(document.body.dataset.drawn || 0) + 1);
      } while (again);
    } finally {
      drawing = false;
    }
  }

  async function click(messageId, customId, button) {
    pressed = { key: button.dataset.key, label: button.dataset.label, list: button.closest("#messages, #dm-messages") };
    button.disabled = true;
    try {
      await post("/api/click", { as: acting.value, message_id: messageId, custom_id: customId });
    } catch (err) {
      help.textContent = err.message;
    }
    draw();
  }

  function hint() {
    const typed = box.value.trim().replace(/^\//, "");
    const match = calls.filter((c) => typed.startsWith(c.call.slice(1))).sort((a, b) => b.call.length - a.call.length)[0];
    if (!typed) { help.textContent = "Start with / to see careprompt's commands."; return; }
    if (!match) {
      const some = calls.filter((c) => c.call.slice(1).startsWith(typed.split(" ")[0])).map((c) => c.call);
      help.textContent = some.length ? "Commands: " + some.slice(0, 8).join(", ") : "careprompt has no command starting like that.";
      return;
    }
    const options = match.options.map((o) => o.name + ":" + (o.choices ? "(" + o.choices.join(" | ") + ")" : "") + (o.required ? "" : " (optional)"));
    help.textContent = match.call + ": " + (match.description || "") + (options.length ? " Options: " + options.join(", ") : "");
  }

  async function loadCommands() {
    const response = await fetch("/api/commands");
    calls = await response.json();
    suggestions.replaceChildren(...calls.map((c) => el("option", { value: c.call + (c.options.some((o) => o.required) ? " " + c.options.filter((o) => o.required).map((o) => o.name + ":").join(" ") : "") }, [])));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = box.value;
    if (!text.trim()) { help.textContent = "Type a command, such as /help."; return; }
    box.disabled = true;
    help.textContent = "Sent to careprompt…";
    try {
      await post("/api/command", { as: acting.value, text });
      box.value = "";
      help.textContent = "Start with / to see careprompt's commands.";
    } catch (err) {
      help.textContent = err.message;
    } finally {
      box.disabled = false;
      box.focus();
    }
    draw();
  });
  box.addEventListener("input", hint);
  acting.addEventListener("change", draw);
  // One jump at a time: a double click must not skip a post.
  jump.addEventListener("click", async () => {
    if (jump.getAttribute("aria-disabled") === "true") return;
    jump.setAttribute("aria-disabled", "true");
    jumpResult.textContent = "Moving careprompt's clock…";
    try {
      await post("/api/jump", {});
      jumpResult.textContent = "careprompt's clock moved to the next post.";
    } catch (err) {
      jumpResult.textContent = err.message;
    } finally {
      jump.removeAttribute("aria-disabled");
    }
    draw();
  });

  const events = new EventSource("/events");
  events.onmessage = draw;
  loadCommands().then(draw);
})();
