// The ticket page's diagram (/dashboard/tickets/<id>): bpmn-js's NavigatedViewer draws the
// instance's version from the XML in `data-xml`, and the element states in `data-states` (from
// app.engine.element_states) become markers (canvas.addMarker: a CSS class per state, see
// instance.css and the legend) and overlays (times completed, timer due times, messages,
// incidents). No inline script: the page's CSP allows only inline style attributes, which
// bpmn-js sets to place its canvas and overlays.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import './instance.css';

function badge(className, text, title) {
  const el = document.createElement('span');
  el.className = 'instance-badge ' + className;
  el.textContent = text;
  if (title) el.title = title;
  return el;
}

function when(iso) {
  return iso.slice(0, 16).replace('T', ' ') + ' UTC';
}

function decorate(viewer, states) {
  const canvas = viewer.get('canvas');
  const overlays = viewer.get('overlays');
  const registry = viewer.get('elementRegistry');
  let drawn = 0;
  for (const [id, info] of Object.entries(states)) {
    if (!registry.get(id)) continue; // an element of a called process, or the process itself
    canvas.addMarker(id, 'state-' + info.state);
    drawn += 1;
    if (info.completed > 0) {
      overlays.add(id, 'counts', {
        position: { top: -10, left: -10 },
        html: badge('badge-completed', String(info.completed), `completed ${info.completed} time(s)`),
      });
    }
    if (info.active > 0) {
      overlays.add(id, 'counts', {
        position: { top: -10, left: 14 },
        html: badge('badge-active', String(info.active), `${info.active} open`),
      });
    }
    for (const due of info.due_at) {
      overlays.add(id, 'due', { position: { bottom: -4, left: 0 }, html: badge('badge-due', '⏱ ' + when(due), 'timer due') });
    }
    for (const name of info.messages) {
      overlays.add(id, 'message', { position: { top: -22, left: 0 }, html: badge('badge-message', '✉ ' + name, 'waits for this message') });
    }
    for (const incident of info.incidents) {
      overlays.add(id, 'incident', {
        position: { top: -22, right: 24 },
        html: badge('badge-incident', '⚠ incident ' + incident.id, incident.message),
      });
    }
  }
  return drawn;
}

async function show(host) {
  const status = host.querySelector('.viewer-status');
  const viewer = new NavigatedViewer({ container: host.querySelector('.instance-canvas') });
  try {
    await viewer.importXML(host.dataset.xml);
    viewer.get('canvas').zoom('fit-viewport', 'auto');
    const drawn = decorate(viewer, JSON.parse(host.dataset.states || '{}'));
    status.textContent = `${drawn} element(s) marked; drag to move, scroll to zoom.`;
    host.dataset.ready = 'true';
  } catch (error) {
    status.textContent = 'The diagram could not be drawn: ' + (error.message || error);
    host.dataset.ready = 'failed';
  }
}

const host = document.getElementById('instance-diagram');
if (host) show(host);
