// Dates in browser code, as the server's `when` filter writes them (app/web/formatting.py):
// "02 Dec 2026 15:14 CET" in the viewer's zone, which base.html names in <meta name="viewer-timezone">.
export function when(iso, style = 'datetime') {
  if (!iso) return '';
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return String(iso);
  const meta = document.querySelector('meta[name="viewer-timezone"]');
  const options = { day: '2-digit', month: 'short', year: 'numeric' };
  if (style !== 'date') Object.assign(options, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
  let parts;
  try {
    parts = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: meta ? meta.content : undefined }).formatToParts(moment);
  } catch {
    parts = new Intl.DateTimeFormat('en-GB', options).formatToParts(moment);
  }
  const part = (type) => (parts.find((p) => p.type === type) || {}).value || '';
  const day = `${part('day')} ${part('month')} ${part('year')}`;
  return style === 'date' ? day : `${day} ${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
}
