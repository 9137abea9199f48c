/* The /docs page: Swagger UI (served from this origin, see api/pages/views.py) on this
   service's OpenAPI document. No inline script: the page's CSP forbids it.
   Nothing is taken from the query string, nothing is sent to the online validator, and an
   API key entered in "Authorize" stays in this page's memory (never in storage). */
"use strict";

window.addEventListener("DOMContentLoaded", function () {
  window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    presets: [window.SwaggerUIBundle.presets.apis],
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    queryConfigEnabled: false,
    validatorUrl: null,
    persistAuthorization: false,
  });
});
