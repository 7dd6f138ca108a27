// Swagger UI over the app's own OpenAPI document (no inline script: the CSP allows self only).
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: node.dataset.url, domNode: node, deepLinking: true,
    validatorUrl: null, presets: [SwaggerUIBundle.presets.apis] });
});
