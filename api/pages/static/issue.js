/* The pharmacist's page: a named login (OpenID Connect, when the service has one) or the
   API key for the session, the form, the live name preview,
   field errors from the API's problem details, and the issued certificate.
   One submit issues one certificate (JSON); its QR image and PDF are rendered from
   that certificate's HC1, so what is shown and printed is the certificate issued. */
"use strict";

(function () {
  const KEY_ITEM = "dcc.apiKey"; /* sessionStorage only: never localStorage, never a cookie */
  const FACILITY_ITEM = "dcc.facility"; /* not secret: remembered for the next certificate */
  const DEVICE_ITEM = "dcc.device";
  const $ = (id) => document.getElementById(id);
  const t = (key, values) => window.DCC.t(key, values);

  let deviceList = { configured: false, devices: [] };
  let loginAvailable = false; /* the service has an OpenID provider: named logins, no key form */
  let session = null; /* GET /auth/session when logged in: csrf_token, organisation, member */
  let issued = null;
  let qrUrl = null;
  let previewTimer = 0;
  let previewRound = 0;
  let shownErrors = []; /* the last submit's errors still standing: {error, el} (el: its field, or null) */

  /* ---- small storage helpers ---- */
  function read(storage, item) {
    try {
      return window[storage].getItem(item) || "";
    } catch (e) {
      return "";
    }
  }
  function write(storage, item, value) {
    try {
      if (value) window[storage].setItem(item, value);
      else window[storage].removeItem(item);
    } catch (e) {
      /* storage refused (private mode): nothing to remember */
    }
  }
  const apiKey = () => read("sessionStorage", KEY_ITEM);
  const authorised = () => Boolean(session) || (!loginAvailable && Boolean(apiKey()));
  /* With a session the cookie authenticates (same-origin) and the CSRF token goes along. */
  const authHeaders = (accept) =>
    session
      ? { "X-CSRF-Token": session.csrf_token, "Content-Type": "application/json", Accept: accept }
      : { Authorization: "Bearer " + apiKey(), "Content-Type": "application/json", Accept: accept };
  const authCall = (path, options) =>
    window.DCC.call(path, Object.assign(session ? { credentials: "same-origin" } : {}, options));

  /* ---- field errors ---- */
  function visible(el) {
    return el && !el.closest("[hidden]");
  }
  function fieldFor(path) {
    const candidates = Array.from(document.querySelectorAll("#issue-form [data-field]"));
    return candidates.find((el) => visible(el) && el.dataset.field.split(" ").includes(path)) || null;
  }
  function describedBy(el, id, add) {
    const ids = (el.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== id);
    if (add) ids.push(id);
    if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
    else el.removeAttribute("aria-describedby");
  }
  function errorText(error) {
    if (error.code && window.DCC.has("error." + error.code)) return t("error." + error.code);
    const text = String(error.message || error.code || "");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }
  function setFieldError(el, text) {
    const box = $(el.id + "-error");
    if (!box) return;
    window.DCC.fill(box, text);
    box.hidden = false;
    el.setAttribute("aria-invalid", "true");
    describedBy(el, box.id, true);
  }
  function clearFieldError(el) {
    const box = $(el.id + "-error");
    if (!box) return;
    box.hidden = true;
    box.replaceChildren();
    el.removeAttribute("aria-invalid");
    describedBy(el, box.id, false);
  }
  function clearErrors() {
    document.querySelectorAll("#issue-form [aria-invalid]").forEach(clearFieldError);
    $("form-error").hidden = true;
    $("form-error").replaceChildren();
    shownErrors = [];
  }
  /** The alert's lines: how many shown fields to correct, then the errors of no field. */
  function summaryLines() {
    const marked = new Set();
    const loose = [];
    for (const { error, el } of shownErrors) {
      if (!el) loose.push(errorText(error));
      else if (visible(el)) marked.add(el);
    }
    return marked.size ? [t("common.fixErrors", { count: marked.size }), ...loose] : loose;
  }
  function fillAlert(lines) {
    window.DCC.fill($("form-error"), ...lines.map((line) => window.DCC.element("p", { text: line })));
  }
  /** Forget the submit's errors for which `drop(item)` holds, clear them from their fields,
      and shorten the alert, which goes once no marked field and no other error is left.
      The alert is rewritten only when its text changes (a screen reader announces each change). */
  function forgetErrors(drop) {
    for (const item of shownErrors) if (item.el && drop(item)) clearFieldError(item.el);
    shownErrors = shownErrors.filter((item) => !drop(item));
    const alert = $("form-error");
    if (alert.hidden) return;
    const lines = summaryLines();
    if (!lines.length) {
      alert.hidden = true;
      alert.replaceChildren();
    } else if (lines.join("\n") !== Array.from(alert.children, (line) => line.textContent).join("\n")) {
      fillAlert(lines);
    }
  }
  /** A field was corrected (typed in, or passed the server's live check). */
  function fieldCorrected(el) {
    clearFieldError(el);
    forgetErrors((item) => item.el === el);
  }
  function focusTarget(el) {
    if (el.tagName === "FIELDSET") return el.querySelector("input:checked") || el.querySelector("input");
    if (el.tagName === "P") return null;
    return el;
  }
  /** Show each problem error next to its field; the rest (and a summary) in the alert. */
  function showErrors(errors, focus) {
    clearErrors();
    const marked = [];
    for (const error of errors) {
      const el = fieldFor(String(error.field || ""));
      shownErrors.push({ error, el });
      if (el) {
        if (!marked.includes(el)) marked.push(el);
        const box = $(el.id + "-error");
        const previous = box && !box.hidden ? box.textContent + " " : "";
        setFieldError(el, previous + errorText(error));
      }
    }
    const alert = $("form-error");
    const lines = summaryLines();
    if (lines.length) {
      fillAlert(lines);
      alert.hidden = false;
    }
    const ordered = Array.from(document.querySelectorAll("#issue-form [data-field]")).filter((el) => marked.includes(el));
    const first = ordered.length ? focusTarget(ordered[0]) : null;
    if (focus && first) first.focus();
    else if (focus && lines.length) alert.scrollIntoView({ block: "center" });
  }
  function showFailure(result) {
    if (result.status === 401) return keyRejected();
    if (result.status === 422 && result.problem && Array.isArray(result.problem.errors)) {
      return showErrors(result.problem.errors, true);
    }
    showErrors([{ field: "", message: window.DCC.failureMessage(result) }], true);
  }

  /* ---- named login (OpenID Connect) ---- */
  async function loadSession() {
    const result = await window.DCC.call("/auth/session", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const data = result.ok && result.data ? result.data : { login: false, authenticated: false };
    loginAvailable = Boolean(data.login);
    session = data.authenticated ? data : null;
  }
  function showSession() {
    if (!session) return;
    window.DCC.fill(
      $("session-status-text"),
      t("issue.loggedIn", { organisation: session.organisation.name, role: session.member.role }),
    );
  }
  const SESSION_CHECK_MS = 30000; /* a removed member's page notices within a minute */
  async function checkSession() {
    if (!session) return;
    const result = await window.DCC.call("/auth/session", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (result.ok && result.data && !result.data.authenticated && session) sessionEnded();
  }
  function showLoginError() {
    const params = new URLSearchParams(window.location.search);
    if (!params.has("login_error")) return;
    window.history.replaceState(null, "", window.location.pathname);
    window.DCC.fill($("login-error"), t("issue.loginFailed"));
    $("login-error").hidden = false;
  }
  function sessionEnded() {
    session = null;
    showKeyState();
    window.DCC.fill($("login-error"), t("issue.loginEnded"));
    $("login-error").hidden = false;
    $("login-link").focus();
  }
  async function logout() {
    if (!session) return;
    const result = await authCall("/auth/logout", { method: "POST", headers: authHeaders("application/json") });
    if (!result.ok && result.status !== 401) {
      window.DCC.fill($("session-status-text"), window.DCC.failureMessage(result));
      return;
    }
    session = null;
    newCertificate();
    showKeyState();
    window.DCC.fill($("login-error"), t("issue.loggedOut"));
    $("login-error").hidden = false;
    $("login-link").focus();
  }

  /* ---- API key ---- */
  function showKeyState() {
    const has = authorised();
    $("login-section").hidden = !loginAvailable || Boolean(session);
    $("session-status").hidden = !session;
    if (session) showSession();
    $("key-section").hidden = loginAvailable || has;
    $("key-status").hidden = loginAvailable || !has;
    if (!has) {
      $("issue-form").hidden = true;
      $("result").hidden = true;
    } else if ($("result").hidden) {
      $("issue-form").hidden = false;
    }
  }
  function keyRejected() {
    /* A 401 that arrives after a logout (a request still in flight) changes nothing. */
    if (loginAvailable) return session ? sessionEnded() : undefined;
    write("sessionStorage", KEY_ITEM, "");
    showKeyState();
    setFieldError($("api-key"), t("issue.keyInvalid"));
    $("api-key").focus();
  }
  async function useKey(event) {
    event.preventDefault();
    const input = $("api-key");
    clearFieldError(input);
    const key = input.value.trim();
    if (!key) {
      setFieldError(input, t("issue.keyRequired"));
      input.focus();
      return;
    }
    const result = await window.DCC.call("/v1/names/preview", {
      method: "POST",
      headers: { Authorization: "Bearer " + key, "Content-Type": "application/json", Accept: "application/json" },
      body: "{}",
    });
    if (result.status === 401) {
      setFieldError(input, t("issue.keyInvalid"));
      input.focus();
      return;
    }
    if (result.status === 0) {
      setFieldError(input, t("common.network"));
      return;
    }
    write("sessionStorage", KEY_ITEM, key);
    input.value = "";
    showKeyState();
    window.DCC.fill($("key-status-text"), t("issue.keySet"));
    $("family-name").focus();
    schedulePreview();
  }
  function forgetKey() {
    write("sessionStorage", KEY_ITEM, "");
    showKeyState();
    $("api-key").focus();
  }

  /* ---- names preview (the server's own ICAO 9303 transliteration) ---- */
  function schedulePreview() {
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(runPreview, 250);
  }
  async function runPreview() {
    if (!authorised()) return;
    const round = ++previewRound;
    const body = {};
    const family = $("family-name").value;
    const given = $("given-name").value;
    if (family.trim()) body.family_name = family;
    if (given.trim()) body.given_name = given;
    const result = await authCall("/v1/names/preview", {
      method: "POST",
      headers: authHeaders("application/json"),
      body: JSON.stringify(body),
    });
    if (round !== previewRound) return; /* a newer preview is on its way */
    if (result.status === 401) return keyRejected();
    if (!result.ok || !result.data) return;
    showPreview(result.data);
  }
  function showPreview(data) {
    const familyOverride = $("family-std").value.trim().toUpperCase();
    const givenOverride = $("given-std").value.trim().toUpperCase();
    window.DCC.fill($("preview-family"), familyOverride || data.family_name_standardised || t("common.none"));
    window.DCC.fill($("preview-given"), givenOverride || data.given_name_standardised || t("common.none"));
    const wrong = new Map();
    for (const error of data.errors || []) {
      const el = fieldFor(String(error.field));
      if (el) wrong.set(el, (wrong.has(el) ? wrong.get(el) + " " : "") + errorText(error));
    }
    for (const id of ["family-name", "given-name"]) {
      const el = $(id);
      if (wrong.has(el)) setFieldError(el, wrong.get(el));
      else if (el.value.trim() || $(id === "family-name" ? "given-name" : "family-name").value.trim()) {
        fieldCorrected(el); /* the server's own check passed: the submit's error on it is gone */
      }
    }
  }

  /* ---- devices ---- */
  function deviceLabel(device) {
    return device.name ? device.name + " (" + device.id + ")" : device.id;
  }
  function fillDevices() {
    const select = $("device-select");
    const chosen = select.value || read("localStorage", DEVICE_ITEM);
    const filter = $("device-filter").value.trim().toLowerCase();
    const shown = deviceList.devices.filter(
      (d) => !filter || deviceLabel(d).toLowerCase().includes(filter) || d.id === chosen,
    );
    const options = [window.DCC.element("option", { value: "", text: t("issue.deviceChoose") })];
    for (const device of shown) {
      options.push(window.DCC.element("option", { value: device.id, text: deviceLabel(device) }));
    }
    select.replaceChildren(...options);
    select.value = shown.some((d) => d.id === chosen) ? chosen : "";
    window.DCC.fill($("device-count"), t("issue.deviceCount", { count: shown.length }));
  }
  async function loadDevices() {
    const result = await window.DCC.call("/v1/devices", { headers: { Accept: "application/json" } });
    if (result.ok && result.data && Array.isArray(result.data.devices)) deviceList = result.data;
    const listed = deviceList.configured && deviceList.devices.length > 0;
    $("device-list-fields").dataset.available = String(listed);
    if (listed) fillDevices();
    else $("device-id").value = read("localStorage", DEVICE_ITEM);
    showTestType();
  }
  function showTestType() {
    const rat = $("type-rat").checked;
    const listed = $("device-list-fields").dataset.available === "true";
    $("device-list-fields").hidden = !rat || !listed;
    $("device-id-field").hidden = !rat || listed;
    $("naat-name-field").hidden = rat;
    forgetErrors((item) => item.el && !visible(item.el)); /* moot once their field is gone */
  }

  /* ---- sample time: local wall time, sent as RFC 3339 with its offset ---- */
  function localValue(date) {
    const p = window.DCC.pad;
    return (
      date.getFullYear() + "-" + p(date.getMonth() + 1) + "-" + p(date.getDate()) + "T" +
      p(date.getHours()) + ":" + p(date.getMinutes())
    );
  }
  function sampleDate() {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec($("sample-time").value);
    if (!m) return null;
    return { m, date: new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)) };
  }
  function sampleRfc3339() {
    const parsed = sampleDate();
    if (!parsed) return "";
    const m = parsed.m;
    const offset = window.DCC.offsetLabel(parsed.date).slice(3);
    return m[1] + "-" + m[2] + "-" + m[3] + "T" + m[4] + ":" + m[5] + ":" + (m[6] || "00") + offset;
  }
  function showOffset() {
    const parsed = sampleDate();
    const offset = window.DCC.offsetLabel(parsed ? parsed.date : new Date());
    let zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      zone = "";
    }
    window.DCC.fill($("sample-offset"), offset);
    window.DCC.fill($("sample-time-hint"), t("issue.sampleHint", { offset: zone ? zone + ", " + offset : offset }));
  }
  function sampleNow() {
    const now = new Date();
    $("sample-time").value = localValue(now);
    $("sample-time").max = localValue(new Date(now.getTime() + 5 * 60000));
    showOffset();
  }

  /* ---- the request ---- */
  function forgivingDate(text) {
    const dotted = /^(\d{1,2})[./](\d{1,2})[./](\d{4})$/.exec(text);
    if (!dotted) return text;
    return dotted[3] + "-" + window.DCC.pad(dotted[2]) + "-" + window.DCC.pad(dotted[1]);
  }
  function buildRequest() {
    const person = {};
    const test = { type: $("type-rat").checked ? "rapid-antigen" : "naat", result: "not-detected" };
    const value = (id) => $(id).value.trim();
    if (value("family-name")) person.family_name = value("family-name");
    if (value("given-name")) person.given_name = value("given-name");
    if (value("family-std")) person.family_name_standardised = value("family-std").toUpperCase();
    if (value("given-std")) person.given_name_standardised = value("given-std").toUpperCase();
    $("dob").value = forgivingDate(value("dob"));
    if (value("dob")) person.date_of_birth = value("dob");
    if (test.type === "rapid-antigen") {
      const device = $("device-list-fields").hidden ? value("device-id") : $("device-select").value;
      if (device) test.device = device;
    } else if (value("naat-name")) {
      test.name = value("naat-name");
    }
    const sampled = sampleRfc3339();
    if (sampled) test.sample_collected_at = sampled;
    if (value("facility")) test.facility = value("facility");
    return { person, test };
  }

  async function submit(event) {
    event.preventDefault();
    if (!authorised()) return keyRejected();
    clearErrors();
    const button = $("submit");
    button.disabled = true;
    window.DCC.fill($("submit-status"), t("issue.signing"));
    const body = buildRequest();
    try {
      const result = await authCall("/v1/certificates", {
        method: "POST",
        headers: Object.assign(authHeaders("application/json"), { "DCC-Channel": "form" }),
        body: JSON.stringify(body),
      });
      if (result.status !== 201 || !result.data) return showFailure(result);
      write("localStorage", FACILITY_ITEM, body.test.facility || "");
      if (body.test.device) write("localStorage", DEVICE_ITEM, body.test.device);
      await showIssued(result.data);
    } finally {
      button.disabled = false;
      $("submit-status").replaceChildren();
    }
  }

  /* ---- the issued certificate ---- */
  async function render(accept) {
    return authCall("/v1/certificates/render", {
      method: "POST",
      headers: authHeaders(accept),
      body: JSON.stringify({ hc1: issued.hc1 }),
    });
  }
  async function showIssued(data) {
    issued = data;
    const qr = await render("image/png");
    if (!qr.ok) return showFailure(qr);
    if (qrUrl) URL.revokeObjectURL(qrUrl);
    qrUrl = URL.createObjectURL(await qr.response.blob());
    const nam = (data.certificate && data.certificate.nam) || {};
    const image = $("result-qr");
    image.src = qrUrl;
    image.alt = t("issue.qrAlt", { uvci: data.uvci });
    image.dataset.uvci = data.uvci;
    const name = [nam.fn, nam.gn].filter(Boolean).join(", ");
    const standardised = [nam.fnt, nam.gnt].filter(Boolean).join("<<");
    window.DCC.fill(
      $("result-name"),
      name,
      window.DCC.element("span", { class: "mono sub", text: standardised }),
    );
    window.DCC.fill($("result-dob"), String(data.certificate.dob || ""));
    window.DCC.fill($("result-uvci"), data.uvci);
    window.DCC.fill($("result-issued"), window.DCC.formatLocal(data.issued_at));
    window.DCC.fill($("result-expires"), window.DCC.formatLocal(data.expires_at));
    $("result-status").replaceChildren();
    $("issue-form").hidden = true;
    $("result").hidden = false;
    $("result-heading").focus();
  }
  function fileName(response) {
    const header = response.headers.get("content-disposition") || "";
    const match = /filename="([^"]+)"/.exec(header);
    return match ? match[1] : "dcc-certificate.pdf";
  }
  async function downloadPdf() {
    if (!issued) return;
    const button = $("download-pdf");
    button.disabled = true;
    try {
      const pdf = await render("application/pdf");
      if (!pdf.ok) {
        if (pdf.status === 401) return keyRejected();
        window.DCC.fill($("result-status"), window.DCC.failureMessage(pdf));
        return;
      }
      const url = URL.createObjectURL(await pdf.response.blob());
      const link = window.DCC.element("a", { href: url, download: fileName(pdf.response), hidden: "" });
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 60000);
      window.DCC.fill($("result-status"), t("issue.pdfReady"));
    } finally {
      button.disabled = false;
    }
  }
  function newCertificate() {
    for (const id of ["family-name", "given-name", "family-std", "given-std", "dob", "naat-name"]) {
      $(id).value = "";
    }
    $("override").open = false;
    clearErrors();
    window.DCC.fill($("preview-family"), t("common.none"));
    window.DCC.fill($("preview-given"), t("common.none"));
    sampleNow();
    issued = null;
    if (qrUrl) URL.revokeObjectURL(qrUrl);
    qrUrl = null;
    $("result-qr").removeAttribute("src");
    $("result").hidden = true;
    $("issue-form").hidden = false;
    $("family-name").focus();
  }

  function onLanguage() {
    showOffset();
    if ($("device-list-fields").dataset.available === "true") fillDevices();
    const standing = shownErrors.filter((item) => !item.el || visible(item.el));
    if (standing.length) showErrors(standing.map((item) => item.error), false);
    if (authorised() && !$("issue-form").hidden) schedulePreview(); /* its field errors, translated */
    if (session) showSession();
    if (issued) $("result-qr").alt = t("issue.qrAlt", { uvci: issued.uvci });
    if (!$("family-name").value.trim()) window.DCC.fill($("preview-family"), t("common.none"));
    if (!$("given-name").value.trim()) window.DCC.fill($("preview-given"), t("common.none"));
  }

  async function start() {
    window.DCC.initLanguage();
    await loadSession();
    showLoginError();
    window.setInterval(checkSession, SESSION_CHECK_MS);
    $("facility").value = read("localStorage", FACILITY_ITEM);
    sampleNow();
    showKeyState();
    $("key-form").addEventListener("submit", useKey);
    $("forget-key").addEventListener("click", forgetKey);
    $("logout").addEventListener("click", logout);
    $("issue-form").addEventListener("submit", submit);
    for (const id of ["family-name", "given-name", "family-std", "given-std"]) {
      $(id).addEventListener("input", schedulePreview);
    }
    $("issue-form").addEventListener("input", (event) => {
      const target = event.target.closest("[data-field]");
      if (target) fieldCorrected(target);
    });
    $("type-rat").addEventListener("change", showTestType);
    $("type-naat").addEventListener("change", showTestType);
    $("device-filter").addEventListener("input", fillDevices);
    $("sample-time").addEventListener("input", showOffset);
    $("sample-now").addEventListener("click", sampleNow);
    $("print").addEventListener("click", () => window.print());
    $("download-pdf").addEventListener("click", downloadPdf);
    $("new-certificate").addEventListener("click", newCertificate);
    document.addEventListener("dcc:language", onLanguage);
    loadDevices();
    if (authorised()) schedulePreview();
    else if (loginAvailable) $("login-link").focus();
    else $("api-key").focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
