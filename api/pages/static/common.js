/* Shared by both pages: language, local times with their offset, calls to the API.
   Everything the server sends is put on the page with textContent, never as HTML. */
"use strict";

window.DCC = (function () {
  const LANG_KEY = "dcc.lang";
  const LANGS = ["en", "fr"];
  let lang = "en";

  function pickLanguage() {
    let stored = null;
    try {
      stored = window.localStorage.getItem(LANG_KEY);
    } catch (e) {
      stored = null;
    }
    if (LANGS.includes(stored)) return stored;
    const wanted = (navigator.languages || [navigator.language || "en"]).map((l) => String(l).slice(0, 2).toLowerCase());
    return wanted.find((l) => LANGS.includes(l)) || "en";
  }

  /** The CLDR plural category of `count` in the current language ("one", "other"…). */
  function pluralCategory(count) {
    try {
      return new Intl.PluralRules(lang).select(count);
    } catch (e) {
      return count === 1 ? "one" : "other";
    }
  }

  /** The text of `key` in the current language, {name} replaced from `values`.
      With a numeric `values.count`, "key.<plural category>" is used when the table has it
      (e.g. "issue.deviceCount.one"), else "key" itself (the general plural form). */
  function t(key, values) {
    const texts = window.DCC_TEXTS[lang] || {};
    let chosen = key;
    if (values && typeof values.count === "number") {
      const plural = key + "." + pluralCategory(values.count);
      if (plural in texts) chosen = plural;
    }
    let text = chosen in texts ? texts[chosen] : window.DCC_TEXTS.en[chosen];
    if (text === undefined) return key;
    for (const [name, value] of Object.entries(values || {})) {
      text = text.split("{" + name + "}").join(String(value));
    }
    return text;
  }

  function has(key) {
    return key in (window.DCC_TEXTS[lang] || {});
  }

  /** Translate every [data-i18n] element and [data-i18n-<attribute>] attribute. */
  function translatePage(root) {
    (root || document).querySelectorAll("[data-i18n]").forEach((el) => {
      el.textContent = t(el.dataset.i18n);
    });
    for (const attribute of ["aria-label", "placeholder", "alt", "title"]) {
      const data = "data-i18n-" + attribute;
      (root || document).querySelectorAll("[" + data + "]").forEach((el) => {
        el.setAttribute(attribute, t(el.getAttribute(data)));
      });
    }
    const title = document.querySelector("title[data-i18n]");
    if (title) document.title = title.textContent;
  }

  function setLanguage(next, remember) {
    lang = LANGS.includes(next) ? next : "en";
    document.documentElement.lang = lang;
    if (remember) {
      try {
        window.localStorage.setItem(LANG_KEY, lang);
      } catch (e) {
        /* private mode: the choice lasts for this page only */
      }
    }
    document.querySelectorAll("[data-lang]").forEach((button) => {
      button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
    });
    translatePage();
    document.dispatchEvent(new CustomEvent("dcc:language", { detail: lang }));
  }

  function initLanguage() {
    document.querySelectorAll("[data-lang]").forEach((button) => {
      button.addEventListener("click", () => setLanguage(button.dataset.lang, true));
    });
    setLanguage(pickLanguage(), false);
  }

  function pad(number) {
    return String(number).padStart(2, "0");
  }

  /** "UTC+02:00" for the local offset at `date`. */
  function offsetLabel(date) {
    const minutes = -date.getTimezoneOffset();
    const sign = minutes < 0 ? "-" : "+";
    const abs = Math.abs(minutes);
    return "UTC" + sign + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
  }

  /** "2021-07-08 14:30 (UTC+02:00)": an ISO instant in this browser's local time. */
  function formatLocal(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    return (
      date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + " " +
      pad(date.getHours()) + ":" + pad(date.getMinutes()) + " (" + offsetLabel(date) + ")"
    );
  }

  /** A fetch that never throws: {ok, status, response, problem, data}. JSON bodies are parsed. */
  async function call(path, options) {
    let response;
    try {
      response = await fetch(path, Object.assign({ credentials: "omit", cache: "no-store" }, options));
    } catch (e) {
      return { ok: false, status: 0, response: null, problem: null, data: null };
    }
    const type = response.headers.get("content-type") || "";
    let data = null;
    if (type.includes("json")) {
      try {
        data = await response.json();
      } catch (e) {
        data = null;
      }
    }
    const problem = !response.ok && data && typeof data === "object" ? data : null;
    return { ok: response.ok, status: response.status, response, problem, data };
  }

  /** A sentence for a failed call that is not about a field (network, quota, server). */
  function failureMessage(result) {
    if (result.status === 0) return t("common.network");
    if (result.status === 429) {
      const retry = result.response ? Number(result.response.headers.get("retry-after")) : NaN;
      return t("common.rateLimited", { seconds: Number.isFinite(retry) && retry > 0 ? retry : 1 });
    }
    if (result.status === 503) return t("common.busy");
    const problem = result.problem;
    if (problem && result.status < 500 && problem.detail) return String(problem.detail);
    return t("common.failed", { code: problem && problem.code ? problem.code : result.status });
  }

  /** Replace the children of `element` with `nodes` (strings become text). */
  function fill(element, ...nodes) {
    element.replaceChildren(...nodes.map((n) => (typeof n === "string" ? document.createTextNode(n) : n)));
  }

  function element(tag, attributes, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === "text") el.textContent = value;
      else el.setAttribute(name, value);
    }
    children.forEach((child) => el.append(child));
    return el;
  }

  return {
    t,
    has,
    get language() {
      return lang;
    },
    initLanguage,
    translatePage,
    offsetLabel,
    formatLocal,
    pad,
    call,
    failureMessage,
    fill,
    element,
  };
})();
