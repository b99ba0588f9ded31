// The KPI page's charts (Chart.js, only the parts used, registered here). Each <canvas class="chart">
// carries its data in data-chart = {type: 'line' | 'bar', labels, series: [{label, data}]}; htmx
// swaps the figures every 30 s and the new canvases are drawn on `htmx:load`.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import './charts.css';

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);

const COLOURS = ['#2563eb', '#16a34a', '#9333ea', '#ea580c'];

function draw(canvas) {
  if (canvas.dataset.drawn) return;
  let spec;
  try {
    spec = JSON.parse(canvas.dataset.chart);
  } catch (error) {
    return;
  }
  canvas.dataset.drawn = '1';
  new Chart(canvas, {
    type: spec.type,
    data: {
      labels: spec.labels,
      datasets: spec.series.map((s, i) => ({
        label: s.label,
        data: s.data,
        borderColor: COLOURS[i % COLOURS.length],
        backgroundColor: COLOURS[i % COLOURS.length] + (spec.type === 'bar' ? 'cc' : '33'),
        tension: 0.2,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { display: spec.series.length > 1 } },
    },
  });
}

function drawAll(root) {
  (root || document).querySelectorAll('canvas.chart[data-chart]').forEach(draw);
}

document.addEventListener('htmx:load', (event) => drawAll(event.target));
if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', () => drawAll(document));
} else {
  drawAll(document);
}
