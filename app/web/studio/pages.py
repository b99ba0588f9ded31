"""The studio's pages: the list of ticket types and the editor of one type.

Both are shells: the browser code (app/static_src/studio/, bundled by `make studio` into
app/static/studio/) fetches everything from the studio's JSON endpoints (app/web/studio/api.py).

bpmn-js, diagram-js and the properties panel set `style` attributes on the elements they draw
(the canvas layers' transforms, the palette, popups, the properties panel's layout), which the
app's policy blocks; so the studio's pages alone allow inline style *attributes*
(`style-src-attr 'unsafe-inline'`). `<style>` elements, style sheets from elsewhere and every
script stay as strict as on other pages (scripts 'self' only, no inline script, no eval), so an
injected attribute can change how an element looks, never run code. Images need nothing more:
the bpmn.io watermark and bpmn-js's icons are `data:` URLs, which the default policy allows.

The editor's JSON Schema editor (CodeMirror 6) injects its styles as `<style>` elements: the
editor page alone allows the `<style>` elements carrying this answer's nonce (`style-src
'nonce-…'`, fresh per answer, handed to CodeMirror through `<meta name="csp-nonce">`).
"""

import re

from flask import abort, render_template, url_for

from app.access import roles_required
from app.security_headers import NONCE, extend_csp
from app.web.studio.blueprint import bp

extend_csp(bp, {"style-src-attr": ["'unsafe-inline'"]})

# A ticket type's key: a process id (identifier-like); anything else is no page.
KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-.]{0,99}")


@bp.get("/")
@roles_required("analyst", "admin")
def index():
    """The ticket types, their versions and running tickets, and "New ticket type"."""
    return render_template("studio/index.html")


@bp.get("/types/<key>")
@extend_csp({"style-src": [NONCE]})
@roles_required("analyst", "admin")
def editor(key: str):
    """The editor of one ticket type: diagram and properties, problems, forms and versions."""
    if not KEY.fullmatch(key):
        abort(404)
    return render_template(
        "studio/editor.html",
        key=key,
        script=url_for("static", filename="studio/editor.js"),
        styles=url_for("static", filename="studio/editor.css"),
    )
