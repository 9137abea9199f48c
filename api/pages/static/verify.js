/* The traveller's page: an uploaded photo or screenshot, pasted HC1 text, or the camera
   (where the browser allows it) goes to POST /v1/verify; the report is shown as a big
   VALID / INVALID with its reason, the certificate's details and every check. */
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const t = (key, values) => window.DCC.t(key, values);
  const RAT = "LP217198-3";
  const NAAT = "LP6464-4";
  const NOT_DETECTED = "260415000";
  const DETECTED = "260373001";

  let shown = null; /* {report} or {failure}: redrawn when the language changes */
  let deviceNames = {}; /* EU device id -> name, from the service's device list */
  let stream = null;
  let detector = null;
  let scanTimer = 0;
  let lastSent = null; /* {body, headers}: sent again when the language changes */
  const COUNTRIES = ["AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"];

  /* ---- destination: country and date go to /v1/verify as query parameters ---- */
  function fillCountries() {
    const select = $("country");
    const chosen = select.value;
    let names = null;
    try {
      names = new Intl.DisplayNames([window.DCC.language], { type: "region" });
    } catch (e) {
      names = null;
    }
    const options = COUNTRIES.map((code) => ({ code, name: names ? names.of(code) : code }))
      .sort((a, b) => a.name.localeCompare(b.name, window.DCC.language));
    select.replaceChildren(select.options[0], ...options.map((item) =>
      window.DCC.element("option", { value: item.code, text: item.name + " (" + item.code + ")" })));
    select.value = chosen;
  }
  function verifyUrl() {
    const params = new URLSearchParams();
    if ($("country").value) {
      params.set("country", $("country").value);
      params.set("lang", window.DCC.language);
    }
    if ($("at").value) {
      const moment = new Date($("at").value);
      if (!Number.isNaN(moment.getTime())) params.set("at", moment.toISOString());
    }
    const query = params.toString();
    return "/v1/verify" + (query ? "?" + query : "");
  }
  function drawRules(report) {
    const destination = report.destination;
    $("rules-card").hidden = !destination;
    if (!destination) return;
    const items = destination.rules.map((rule) => {
      const mark = rule.result === "pass" ? "✓" : rule.result === "fail" ? "✗" : "?";
      const state = t(rule.result === "pass" ? "verify.rulePass" : rule.result === "fail" ? "verify.ruleFail" : "verify.ruleOpen");
      return window.DCC.element("li", {
        class: rule.result === "pass" ? "ok" : "bad",
        text: mark + " " + rule.id + ": " + rule.description + " (" + state + ")",
      });
    });
    if (!items.length) items.push(window.DCC.element("li", { class: "bad", text: t("verify.noRules", { country: destination.country }) }));
    $("rules").replaceChildren(...items);
  }
  function destinationReason(report) {
    const destination = report.destination;
    const error = report.error;
    if (!destination || !error || error.check !== "rules") return null;
    const failed = destination.rules.find((rule) => rule.result === "fail");
    if (error.code === "rule_failed" && failed) return failed.description;
    if (error.code === "rules_unavailable") return t("verify.noRules", { country: destination.country });
    return t("verify.rulesOpen");
  }

  function setStatus(text) {
    window.DCC.fill($("status"), text || "");
  }

  async function send(body, headers) {
    setStatus(t("verify.checking"));
    $("check").disabled = true;
    try {
      lastSent = { body, headers };
      const result = await window.DCC.call(verifyUrl(), {
        method: "POST",
        headers: Object.assign({ Accept: "application/json" }, headers),
        body,
      });
      shown = result.ok && result.data ? { report: result.data } : { failure: result };
      draw(true);
    } finally {
      $("check").disabled = false;
      setStatus("");
    }
  }
  function verifyImage(blob, name) {
    const form = new FormData();
    form.append("image", blob, name || "qr.png");
    return send(form, {});
  }
  function verifyText(text) {
    return send(JSON.stringify({ hc1: text.trim() }), { "Content-Type": "application/json" });
  }

  /* ---- drawing the outcome ---- */
  /* The text for people of an error code (messages.js, from verifier/messages.py); the
     technical message stays in the JSON report. */
  function codeText(code, fallback) {
    if (code && window.DCC.has("reason." + code)) return t("reason." + code);
    return String(fallback || code || "");
  }
  function reasonText(error) {
    if (!error) return "";
    return codeText(error.code, error.message);
  }
  /* The failure to name: the first one, unless that is only "issuer unknown" beside a
     failure that makes the certificate invalid whoever issued it (e.g. expired). */
  function shownError(report) {
    const error = report.error;
    if (!error || error.code !== "kid_unknown" || report.verdict !== "invalid") return error;
    const other = (report.checks || []).find((check) => !check.ok && check.code && check.code !== "kid_unknown");
    return other ? { check: other.name, code: other.code, message: other.detail } : error;
  }
  function trustText(report) {
    const list = report.trust_list;
    if (!list) {
      const signature = (report.checks || []).find((check) => check.name === "signature");
      return signature && signature.ok ? t("verify.ownKey") : "";
    }
    if (!list.updated_at) return t("verify.trustListUndated", { name: list.name });
    const updated = new Date(list.updated_at);
    const days = Math.max(0, Math.floor((Date.now() - updated.getTime()) / 86400000));
    return t("verify.trustListAge", { name: list.name, date: window.DCC.formatLocal(list.updated_at), count: days });
  }
  function row(list, labelKey, value) {
    if (value === undefined || value === null || value === "") return;
    list.append(window.DCC.element("dt", { text: t(labelKey) }), window.DCC.element("dd", { text: String(value) }));
  }
  function testTypeText(code) {
    if (code === RAT) return t("value.rat");
    if (code === NAAT) return t("value.naat");
    return code;
  }
  function resultText(code) {
    if (code === NOT_DETECTED) return t("value.notDetected");
    if (code === DETECTED) return t("value.detected");
    return code;
  }
  function drawDetails(report) {
    const list = $("details");
    list.replaceChildren();
    const certificate = report.certificate;
    $("details-card").hidden = !certificate;
    if (!certificate) return;
    const nam = certificate.nam || {};
    const test = (Array.isArray(certificate.t) && certificate.t[0]) || {};
    row(list, "verify.name", [nam.fn, nam.gn].filter(Boolean).join(", "));
    row(list, "verify.standardised", [nam.fnt, nam.gnt].filter(Boolean).join("<<"));
    row(list, "verify.dob", certificate.dob);
    row(list, "verify.testType", testTypeText(test.tt));
    row(list, "verify.device", test.ma && deviceNames[test.ma] ? deviceNames[test.ma] + " (" + test.ma + ")" : test.ma);
    row(list, "verify.testName", test.nm);
    row(list, "verify.sample", test.sc ? window.DCC.formatLocal(test.sc) : "");
    row(list, "verify.result", resultText(test.tr));
    row(list, "verify.facility", test.tc);
    row(list, "verify.country", test.co);
    row(list, "verify.issuer", test.is);
    row(list, "verify.uvci", test.ci);
    row(list, "verify.issuedAt", report.issued_at ? window.DCC.formatLocal(report.issued_at) : "");
    row(list, "verify.expiresAt", report.expires_at ? window.DCC.formatLocal(report.expires_at) : "");
    row(list, "verify.trustList", trustText(report));
  }
  function drawChecks(report) {
    const items = (report.checks || []).map((check) => {
      const name = window.DCC.has("check." + check.name) ? t("check." + check.name) : check.name;
      const mark = check.ok ? "✓" : "✗";
      const state = t(check.ok ? "verify.passed" : "verify.failed");
      const detail = check.ok ? check.detail : codeText(check.code, check.detail);
      const text = mark + " " + name + ": " + state + (detail ? " (" + detail + ")" : "");
      return window.DCC.element("li", { class: check.ok ? "ok" : "bad", text });
    });
    $("checks").replaceChildren(...items);
  }
  function draw(focus) {
    if (!shown) return;
    const box = $("verdict-box");
    $("outcome").hidden = false;
    if (shown.failure) {
      box.className = "verdict neutral";
      window.DCC.fill($("verdict"), "");
      $("verdict").hidden = true;
      window.DCC.fill($("verdict-reason"), window.DCC.failureMessage(shown.failure));
      $("unverified").hidden = true;
      $("unconfirmed").hidden = true;
      $("details-card").hidden = true;
      $("checks").replaceChildren();
      $("checks").closest(".card").hidden = true;
    } else {
      const report = shown.report;
      const verdict = report.verdict || (report.valid ? "valid" : "invalid");
      const unknown = verdict === "issuer_unknown";
      const revoked = !report.valid && report.error && report.error.code === "revoked";
      box.className = "verdict " + (unknown ? "unknown" : report.valid ? "valid" : "invalid") + (revoked ? " revoked" : "");
      $("verdict").hidden = false;
      const verdictKey = report.valid ? "verify.valid" : revoked ? "verify.revoked" : "verify.invalid";
      const word = unknown ? "? " + t("verify.unknown") : (report.valid ? "✓ " : "✗ ") + t(verdictKey);
      window.DCC.fill($("verdict"), word);
      const error = shownError(report);
      const reason = report.valid
        ? t("verify.validNote")
        : unknown
          ? t("verify.unknownNote")
          : t("verify.reason", { reason: destinationReason(report) || reasonText(error) });
      const code = error ? window.DCC.element("span", { class: "code", text: error.check + " · " + error.code }) : null;
      window.DCC.fill($("verdict-reason"), reason, ...(code ? [" ", code] : []));
      /* An issuer in no list was never checked: "not confirmed", not "may be forged". */
      const uncheckable = (report.checks || []).some((check) => check.code === "kid_unknown");
      $("unverified").hidden = report.verified !== false || uncheckable;
      $("unconfirmed").hidden = !(report.verified === false && uncheckable);
      drawDetails(report);
      drawChecks(report);
      drawRules(report);
      $("checks").closest(".card").hidden = false;
    }
    if (focus) ($("verdict").hidden ? $("verdict-reason") : $("verdict")).focus();
  }

  /* ---- inputs ---- */
  function onFile(event) {
    const file = event.target.files && event.target.files[0];
    if (file) verifyImage(file, file.name);
  }
  function onPaste(event) {
    event.preventDefault();
    const text = $("hc1").value.trim();
    if (text) return verifyText(text);
    const file = $("image").files && $("image").files[0];
    if (file) return verifyImage(file, file.name);
    setStatus(t("verify.empty"));
    $("hc1").focus();
  }

  /* ---- camera: only where the browser offers it ---- */
  function stopCamera() {
    window.clearTimeout(scanTimer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    $("camera-video").srcObject = null;
    $("camera-view").hidden = true;
    $("camera-start").hidden = false;
  }
  async function scan() {
    if (!stream || !detector) return;
    try {
      const codes = await detector.detect($("camera-video"));
      const found = codes.find((code) => String(code.rawValue || "").startsWith("HC1:"));
      if (found) {
        stopCamera();
        return verifyText(found.rawValue);
      }
    } catch (e) {
      detector = null; /* detection failed: the capture button still works */
      return;
    }
    scanTimer = window.setTimeout(scan, 400);
  }
  async function startCamera() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
    } catch (e) {
      setStatus(t("verify.cameraFailed"));
      return;
    }
    const video = $("camera-video");
    video.srcObject = stream;
    $("camera-view").hidden = false;
    $("camera-start").hidden = true;
    try {
      await video.play();
    } catch (e) {
      /* autoplay refused: the preview starts on the capture click */
    }
    $("camera-capture").focus();
    if ("BarcodeDetector" in window) {
      try {
        detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        scanTimer = window.setTimeout(scan, 400);
      } catch (e) {
        detector = null;
      }
    }
  }
  function capture() {
    const video = $("camera-video");
    if (!stream || !video.videoWidth) return;
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    stopCamera();
    canvas.toBlob((blob) => {
      if (blob) verifyImage(blob, "camera.png");
    }, "image/png");
  }

  async function loadDevices() {
    const result = await window.DCC.call("/v1/devices", { headers: { Accept: "application/json" } });
    if (!result.ok || !result.data || !Array.isArray(result.data.devices)) return;
    for (const device of result.data.devices) {
      if (device.name) deviceNames[device.id] = device.name;
    }
    draw(false);
  }

  function start() {
    window.DCC.initLanguage();
    loadDevices();
    $("image").addEventListener("change", onFile);
    $("photo").addEventListener("change", onFile);
    $("paste-form").addEventListener("submit", onPaste);
    if (navigator.mediaDevices && typeof navigator.mediaDevices.getUserMedia === "function") {
      $("camera-block").hidden = false;
      $("camera-start").addEventListener("click", startCamera);
      $("camera-capture").addEventListener("click", capture);
      $("camera-stop").addEventListener("click", stopCamera);
    }
    document.addEventListener("dcc:language", () => draw(false));
    fillCountries();
    document.addEventListener("dcc:language", () => {
      fillCountries();
      if (lastSent && shown && shown.report && shown.report.destination) send(lastSent.body, lastSent.headers);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
