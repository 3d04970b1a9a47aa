// The self-service page of the token vending service (docs/design.md, Self-service page).
//
// A client of the public API like any other: it signs in with the authorization code flow and PKCE,
// keeps the access token in this script's memory only (never in storage or a cookie), and calls the
// API with the user's own token through relative URLs, so it works under any base path. It builds
// every element with DOM calls (no HTML strings): the Content-Security-Policy allows no inline script
// or style and enforces Trusted Types.
"use strict";

(() => {
  const PAGE_URL = new URL(document.baseURI);
  const API = new URL("../v1/", PAGE_URL);
  const SERVICE_ROOT = new URL("../../", PAGE_URL); // what tools/tvs_credential_process.py takes as --url
  const REDIRECT_URI = PAGE_URL.origin + PAGE_URL.pathname;
  const PKCE_KEY = "tvs.sign-in"; // sessionStorage, for the round trip to the identity provider only

  const LEVELS = ["list", "read", "write", "delete"];
  const LEVEL_WORDS = {
    list: "see the names of files",
    read: "read files",
    write: "read and add files (not delete)",
    delete: "read, add and delete files",
  };
  const KIND_WORDS = { "azure-blob": "Azure Blob Storage", "aws-s3": "Amazon S3", "vast-s3": "VAST Data" };
  const STATE_WORDS = { pending: "being created", active: "active", revoking: "being taken back" };
  const LIFETIMES = [
    [900, "15 minutes"], [3600, "1 hour"], [4 * 3600, "4 hours"], [12 * 3600, "12 hours"],
    [86400, "1 day"], [7 * 86400, "7 days"],
  ];

  // -- state (memory only) -----------------------------------------------------------------------
  const session = { token: null, expiresAt: 0, timer: null, me: null };
  let config = null;
  let stores = [];
  let keysCursor = null;
  let pendingRevoke = null;

  const $ = (id) => document.getElementById(id);

  // -- DOM helpers -------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  let announcing = null;

  function announce(text) {
    clearStatus();
    // Emptied first and filled a moment later, so a screen reader announces a repeated message too.
    announcing = window.setTimeout(() => { $("status").textContent = text; }, 50);
  }

  function clearStatus() {
    window.clearTimeout(announcing);
    $("status").textContent = "";
  }

  function showAlert(id, lines) {
    const box = $(id);
    if (lines && lines.length) clearStatus(); // "Asking for access…" is over
    box.replaceChildren(...(lines || []).filter(Boolean).map((line, i) => el("p", { class: i ? "ref" : null, text: line })));
    if (lines && lines.length) box.scrollIntoView({ block: "nearest" });
  }

  // -- views ---------------------------------------------------------------------------------------
  const VIEWS = ["loading", "signin", "stores", "access", "keys", "orgs"];

  function show(view, { focus = true } = {}) {
    clearStatus(); // an outcome belongs to the view it was announced in
    for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
    for (const button of document.querySelectorAll("#nav button")) {
      if (button.dataset.view === view) button.setAttribute("aria-current", "page");
      else button.removeAttribute("aria-current");
    }
    const heading = $(`view-${view}`).querySelector("h1");
    if (focus && heading) heading.focus();
    if (heading) document.title = `${heading.textContent} – ${config ? config.title : "Storage access"}`;
  }

  async function open(view) {
    show(view);
    if (view === "stores") await loadStores();
    else if (view === "access") await prepareAccess();
    else if (view === "keys") await loadKeys(false);
    else if (view === "orgs") await loadOrganizations();
  }

  // -- errors in plain words ----------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, problem, requestId, retryAfter) {
      super(problem && problem.detail ? problem.detail : `HTTP ${status}`);
      this.status = status;
      this.problem = problem || {};
      this.requestId = requestId || (problem && problem.request_id) || "";
      this.retryAfter = retryAfter;
    }
    get slug() {
      return (this.problem.type || "").split("/").pop();
    }
  }

  class StorageError extends Error {}

  function plain(err, what) {
    if (err instanceof StorageError) return [err.message];
    if (!(err instanceof ApiError)) {
      return ["The service could not be reached. Check your connection, then try again."];
    }
    const detail = sentence(err.problem.detail || err.problem.title || `HTTP ${err.status}`);
    const ref = err.requestId ? `Reference for support: ${err.requestId}` : "";
    const wait = err.retryAfter ? ` Try again in ${err.retryAfter} seconds.` : " Try again in a moment.";
    switch (true) {
      case err.status === 403:
        return [`Not allowed: ${detail}`, "“What I can use” lists what you may ask for.", ref];
      case err.status === 404:
        return [`Not found: ${detail}`, ref];
      case err.status === 409:
        return [`This cannot be done now: ${detail}`, ref];
      case err.status === 429:
        return ["Too many requests at once." + wait, ref];
      case err.slug === "idp-unavailable":
        return ["The sign-in service is not answering right now, so your sign-in cannot be checked." + wait, ref];
      case err.slug === "service-misconfigured":
        return ["The service is not set up correctly. Its operators find the reason in its log.", ref];
      case err.status === 503:
        return [`${what ? `${what} is` : "A service this needs is"} not answering right now: ${detail}${wait}`, ref];
      case err.status >= 500:
        return ["Something went wrong in the service. Quote the reference below when you report it.", ref];
      default:
        return [`The request was refused: ${detail}`, ref];
    }
  }

  function sentence(text) {
    const trimmed = String(text).trim();
    return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
  }

  // -- the API ---------------------------------------------------------------------------------------
  async function api(method, path, { query, body } = {}) {
    if (!session.token || Date.now() >= session.expiresAt) {
      expireSession();
      throw new ApiError(401, { detail: "session expired" });
    }
    const url = new URL(path, API);
    for (const [name, value] of Object.entries(query || {})) {
      if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, value);
    }
    const headers = { Authorization: `Bearer ${session.token}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    // A network failure rejects with a TypeError, which plain() words as "could not be reached".
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      redirect: "error", // the token never follows a redirect
    });
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch (notJson) {
      data = null;
    }
    if (!response.ok) {
      const error = new ApiError(response.status, data, response.headers.get("X-Request-Id"),
        response.headers.get("Retry-After"));
      if (response.status === 401) expireSession();
      throw error;
    }
    return data;
  }

  // -- sign-in: authorization code flow with PKCE -------------------------------------------------
  function base64url(bytes) {
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(byte);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomString(length) {
    return base64url(crypto.getRandomValues(new Uint8Array(length)));
  }

  async function endpoints() {
    const signIn = config.sign_in;
    if (signIn.authorization_endpoint && signIn.token_endpoint) {
      return { authorize: signIn.authorization_endpoint, token: signIn.token_endpoint };
    }
    const discovery = `${signIn.authority.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    const response = await fetch(discovery, { credentials: "omit", cache: "no-store" });
    if (!response.ok) throw new Error("discovery");
    const meta = await response.json();
    return { authorize: meta.authorization_endpoint, token: meta.token_endpoint };
  }

  async function signIn() {
    try {
      const where = await endpoints();
      const verifier = randomString(48);
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
      const state = randomString(24);
      sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
      const url = new URL(where.authorize);
      url.searchParams.set("response_type", "code");
      url.searchParams.set("client_id", config.sign_in.client_id);
      url.searchParams.set("redirect_uri", REDIRECT_URI);
      url.searchParams.set("scope", config.sign_in.scopes.join(" "));
      url.searchParams.set("state", state);
      url.searchParams.set("code_challenge", base64url(new Uint8Array(digest)));
      url.searchParams.set("code_challenge_method", "S256");
      window.location.assign(url.toString());
    } catch (err) {
      showAlert("signin-alert", ["The sign-in service could not be reached. Try again in a moment."]);
    }
  }

  async function completeSignIn(params) {
    const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
    sessionStorage.removeItem(PKCE_KEY);
    window.history.replaceState(null, "", PAGE_URL.pathname); // the code leaves the address bar and history
    if (params.get("error")) {
      const why = params.get("error") === "access_denied" ? "it was cancelled" : params.get("error_description") || params.get("error");
      return fail(`Sign-in did not complete: ${why}.`);
    }
    if (!saved || saved.state !== params.get("state")) {
      return fail("Sign-in could not be completed safely (the answer did not match this page's request). Sign in again.");
    }
    try {
      const where = await endpoints();
      const form = new URLSearchParams({
        grant_type: "authorization_code",
        code: params.get("code"),
        redirect_uri: REDIRECT_URI,
        client_id: config.sign_in.client_id,
        code_verifier: saved.verifier,
      });
      const response = await fetch(where.token, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        body: form.toString(),
        credentials: "omit",
        cache: "no-store",
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok || !answer.access_token) {
        return fail(`Sign-in was refused: ${answer.error_description || answer.error || `HTTP ${response.status}`}.`);
      }
      startSession(answer.access_token, Number(answer.expires_in) || 3600);
      return true;
    } catch (err) {
      return fail("The sign-in service could not be reached. Try again in a moment.");
    }

    function fail(message) {
      show("signin");
      showAlert("signin-alert", [message]);
      return false;
    }
  }

  function startSession(token, seconds) {
    session.token = token;
    session.expiresAt = Date.now() + seconds * 1000;
    window.clearTimeout(session.timer);
    session.timer = window.setTimeout(expireSession, seconds * 1000);
  }

  function endSession() {
    window.clearTimeout(session.timer);
    session.token = null;
    session.me = null;
    session.expiresAt = 0;
    stores = [];
    $("who").hidden = true;
    $("nav").hidden = true;
    $("result").replaceChildren();
    $("result").hidden = true;
    $("keys-list").replaceChildren();
    $("stores-list").replaceChildren();
    for (const box of document.querySelectorAll(".alert")) box.replaceChildren();
  }

  function expireSession() {
    if (!session.token && !$("view-signin").hidden) return;
    endSession();
    show("signin");
    showAlert("signin-alert", ["Your session has expired. Sign in again to continue."]);
  }

  function signOut() {
    endSession();
    show("signin");
    announce("You are signed out.");
  }

  async function afterSignIn() {
    try {
      session.me = await api("GET", "me");
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        showAlert("signin-alert", ["Your sign-in was not accepted by the service. " + (err.problem.detail || "")]);
      } else {
        show("signin");
        showAlert("signin-alert", plain(err, "The service"));
      }
      return;
    }
    const me = session.me;
    $("who-name").textContent = `Signed in as ${me.username || me.email || me.subject}${me.admin ? " (administrator)" : ""}`;
    $("who").hidden = false;
    $("nav").hidden = false;
    $("nav-orgs").hidden = !(config.features && config.features.organizations);
    $("keys-admin").hidden = !me.admin;
    await open("stores");
  }

  // -- what I can use ------------------------------------------------------------------------------
  function lifetimeWords(seconds) {
    if (seconds % 86400 === 0) return seconds === 86400 ? "1 day" : `${seconds / 86400} days`;
    if (seconds % 3600 === 0) return seconds === 3600 ? "1 hour" : `${seconds / 3600} hours`;
    return `${Math.round(seconds / 60)} minutes`;
  }

  function producesWords(produces) {
    const words = [];
    if (produces.includes("credential")) words.push("a credential for tools");
    if (produces.includes("signed-url")) words.push("single-file upload and download");
    return words.length ? words.join("; ") : "nothing on this store (ask your administrator)";
  }

  async function fetchStores() {
    const answer = await api("GET", "stores");
    stores = answer.stores || [];
    return stores;
  }

  async function loadStores() {
    showAlert("stores-alert", []);
    const list = $("stores-list");
    list.replaceChildren(el("p", { text: "Loading…" }));
    list.setAttribute("aria-busy", "true");
    try {
      await fetchStores();
    } catch (err) {
      list.replaceChildren();
      if (!(err instanceof ApiError && err.status === 401)) showAlert("stores-alert", plain(err, "The service"));
      return;
    } finally {
      list.removeAttribute("aria-busy");
    }
    if (!stores.length) {
      list.replaceChildren(el("p", { text: "You have no access to any store yet. Ask your administrator for access." }));
      return;
    }
    list.replaceChildren(...stores.map(storeCard));
  }

  function storeCard(store) {
    const headingId = `store-${store.store}`;
    const rows = store.grants.map((grant) => el("tr", {},
      el("td", { dataset: { label: "Folder" } }, grant.prefix ? el("code", { text: grant.prefix }) : "the whole store"),
      el("td", { dataset: { label: "Access" } }, el("strong", { text: grant.access }), ` – ${LEVEL_WORDS[grant.access]}`),
      el("td", { dataset: { label: "At most" } }, lifetimeWords(grant.max_ttl_seconds)),
      el("td", { dataset: { label: "You can get" } }, producesWords(grant.produces || [])),
      el("td", { dataset: { label: "" } }, el("button", {
        type: "button",
        class: "secondary small",
        "aria-label": `Get access to ${grant.prefix || "the whole store"} on ${store.store}`,
        disabled: !(grant.produces || []).length,
        onclick: () => startAccess(store.store, grant),
      }, "Get access")),
    ));
    return el("article", { class: "card", "aria-labelledby": headingId },
      el("h2", { id: headingId, text: store.store }),
      el("p", { class: "muted" }, `${KIND_WORDS[store.kind] || store.kind}${store.description ? ` – ${store.description}` : ""}`),
      el("table", {},
        el("caption", { class: "visually-hidden", text: `Your access on ${store.store}` }),
        el("thead", {}, el("tr", {}, ...["Folder", "Access", "At most", "You can get"].map((t) => el("th", { scope: "col", text: t })),
          el("th", { scope: "col" }, el("span", { class: "visually-hidden", text: "Action" })))),
        el("tbody", {}, rows)));
  }

  // -- get access --------------------------------------------------------------------------------------
  async function prepareAccess(preset) {
    if (!stores.length) {
      try {
        await fetchStores();
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 401)) showAlert("access-alert", plain(err, "The service"));
        return;
      }
    }
    const select = $("f-store");
    const current = preset ? preset.store : select.value;
    select.replaceChildren(...stores.map((s) => el("option", { value: s.store, text: `${s.store} (${KIND_WORDS[s.kind] || s.kind})` })));
    if (!stores.length) {
      showAlert("access-alert", ["You have no access to any store yet. Ask your administrator for access."]);
      $("f-submit").disabled = true;
      return;
    }
    $("f-submit").disabled = false;
    if (current && stores.some((s) => s.store === current)) select.value = current;
    if (preset) {
      $("f-path").value = preset.prefix;
      const wantsCredential = (preset.produces || []).includes("credential");
      $(wantsCredential ? "need-credential" : "need-upload").checked = true;
    }
    storeChanged(preset ? preset.access : null);
  }

  function startAccess(storeId, grant) {
    show("access");
    showAlert("access-alert", []);
    $("result").hidden = true;
    prepareAccess({ store: storeId, prefix: grant.prefix, access: grant.access, produces: grant.produces });
  }

  function currentStore() {
    return stores.find((s) => s.store === $("f-store").value);
  }

  function storeChanged(access) {
    const store = currentStore();
    if (!store) return;
    const highest = Math.max(...store.grants.map((g) => LEVELS.indexOf(g.access)));
    const longest = Math.max(...store.grants.map((g) => g.max_ttl_seconds));
    const levelSelect = $("f-access");
    const previous = access || levelSelect.value || "read";
    levelSelect.replaceChildren(...LEVELS.slice(0, highest + 1).map((level) =>
      el("option", { value: level, text: `${level} – ${LEVEL_WORDS[level]}` })));
    levelSelect.value = LEVELS.indexOf(previous) <= highest ? previous : LEVELS[highest];
    const ttl = $("f-ttl");
    const offered = LIFETIMES.filter(([seconds]) => seconds <= longest);
    if (!offered.length || offered[offered.length - 1][0] !== longest) offered.push([longest, lifetimeWords(longest)]);
    ttl.replaceChildren(...offered.map(([seconds, words]) => el("option", { value: seconds, text: words })));
    const preferred = offered.filter(([seconds]) => seconds <= 3600).pop() || offered[0];
    ttl.value = String(preferred[0]);
    $("f-prefixes").replaceChildren(...[...new Set(store.grants.map((g) => g.prefix).filter(Boolean))].map((p) => el("option", { value: p })));
    const folders = store.grants.map((g) => (g.prefix ? g.prefix : "the whole store")).filter((v, i, a) => a.indexOf(v) === i);
    $("f-store-hint").textContent = `${KIND_WORDS[store.kind] || store.kind}. Your folders: ${folders.join(", ")}.`;
    needChanged();
  }

  function need() {
    return document.querySelector('input[name="need"]:checked').value;
  }

  function needChanged() {
    const what = need();
    $("f-access-field").hidden = what !== "credential";
    $("f-format-field").hidden = what !== "credential";
    $("f-file-field").hidden = what !== "upload";
    $("f-path-label").textContent = what === "credential" ? "Folder or file" : what === "upload" ? "Folder (or the file's full name)" : "File";
    $("f-path-hint").textContent = what === "credential"
      ? "Leave empty for the whole store. A folder ends with “/”."
      : what === "upload"
        ? "The folder to upload into, ending with “/”; or the full name the file gets."
        : "The full name of one file, e.g. users/alice/report.csv.";
    $("f-access-hint").textContent = LEVEL_WORDS[$("f-access").value] ? `You will be able to ${LEVEL_WORDS[$("f-access").value]}.` : "";
    $("f-submit").textContent = what === "credential" ? "Get access" : what === "upload" ? "Upload" : "Download";
  }

  async function submitAccess(event) {
    event.preventDefault();
    showAlert("access-alert", []);
    const store = currentStore();
    if (!store) return;
    const path = $("f-path").value.trim();
    const ttl = Number($("f-ttl").value);
    const what = need();
    const button = $("f-submit");
    button.disabled = true;
    try {
      if (what === "credential") await getCredential(store, path, ttl);
      else if (what === "upload") await upload(store, path, ttl);
      else await download(store, path, ttl);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) showAlert("access-alert", plain(err, `Store ${store.store}`));
    } finally {
      button.disabled = false;
    }
  }

  function fieldError(message, field) {
    showAlert("access-alert", [message]);
    $(field).focus();
  }

  async function getCredential(store, path, ttl) {
    const format = $("f-format").value;
    const access = $("f-access").value;
    announce("Asking for access…");
    const answer = await api("POST", "credentials", {
      body: { store: store.store, path, access, ttl_seconds: ttl, format },
    });
    renderCredential(store, path, access, format, answer);
    announce("Access granted.");
  }

  async function signedUrl(store, object, method, ttl, contentType) {
    const body = { store: store.store, object, method, ttl_seconds: ttl };
    if (contentType) body.content_type = contentType;
    return api("POST", "signed-urls", { body });
  }

  async function upload(store, path, ttl) {
    const file = $("f-file").files[0];
    if (!file) return fieldError("Choose the file to upload.", "f-file");
    const object = path === "" || path.endsWith("/") ? path + file.name : path;
    const contentType = file.type || "application/octet-stream";
    announce(`Uploading ${file.name}…`);
    const signed = await signedUrl(store, object, "PUT", ttl, contentType);
    let response;
    try {
      response = await fetch(signed.url, { method: "PUT", headers: signed.headers, body: file, credentials: "omit", cache: "no-store" });
    } catch (blocked) {
      throw new StorageError("The storage did not accept a request from this page: its CORS rules may not allow this site. Ask your administrator.");
    }
    if (!response.ok) throw new StorageError(`The storage refused the upload (HTTP ${response.status}).`);
    renderSigned(store, signed, `Uploaded ${file.name} (${sizeWords(file.size)}) to ${object}.`, curlUpload(signed, file.name));
    announce(`Uploaded ${file.name}.`);
  }

  async function download(store, path, ttl) {
    if (path === "" || path.endsWith("/")) return fieldError("Type the full name of one file (not a folder).", "f-path");
    announce("Downloading…");
    const signed = await signedUrl(store, path, "GET", ttl);
    let response;
    try {
      response = await fetch(signed.url, { credentials: "omit", cache: "no-store" });
    } catch (blocked) {
      throw new StorageError("The storage did not accept a request from this page: its CORS rules may not allow this site. Ask your administrator.");
    }
    if (response.status === 404) throw new StorageError(`There is no file ${path} in ${store.store}.`);
    if (!response.ok) throw new StorageError(`The storage refused the download (HTTP ${response.status}).`);
    const blob = await response.blob();
    const name = path.split("/").pop();
    const link = el("a", { href: URL.createObjectURL(blob), download: name, hidden: true });
    document.body.append(link);
    link.click();
    window.setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
    renderSigned(store, signed, `Downloaded ${name} (${sizeWords(blob.size)}).`, `curl --fail -o '${shellQuoted(name)}' '${shellQuoted(signed.url)}'`);
    announce(`Downloaded ${name}.`);
  }

  function sizeWords(bytes) {
    if (bytes < 1024) return `${bytes} bytes`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function shellQuoted(text) {
    return String(text).replace(/'/g, "'\\''");
  }

  function curlUpload(signed, fileName) {
    const headers = Object.entries(signed.headers || {}).map(([k, v]) => `-H '${shellQuoted(`${k}: ${v}`)}' `).join("");
    return `curl --fail -X PUT ${headers}--data-binary '@${shellQuoted(fileName)}' '${shellQuoted(signed.url)}'`;
  }

  // -- results ---------------------------------------------------------------------------------------
  function countdown(expiresAt) {
    return el("span", { class: "countdown", role: "timer", "aria-live": "off", dataset: { expires: expiresAt } }, remainingWords(expiresAt));
  }

  function remainingWords(expiresAt) {
    const left = Math.floor((Date.parse(expiresAt) - Date.now()) / 1000);
    if (left <= 0) return "expired";
    const h = Math.floor(left / 3600);
    const m = Math.floor((left % 3600) / 60);
    const s = left % 60;
    return `expires in ${h ? `${h} h ` : ""}${h || m ? `${m} min ` : ""}${s} s`;
  }

  function tick() {
    for (const node of document.querySelectorAll("[data-expires]")) {
      const words = remainingWords(node.dataset.expires);
      if (node.textContent !== words) {
        if (words === "expired" && node.textContent !== "expired") announce("A credential on this page has expired.");
        node.textContent = words;
        node.classList.toggle("expired", words === "expired");
      }
    }
  }

  function localTime(iso) {
    return new Date(iso).toLocaleString();
  }

  function snippet(title, text, note) {
    const id = `snippet-${Math.random().toString(36).slice(2, 10)}`;
    return el("figure", { class: "snippet" },
      el("figcaption", {}, el("span", { id: `${id}-title`, text: title }),
        el("button", {
          type: "button",
          class: "secondary small",
          "aria-describedby": `${id}-title`,
          onclick: (event) => copy(text, event.currentTarget),
        }, "Copy")),
      note ? el("p", { class: "hint", text: note }) : null,
      el("pre", { tabindex: "0", "aria-labelledby": `${id}-title` }, el("code", { id, text })));
  }

  async function copy(text, button) {
    try {
      await navigator.clipboard.writeText(text);
      announce("Copied to the clipboard.");
      button.textContent = "Copied";
      window.setTimeout(() => { button.textContent = "Copy"; }, 2000);
    } catch (denied) {
      const code = button.closest("figure").querySelector("code");
      window.getSelection().selectAllChildren(code);
      announce("The text is selected: copy it with your keyboard or menu.");
    }
  }

  function summary(rows) {
    return el("dl", { class: "summary" }, ...rows.filter(Boolean).flatMap(([term, value]) => [el("dt", { text: term }), el("dd", {}, value)]));
  }

  function showResult(heading, children) {
    const box = $("result");
    const h = el("h2", { tabindex: "-1", text: heading });
    box.replaceChildren(h, ...children);
    box.hidden = false;
    h.focus();
  }

  function renderSigned(store, signed, outcome, curl) {
    showResult(outcome, [
      summary([
        ["Store", store.store],
        ["File", el("code", { text: signed.object })],
        ["Link", el("span", {}, `valid until ${localTime(signed.expires_at)}, `, countdown(signed.expires_at))],
      ]),
      snippet(`curl with the same link (${signed.method})`, curl, "Anyone holding this link can use it until it expires: treat it as a secret."),
    ]);
  }

  function renderCredential(store, path, access, format, answer) {
    const expiresAt = answer.expires_at;
    const rows = [
      ["Store", store.store],
      ["Covers", path ? el("code", { text: path }) : "the whole store"],
      ["Access", `${answer.access || access} – ${LEVEL_WORDS[answer.access || access] || ""}`],
      ["Credential", el("code", { text: answer.credential_id })],
      ["Valid until", el("span", {}, `${localTime(expiresAt)}, `, countdown(expiresAt))],
    ];
    const parts = [summary(rows), el("p", { class: "hint", text: "This is a secret: paste it only where you need it. It ends by itself when it expires." })];
    if (format === "iceberg") parts.push(...icebergSnippets(answer));
    else if (answer.provider === "azure-blob") parts.push(...azureSnippets(answer));
    else parts.push(...s3Snippets(store, path, access, answer));
    showResult("Access granted", parts);
  }

  function icebergSnippets(answer) {
    return (answer["storage-credentials"] || []).flatMap((entry) => [
      snippet(`Iceberg properties for ${entry.prefix}`, Object.entries(entry.config).map(([k, v]) => `${k}=${v}`).join("\n")),
      snippet("The same as JSON (an Iceberg REST catalog storage-credentials entry)", JSON.stringify(entry, null, 2)),
    ]);
  }

  function python(value, indent = "") {
    if (value === null || value === undefined) return "None";
    if (value === true) return "True";
    if (value === false) return "False";
    if (typeof value === "number") return String(value);
    if (typeof value === "string") return JSON.stringify(value);
    const inner = `${indent}    `;
    if (Array.isArray(value)) return `[${value.map((v) => python(v, inner)).join(", ")}]`;
    const items = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${python(v, inner)},`);
    return items.length ? `{\n${items.join("\n")}\n${indent}}` : "{}";
  }

  function azureSnippets(answer) {
    const c = answer.credentials;
    const scope = answer.scope || {};
    const prefix = scope.prefix || "";
    const blob = scope.blob;
    const out = [snippet("SAS URL", c.sas_url, "Opens the container (or the file) with this access in Azure Storage Explorer, azcopy or a browser.")];
    if (blob) {
      const name = blob.split("/").pop();
      out.push(snippet("azcopy", `azcopy copy '${shellQuoted(c.sas_url)}' './${shellQuoted(name)}'`));
      out.push(snippet("Azure CLI", `az storage blob download --blob-url '${shellQuoted(c.sas_url)}' --file './${shellQuoted(name)}'`));
    } else {
      const target = `${c.container_url}/${prefix}`;
      out.push(snippet("azcopy", [
        `azcopy list '${shellQuoted(`${c.container_url}?${c.sas_token}`)}'`,
        `azcopy copy '${shellQuoted(`${target}*?${c.sas_token}`)}' ./download --recursive`,
        answer.access === "write" || answer.access === "delete" ? `azcopy copy ./myfile.csv '${shellQuoted(`${target}myfile.csv?${c.sas_token}`)}'` : null,
      ].filter(Boolean).join("\n")));
      out.push(snippet("Azure CLI", [
        `az storage blob list --blob-endpoint '${shellQuoted(c.account_url)}' --container-name '${shellQuoted(c.container)}'` +
          `${prefix ? ` --prefix '${shellQuoted(prefix)}'` : ""} --sas-token '${shellQuoted(c.sas_token)}' --output table`,
        `az storage blob download --blob-endpoint '${shellQuoted(c.account_url)}' --container-name '${shellQuoted(c.container)}'` +
          ` --name '${shellQuoted(`${prefix}myfile.csv`)}' --file ./myfile.csv --sas-token '${shellQuoted(c.sas_token)}'`,
      ].join("\n")));
    }
    out.push(snippet("Python (fsspec with adlfs)", [
      "import fsspec",
      "",
      `storage_options = ${python(answer.storage_options)}`,
      'fs = fsspec.filesystem("abfs", **storage_options)',
      `print(fs.ls(${JSON.stringify(`${c.container}/${blob || prefix}`)}))`,
    ].join("\n")));
    return out;
  }

  function s3Snippets(store, path, access, answer) {
    const c = answer.credentials;
    const scope = answer.scope || {};
    const bucket = c.bucket || scope.bucket;
    const endpoint = c.endpoint_url ? ` --endpoint-url '${shellQuoted(c.endpoint_url)}'` : "";
    const target = bucket ? `s3://${bucket}/${scope.object || scope.prefix || ""}` : "";
    const env = [
      `export AWS_ACCESS_KEY_ID='${shellQuoted(c.access_key_id)}'`,
      `export AWS_SECRET_ACCESS_KEY='${shellQuoted(c.secret_access_key)}'`,
      c.session_token ? `export AWS_SESSION_TOKEN='${shellQuoted(c.session_token)}'` : "unset AWS_SESSION_TOKEN",
      c.region ? `export AWS_DEFAULT_REGION='${shellQuoted(c.region)}'` : null,
      target ? `aws s3 ls '${shellQuoted(target)}'${endpoint}` : `aws s3 ls${endpoint}`,
    ].filter(Boolean);
    const out = [snippet("AWS CLI (environment variables)", env.join("\n"))];
    if (answer.provider === "aws-s3") {
      const root = SERVICE_ROOT.href.replace(/\/$/, "");
      out.push(snippet("AWS CLI profile with credential_process", [
        `[profile ${store.store}]`,
        `credential_process = python3 tvs_credential_process.py --url ${root} --store ${store.store}` +
          `${path ? ` --path ${path}` : ""} --access ${access} --token-file ~/.tvs/token`,
        c.region ? `region = ${c.region}` : null,
      ].filter(Boolean).join("\n"), "Fetches a fresh credential whenever the AWS tools need one: put it in ~/.aws/config, with the service's tvs_credential_process.py and your token in ~/.tvs/token."));
    }
    out.push(snippet("Python (fsspec with s3fs)", [
      "import fsspec",
      "",
      `storage_options = ${python(answer.storage_options)}`,
      'fs = fsspec.filesystem("s3", **storage_options)',
      bucket ? `print(fs.ls(${JSON.stringify(`${bucket}/${scope.prefix || ""}`)}))` : "print(fs.ls(\"\"))",
    ].join("\n")));
    return out;
  }

  // -- my keys -----------------------------------------------------------------------------------------
  function keysQuery() {
    if (!session.me || !session.me.admin) return {};
    const whose = document.querySelector('input[name="whose"]:checked').value;
    if (whose === "all") return { all: "true" };
    if (whose === "user") {
      const typed = $("whose-owner").value.trim();
      if (!typed) return null;
      const issuer = session.me.owner.slice(0, session.me.owner.lastIndexOf("|"));
      return { user: typed.includes("|") ? typed : `${issuer}|${typed}` };
    }
    return {};
  }

  async function loadKeys(more) {
    showAlert("keys-alert", []);
    const list = $("keys-list");
    const query = keysQuery();
    if (query === null) {
      showAlert("keys-alert", ["Type the person whose keys you want to see."]);
      $("whose-owner").focus();
      return;
    }
    if (!more) {
      keysCursor = null;
      list.replaceChildren(el("p", { text: "Loading…" }));
    }
    list.setAttribute("aria-busy", "true");
    let answer;
    try {
      answer = await api("GET", "credentials", { query: { ...query, cursor: more ? keysCursor : null } });
    } catch (err) {
      if (!more) list.replaceChildren();
      if (!(err instanceof ApiError && err.status === 401)) showAlert("keys-alert", plain(err, "The key store"));
      return;
    } finally {
      list.removeAttribute("aria-busy");
    }
    keysCursor = answer.next;
    $("keys-more").hidden = !keysCursor;
    const showOwner = Boolean(query.all || query.user);
    const rows = answer.credentials.map((key) => keyRow(key, showOwner));
    let body = list.querySelector("tbody");
    if (!more || !body) {
      if (!rows.length) {
        list.replaceChildren(el("p", { id: "keys-empty", text: showOwner ? "No live keys." : "You hold no live keys." }));
        return;
      }
      body = el("tbody");
      const heads = ["Key", "Store", "Issued", "Expires", "State", ...(showOwner ? ["Owner"] : [])];
      list.replaceChildren(el("table", { id: "keys-table" },
        el("caption", { class: "visually-hidden", text: "Live keys" }),
        el("thead", {}, el("tr", {}, ...heads.map((t) => el("th", { scope: "col", text: t })),
          el("th", { scope: "col" }, el("span", { class: "visually-hidden", text: "Action" })))),
        body));
    }
    body.append(...rows);
  }

  function keyRow(key, showOwner) {
    const label = key.access_key_id || key.credential_id;
    return el("tr", { dataset: { credential: key.credential_id } },
      el("td", { dataset: { label: "Key" } }, el("code", { text: label })),
      el("td", { dataset: { label: "Store" }, text: key.store }),
      el("td", { dataset: { label: "Issued" }, text: localTime(key.issued_at) }),
      el("td", { dataset: { label: "Expires" } }, `${localTime(key.expires_at)}, `, countdown(key.expires_at)),
      el("td", { dataset: { label: "State" }, text: STATE_WORDS[key.state] || key.state }),
      showOwner ? el("td", { dataset: { label: "Owner" } }, el("code", { text: key.owner || "" })) : null,
      el("td", { dataset: { label: "" } }, el("button", {
        type: "button",
        class: "danger small",
        "aria-label": `Revoke key ${label} on ${key.store}`,
        disabled: key.state !== "active",
        onclick: (event) => askRevoke(key, label, event.currentTarget),
      }, "Revoke")));
  }

  function askRevoke(key, label, button) {
    pendingRevoke = { key, label, button };
    const whose = key.owner && session.me && key.owner !== session.me.owner ? ` It belongs to ${key.owner}.` : "";
    $("confirm-text").textContent = `Key ${label} on ${key.store} stops working at once for every program that uses it.${whose}`;
    $("confirm").showModal();
  }

  async function revoke() {
    const { key, label } = pendingRevoke;
    $("confirm").close();
    try {
      await api("DELETE", `credentials/${encodeURIComponent(key.credential_id)}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) showAlert("keys-alert", plain(err, "The key store"));
      return;
    }
    await loadKeys(false);
    showAlert("keys-alert", []);
    announce(`Key ${label} is revoked.`);
    $("keys-h").focus();
  }

  // -- organizations (follow-up) ----------------------------------------------------------------------
  // Shown only when GET ../v1/page-config says the access-manager listing is served. The listing
  // lives on another branch; this panel lists organization names only. Follow-up: spaces per
  // organization and their SAS through the access-manager routes.
  async function loadOrganizations() {
    showAlert("orgs-alert", []);
    const list = $("orgs-list");
    list.replaceChildren();
    try {
      const url = new URL("../v1.0/organization", PAGE_URL);
      const response = await fetch(url, {
        headers: { Authorization: `Bearer ${session.token}`, Accept: "application/json" },
        credentials: "omit",
        cache: "no-store",
        redirect: "error",
      });
      const answer = await response.json().catch(() => null);
      if (!response.ok) throw new ApiError(response.status, answer, response.headers.get("X-Request-Id"));
      const items = Array.isArray(answer) ? answer : [];
      list.replaceChildren(...(items.length
        ? items.map((o) => el("li", {}, el("strong", { text: o.displayName || o.name }), o.displayName ? ` (${o.name})` : ""))
        : [el("li", { text: "You may use no organization yet." })]));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) expireSession();
      else showAlert("orgs-alert", plain(err, "The service"));
    }
  }

  // -- start -------------------------------------------------------------------------------------------
  async function loadConfig() {
    const response = await fetch(new URL("page-config", API), { credentials: "omit", cache: "no-store" });
    const answer = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, answer, response.headers.get("X-Request-Id"));
    return answer;
  }

  function wire() {
    $("sign-in").addEventListener("click", signIn);
    $("sign-out").addEventListener("click", signOut);
    for (const button of document.querySelectorAll("#nav button")) {
      button.addEventListener("click", () => open(button.dataset.view));
    }
    $("f-store").addEventListener("change", () => storeChanged(null));
    $("f-access").addEventListener("change", needChanged);
    for (const radio of document.querySelectorAll('input[name="need"]')) radio.addEventListener("change", needChanged);
    $("access-form").addEventListener("submit", submitAccess);
    $("keys-refresh").addEventListener("click", () => loadKeys(false));
    $("keys-more").addEventListener("click", () => loadKeys(true));
    $("keys-admin").addEventListener("submit", (event) => { event.preventDefault(); loadKeys(false); });
    for (const radio of document.querySelectorAll('input[name="whose"]')) {
      radio.addEventListener("change", () => { $("whose-user-field").hidden = radio.value !== "user" || !radio.checked; });
    }
    $("confirm-yes").addEventListener("click", revoke);
    $("confirm-no").addEventListener("click", () => $("confirm").close());
    $("confirm").addEventListener("close", () => {
      if (pendingRevoke && pendingRevoke.button && pendingRevoke.button.isConnected) pendingRevoke.button.focus();
    });
    window.setInterval(tick, 1000);
  }

  async function start() {
    wire();
    try {
      config = await loadConfig();
    } catch (err) {
      show("signin");
      $("sign-in").hidden = true;
      showAlert("signin-alert", err instanceof ApiError && err.status === 404
        ? ["This service has no self-service page set up."]
        : plain(err, "The service"));
      return;
    }
    $("app-title").textContent = config.title;
    const params = new URLSearchParams(window.location.search);
    if (params.has("code") || params.has("error")) {
      if (await completeSignIn(params)) await afterSignIn();
      return;
    }
    show("signin", { focus: false });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
