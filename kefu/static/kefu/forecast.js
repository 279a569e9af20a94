// The forecast and staffing pages' charts, drawn with the vendored Apache ECharts from the
// figures the page embeds as JSON (#forecast-data, #staffing-data). No inline script or
// style: tooltips render in the canvas, so the site's Content-Security-Policy holds.
(function () {
  "use strict";

  var charts = [];

  // Tooltips in the canvas (an HTML tooltip would set inline styles), no animation.
  function prepare(option) {
    option.tooltip = Object.assign({ renderMode: "richText" }, option.tooltip || {});
    option.animation = false;
    return option;
  }

  function make(node, option) {
    var instance = window.echarts.init(node, null, { renderer: "canvas" });
    instance.setOption(prepare(option), true);
    charts.push(instance);
    return instance;
  }

  // [[time in ms, value], ...] from a start, a step and the values.
  function points(start, step, values) {
    return (values || []).map(function (value, i) { return [start + i * step, value]; });
  }

  // Half-hour values summed per day: [[day start in ms, total], ...].
  var DAY_MS = 24 * 3600 * 1000;
  function perDay(start, step, values) {
    var perDayCount = Math.round(DAY_MS / step);
    var out = [];
    for (var i = 0; i < (values || []).length; i += perDayCount) {
      var total = values.slice(i, i + perDayCount).reduce(function (a, b) { return a + b; }, 0);
      out.push([start + (i / perDayCount) * DAY_MS, Math.round(total * 10) / 10]);
    }
    return out;
  }

  function forecast() {
    var source = document.getElementById("forecast-data");
    var node = document.getElementById("chart-forecast");
    var daysNode = document.getElementById("chart-forecast-days");
    var picker = document.getElementById("forecast-channel");
    if (!source || !node) return 0;
    var data = JSON.parse(source.textContent);
    var L = data.labels;
    var instance = null;
    var daysInstance = null;

    function draw(index) {
      var channel = data.channels[index] || data.channels[0];
      var series = [];
      if (data.backtest_start !== null) {
        series.push({ name: L.actual, type: "line", showSymbol: false,
          data: points(data.backtest_start, data.step_ms, channel.actual) });
        series.push({ name: L.backtest, type: "line", showSymbol: false,
          lineStyle: { type: "dashed" },
          data: points(data.backtest_start, data.step_ms, channel.backtest) });
      }
      series.push({ name: L.forecast, type: "line", showSymbol: false,
        areaStyle: { opacity: 0.15 },
        data: points(data.forecast_start, data.step_ms, channel.forecast) });
      var option = {
        title: { text: channel.name + " · " + L.contacts, textStyle: { fontSize: 14 } },
        tooltip: { trigger: "axis" },
        legend: { bottom: 0 },
        grid: { left: 40, right: 16, top: 40, bottom: 80 },
        xAxis: { type: "time" },
        yAxis: { type: "value" },
        dataZoom: [{ type: "slider", bottom: 28 }, { type: "inside" }],
        series: series,
      };
      if (instance) instance.setOption(prepare(option), true);
      else instance = make(node, option);
      if (!daysNode) return;
      var daily = [];
      if (data.backtest_start !== null) {
        daily.push({ name: L.actual, type: "bar",
          data: perDay(data.backtest_start, data.step_ms, channel.actual) });
        daily.push({ name: L.backtest, type: "line",
          lineStyle: { type: "dashed" },
          data: perDay(data.backtest_start, data.step_ms, channel.backtest) });
      }
      daily.push({ name: L.forecast, type: "bar",
        data: perDay(data.forecast_start, data.step_ms, channel.forecast) });
      var dayOption = {
        title: { text: channel.name + " · " + L.days, textStyle: { fontSize: 14 } },
        tooltip: { trigger: "axis" },
        legend: { bottom: 0 },
        grid: { left: 40, right: 16, top: 40, bottom: 48 },
        xAxis: { type: "time" },
        yAxis: { type: "value" },
        series: daily,
      };
      if (daysInstance) daysInstance.setOption(prepare(dayOption), true);
      else daysInstance = make(daysNode, dayOption);
    }

    draw(0);
    if (picker) {
      picker.addEventListener("change", function () { draw(Number(picker.value)); });
    }
    return 1;
  }

  function staffing() {
    var source = document.getElementById("staffing-data");
    var node = document.getElementById("chart-staffing");
    if (!source || !node) return 0;
    var data = JSON.parse(source.textContent);
    var L = data.labels;
    make(node, {
      title: { text: L.title, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 40, right: 16, top: 40, bottom: 48 },
      xAxis: { type: "category", data: data.times },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: L.required, type: "line", step: "end", showSymbol: false, data: data.required },
        { name: L.rostered, type: "line", step: "end", showSymbol: false, data: data.rostered,
          lineStyle: { type: "dashed" } },
        { name: L.scheduled, type: "bar", data: data.scheduled, barCategoryGap: "10%" },
      ],
    });
    return 1;
  }

  function draw() {
    if (!window.echarts) return;
    var drawn = forecast() + staffing();
    window.addEventListener("resize", function () {
      charts.forEach(function (instance) { instance.resize(); });
    });
    document.documentElement.dataset.chartsReady = String(drawn);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
