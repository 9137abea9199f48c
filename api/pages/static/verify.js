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

  function setStatus(text) {
    window.DCC.fill($("status"), text || "");
  }

  async function send(body, headers) {
    setStatus(t("verify.checking"));
    $("check").disabled = true;
    try {
      const result = await window.DCC.call("/v1/verify", {
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
  function reasonText(error) {
    if (!error) return "";
    if (window.DCC.has("reason." + error.code)) return t("reason." + error.code);
    return String(error.message || error.code);
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
  }
  function drawChecks(report) {
    const items = (report.checks || []).map((check) => {
      const name = window.DCC.has("check." + check.name) ? t("check." + check.name) : check.name;
      const mark = check.ok ? "✓" : "✗";
      const state = t(check.ok ? "verify.passed" : "verify.failed");
      const text = mark + " " + name + ": " + state + (check.detail ? " (" + check.detail + ")" : "");
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
      $("details-card").hidden = true;
      $("checks").replaceChildren();
      $("checks").closest(".card").hidden = true;
    } else {
      const report = shown.report;
      const revoked = !report.valid && report.error && report.error.code === "revoked";
      box.className = "verdict " + (report.valid ? "valid" : "invalid") + (revoked ? " revoked" : "");
      $("verdict").hidden = false;
      const verdictKey = report.valid ? "verify.valid" : revoked ? "verify.revoked" : "verify.invalid";
      window.DCC.fill($("verdict"), (report.valid ? "✓ " : "✗ ") + t(verdictKey));
      const reason = report.valid
        ? t("verify.validNote")
        : t("verify.reason", { reason: reasonText(report.error) });
      const code = report.error ? window.DCC.element("span", { class: "code", text: report.error.check + " · " + report.error.code }) : null;
      window.DCC.fill($("verdict-reason"), reason, ...(code ? [" ", code] : []));
      $("unverified").hidden = report.verified !== false;
      drawDetails(report);
      drawChecks(report);
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
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
