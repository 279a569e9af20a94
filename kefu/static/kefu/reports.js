// The report pages' charts, drawn with the vendored Apache ECharts from the figures the
// page embeds as JSON (#report-data). Tooltips render in the canvas (richText), so nothing
// needs an inline style under the site's Content-Security-Policy.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("report-data");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var L = data.labels;
    var charts = [];

    function chart(id, option) {
      var node = document.getElementById(id);
      if (!node) return;
      var instance = window.echarts.init(node, null, { renderer: "canvas" });
      option.tooltip = Object.assign({ renderMode: "richText" }, option.tooltip || {});
      option.animation = false;
      instance.setOption(option);
      charts.push(instance);
    }

    chart("chart-trend", {
      title: { text: L.trend, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, data: [L.this, L.previous] },
      grid: { left: 40, right: 16, top: 40, bottom: 48 },
      xAxis: { type: "category", data: data.days },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: L.this, type: "line", data: data.contacts, smooth: true },
        { name: L.previous, type: "line", data: data.previous, smooth: true,
          lineStyle: { type: "dashed" } },
      ],
    });

    chart("chart-channels", {
      title: { text: L.channels, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 40, right: 16, top: 40, bottom: 48 },
      xAxis: { type: "category", data: data.days },
      yAxis: { type: "value", minInterval: 1 },
      series: data.channels.map(function (channel) {
        return { name: channel.name, type: "bar", stack: "channels", data: channel.data };
      }),
    });

    var total = data.category_counts.reduce(function (a, b) { return a + b; }, 0);
    var running = 0;
    var cumulative = data.category_counts.map(function (count) {
      running += count;
      return total ? Math.round((running / total) * 1000) / 10 : 0;
    });
    chart("chart-pareto", {
      title: { text: L.pareto, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, data: [L.contacts, L.share] },
      grid: { left: 40, right: 40, top: 40, bottom: 48 },
      xAxis: { type: "category", data: data.categories, axisLabel: { interval: 0 } },
      yAxis: [
        { type: "value", minInterval: 1 },
        { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      ],
      series: [
        { name: L.contacts, type: "bar", data: data.category_counts },
        { name: L.share, type: "line", yAxisIndex: 1, data: cumulative },
      ],
    });

    window.addEventListener("resize", function () {
      charts.forEach(function (instance) { instance.resize(); });
    });
    document.documentElement.dataset.chartsReady = String(charts.length);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
