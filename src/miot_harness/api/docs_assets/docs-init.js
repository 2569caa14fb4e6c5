// Started from a file, not an inline script, so the page keeps `script-src 'self'`.
// validatorUrl null: the default badge would call a public validator.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis],
  validatorUrl: null,
});
