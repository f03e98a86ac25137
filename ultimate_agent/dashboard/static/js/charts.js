// Line charts on uPlot that follow their container's width (phone and desktop alike).

import uPlot from '../vendor/uPlot.esm.js';

const COLORS = ['#1d4ed8', '#15803d', '#b91c1c', '#7c3aed', '#c2410c', '#0e7490'];
const HEIGHT = 220;
// A y range for counts: from zero, at least to one (uPlot would show 0-100 for a flat zero line).
export const COUNT_RANGE = (_plot, _min, max) => [0, Math.max(1, Math.ceil(max ?? 0))];

export function lineChart(container, { title, series, time = true, xLabel = 'Epoch', yRange = null }) {
  const width = () => Math.max(260, container.clientWidth || 0);
  const options = {
    title,
    width: width(),
    height: HEIGHT,
    scales: { x: { time }, y: yRange ? { range: yRange } : {} },
    // Epochs and steps are whole numbers: no tick at 1.5.
    axes: time ? [{}, {}] : [{ incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] }, {}],
    series: [
      { label: time ? 'Time' : xLabel },
      ...series.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 2, points: { show: !time } })),
    ],
  };
  let data = [[], ...series.map(() => [])];
  container.replaceChildren();
  const plot = new uPlot(options, data, container);
  // Charts built while their view is hidden have no width yet: resize when the view appears.
  const observer = new ResizeObserver(() => {
    if (container.clientWidth) plot.setSize({ width: width(), height: HEIGHT });
  });
  observer.observe(container);
  return {
    setData(columns) {
      data = columns;
      plot.setData(columns);
    },
    get data() {
      return data;
    },
    destroy() {
      observer.disconnect();
      plot.destroy();
      container.replaceChildren();
    },
  };
}

// A chart over a sliding time window, fed one sample at a time.
export function rollingChart(container, { title, series, windowSeconds, yRange = null }) {
  const chart = lineChart(container, { title, series, time: true, yRange });
  const columns = [[], ...series.map(() => [])];
  return {
    push(timestampSeconds, values) {
      columns[0].push(timestampSeconds);
      values.forEach((value, i) => columns[i + 1].push(value));
      const cutoff = timestampSeconds - windowSeconds;
      while (columns[0].length && columns[0][0] < cutoff) columns.forEach((column) => column.shift());
      chart.setData(columns.map((column) => column.slice()));
    },
    get length() {
      return columns[0].length;
    },
    destroy: () => chart.destroy(),
  };
}
