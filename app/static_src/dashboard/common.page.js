// Shared by every dashboard page: htmx, so pages refresh their figures without a reload
// (`hx-get` + `hx-trigger="every 30s"` on the fragment to refresh).
import htmx from 'htmx.org';

window.htmx = htmx;
