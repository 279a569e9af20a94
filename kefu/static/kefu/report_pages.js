// The charts of the report pages beyond the overview and of the scorecards, drawn with the
// vendored Apache ECharts from the figures the page embeds as JSON (#report-pages-data):
// {charts: [{id, kind, title, ...}]}, kind one of lines, bars, stacked, pareto, heatmap.
// Tooltips render in the canvas (richText), so nothing needs an inline style under the
// site's Content-Security-Policy.
(function () {
  "use strict";

  function titled(spec) {
    return { text: spec.title, textStyle: { fontSize: 14 } };
  }

  function unitAxis(spec) {
    var axis = { type: "value" };
    if (spec.unit === "%") {
      axis.max = 100;
      axis.axisLabel = { formatter: "{value}%" };
    } else {
      axis.minInterval = 1; // counts and scores: no fractional ticks
    }
    return axis;
  }

  var builders = {
    lines: function (spec) {
      return {
        title: titled(spec),
        tooltip: { trigger: "axis" },
        legend: { type: "scroll", bottom: 0 },
        grid: { left: 48, right: 16, top: 40, bottom: 56 },
        xAxis: { type: "category", data: spec.x },
        yAxis: unitAxis(spec),
        series: spec.series.map(function (s) {
          return { name: s.name, type: "line", data: s.data, connectNulls: true };
        }),
      };
    },
    bars: function (spec) {
      return {
        title: titled(spec),
        tooltip: { trigger: "axis" },
        legend: { type: "scroll", bottom: 0 },
        grid: { left: 48, right: 16, top: 40, bottom: 56, containLabel: true },
        xAxis: {
          type: "category",
          data: spec.x,
          axisLabel: { interval: 0, rotate: spec.x.length > 3 || window.innerWidth < 600 ? 30 : 0 },
        },
        yAxis: unitAxis(spec),
        series: spec.series.map(function (s) {
          return { name: s.name, type: "bar", data: s.data, barMaxWidth: 56 };
        }),
      };
    },
    stacked: function (spec) {
      return {
        title: titled(spec),
        tooltip: { trigger: "axis" },
        legend: { type: "scroll", bottom: 0 },
        grid: { left: 40, right: 16, top: 40, bottom: 56 },
        xAxis: { type: "category", data: spec.x },
        yAxis: { type: "value", minInterval: 1 },
        series: spec.series.map(function (s) {
          return { name: s.name, type: "bar", stack: "all", data: s.data };
        }),
      };
    },
    pareto: function (spec) {
      var total = spec.counts.reduce(function (a, b) { return a + b; }, 0);
      var running = 0;
      var cumulative = spec.counts.map(function (count) {
        running += count;
        return total ? Math.round((running / total) * 1000) / 10 : 0;
      });
      return {
        title: titled(spec),
        tooltip: { trigger: "axis" },
        legend: { bottom: 0, data: [spec.names.bars, spec.names.line] },
        grid: { left: 40, right: 40, top: 40, bottom: 48, containLabel: true },
        xAxis: {
          type: "category",
          data: spec.x,
          axisLabel: { interval: 0, rotate: window.innerWidth < 600 ? 35 : 0 },
        },
        yAxis: [
          { type: "value", minInterval: 1 },
          { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
        ],
        series: [
          { name: spec.names.bars, type: "bar", data: spec.counts },
          { name: spec.names.line, type: "line", yAxisIndex: 1, data: cumulative },
        ],
      };
    },
    heatmap: function (spec) {
      return {
        title: titled(spec),
        tooltip: { position: "top" },
        grid: { left: 64, right: 72, top: 40, bottom: 32 },
        xAxis: { type: "category", data: spec.x, splitArea: { show: true } },
        yAxis: { type: "category", data: spec.y, inverse: true, splitArea: { show: true } },
        visualMap: {
          min: 0,
          max: Math.max(1, spec.max),
          calculable: true,
          orient: "vertical",
          right: 0,
          top: "middle",
          itemHeight: 140,
        },
        series: [{ type: "heatmap", data: spec.data, label: { show: false } }],
      };
    },
  };

  function draw() {
    var source = document.getElementById("report-pages-data");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var charts = [];
    (data.charts || []).forEach(function (spec) {
      var node = document.getElementById(spec.id);
      var build = builders[spec.kind];
      if (!node || !build) return;
      var option = build(spec);
      option.tooltip = Object.assign({ renderMode: "richText" }, option.tooltip || {});
      option.animation = false;
      var instance = window.echarts.init(node, null, { renderer: "canvas" });
      instance.setOption(option);
      charts.push(instance);
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
