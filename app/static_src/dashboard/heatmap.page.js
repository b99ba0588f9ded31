// The heatmap: a process version drawn with bpmn-js's NavigatedViewer, each element coloured by
// its bucket (class heat-1 .. heat-5 via canvas.addMarker) with its figure in an overlay. The page
// gives the XML and {element id: {bucket, label}} in data-* attributes of #heatmap.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import './heatmap.css';

async function show(container) {
  const heat = JSON.parse(container.dataset.heat || '{}');
  const viewer = new NavigatedViewer({ container });
  try {
    await viewer.importXML(container.dataset.xml);
  } catch (error) {
    container.textContent = 'The diagram could not be drawn.';
    return;
  }
  const canvas = viewer.get('canvas');
  const overlays = viewer.get('overlays');
  const registry = viewer.get('elementRegistry');
  canvas.zoom('fit-viewport');
  Object.entries(heat).forEach(([id, { bucket, label }]) => {
    if (!registry.get(id)) return;
    canvas.addMarker(id, `heat-${bucket}`);
    const badge = document.createElement('span');
    badge.className = `heat-badge heat-${bucket}`;
    badge.textContent = label;
    overlays.add(id, 'heat', { position: { bottom: 8, right: 12 }, html: badge });
  });
  container.dataset.ready = '1';
}

function start() {
  const container = document.getElementById('heatmap');
  if (container) show(container);
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start);
} else {
  start();
}
