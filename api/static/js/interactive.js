// Interactive charts on request. The page shows the SVG the workers rendered; the button of a
// chart loads the vendored Vega libraries (only then: they are not part of a page's first
// load), fetches the chart's Vega-Lite spec from the API and draws it with tooltips. Vega
// runs with its expression interpreter (no eval) and without injected styles, so the page's
// CSP (self only) holds.
"use strict";
(function () {
  var VENDOR = "/static/vendor/vega/";
  var LIBS = ["vega.min.js", "vega-lite.min.js", "vega-interpreter.min.js", "vega-embed.min.js"];
  var loading = null;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(script);
    });
  }

  function loadVega() {
    if (!loading) {
      loading = LIBS.reduce(function (chain, name) {
        return chain.then(function () { return loadScript(VENDOR + name); });
      }, Promise.resolve());
    }
    return loading;
  }

  function explore(figure, button) {
    var target = figure.querySelector(".svg");
    button.disabled = true;
    button.textContent = "Loading…";
    Promise.all([loadVega(), fetch(figure.dataset.specUrl).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    })]).then(function (results) {
      var holder = document.createElement("div");
      holder.className = "interactive";
      return window.vegaEmbed(holder, results[1].spec, {
        ast: true, expr: window.vega.expressionInterpreter, renderer: "svg",
        actions: false, defaultStyle: false, tooltip: { disableDefaultStyle: true },
      }).then(function () {
        target.replaceChildren(holder);
        figure.classList.add("is-interactive");
        button.remove();
      });
    }).catch(function (error) {
      button.disabled = false;
      button.textContent = "Interactive chart unavailable (" + error.message + "); retry";
    });
  }

  document.querySelectorAll("figure.chart[data-spec-url]").forEach(function (figure) {
    if (!figure.querySelector(".svg")) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "explore";
    button.textContent = "Interactive chart (tooltips)";
    button.addEventListener("click", function () { explore(figure, button); });
    figure.querySelector(".links").appendChild(button);
  });
})();
