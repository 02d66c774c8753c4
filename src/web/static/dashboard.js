/* global document, window, vegaEmbed, URLSearchParams */
// Embeds the page's Vega-Lite spec (dashboards/<name>.vl.json) with the rows the server read from
// the API, as SVG; a click on a mark with a drill-down link opens the events and studies behind it.
(function () {
  "use strict";
  var host = document.getElementById("chart");
  var dataEl = document.getElementById("sievert-dashboard");
  if (!host || !dataEl) return;
  var payload = JSON.parse(dataEl.textContent);
  var spec = JSON.parse(JSON.stringify(payload.spec));
  spec.data = { values: payload.rows };
  delete spec.usermeta;
  vegaEmbed(host, spec, { renderer: "svg", actions: false, tooltip: { theme: "light" } })
    .then(function (result) {
      result.view.addEventListener("click", function (_event, item) {
        var d = item && item.datum;
        if (!d) return;
        if (d._drill) return window.location.assign(d._drill);
        // An aggregated mark (e.g. a rate summed over months): build the link from its fields.
        var t = payload.drill;
        if (!t) return;
        var p = new URLSearchParams(t.context);
        var mapped = 0;
        Object.keys(t.map).forEach(function (param) {
          var v = d[t.map[param]];
          if (v !== undefined && v !== null && v !== "") {
            p.set(param, String(v));
            mapped++;
          }
        });
        if (mapped) window.location.assign("/dashboards/drilldown?" + p.toString());
      });
      host.setAttribute("data-state", "ready");
    })
    .catch(function (err) {
      host.setAttribute("data-state", "error");
      host.textContent = "The chart could not be drawn (" + err.message + "); the table below has the same numbers.";
    });
})();
