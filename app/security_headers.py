"""Security headers on every response: a strict Content-Security-Policy and its companions.

The policy (`DEFAULT_POLICY`) lets a page load scripts, style sheets, images and fonts from this
server only, with no inline script or style, no plugins, no framing and no form posted
elsewhere. A page that needs more (the studio's editor, the dashboard's charts) asks for exactly
that, for its blueprint or its view only, and every other page keeps the default:

    from app.security_headers import extend_csp
    extend_csp(bp, {"img-src": ["blob:"]})          # every page of a blueprint

    @bp.get("/chart")
    @extend_csp({"connect-src": ["wss://example.org"]})  # one view
    def chart(): ...

A source added to a directive whose default is 'none' replaces the 'none'. `NONCE` as a source
stands for this request's nonce (`'nonce-…'`, fresh for every answer): a page whose library
injects `<style>` elements (CodeMirror in the studio's editor) allows exactly those it marks with
`csp_nonce()`, which templates call to put the nonce where the page's script reads it:

    @extend_csp({"style-src": [NONCE]})
    def editor(): ...                # template: <meta name="csp-nonce" content="{{ csp_nonce() }}">
 `Cache-Control:
no-store` goes on every answer except the static files (pages and API answers may hold personal
data); the session cookie is `Secure` when `SESSION_COOKIE_SECURE` is set (app/config.py), and
`Server` names the product without a version.
"""

import secrets
from collections.abc import Callable, Mapping, Sequence

from flask import Blueprint, Flask, current_app, g, request

DEFAULT_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "object-src": ("'none'",),
    "base-uri": ("'none'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
        "payment=(), usb=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Server": "Ticketflow",
}

_EXTRA = "_csp_extra"  # where extend_csp keeps a blueprint's or a view's additions
NONCE = "'nonce'"  # a source standing for this request's nonce (see csp_nonce)

Directives = Mapping[str, Sequence[str]]


def extend_csp(target_or_directives: Blueprint | Directives, directives: Directives | None = None):
    """Add sources to the policy of a blueprint's pages (`extend_csp(bp, {...})`) or, as a
    decorator, of one view (`@extend_csp({...})`). Returns the blueprint or the decorator."""
    if isinstance(target_or_directives, Blueprint):
        _add(target_or_directives, directives or {})
        return target_or_directives

    def decorate(view: Callable) -> Callable:
        _add(view, target_or_directives)
        return view

    return decorate


def _add(target, directives: Directives) -> None:
    extra = dict(getattr(target, _EXTRA, {}))
    for name, sources in directives.items():
        if isinstance(sources, str):
            raise TypeError(f"extend_csp: give the sources of {name} as a list")
        extra[name] = (*extra.get(name, ()), *sources)
    setattr(target, _EXTRA, extra)


def csp_nonce() -> str:
    """This request's CSP nonce: made on first use, the same for the rest of the request."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def policy_for_request() -> str:
    """The Content-Security-Policy of this request: the default plus its blueprints' and view's additions."""
    policy = dict(DEFAULT_POLICY)
    sources = [current_app.blueprints.get(name) for name in request.blueprints]
    sources.append(current_app.view_functions.get(request.endpoint) if request.endpoint else None)
    for target in sources:
        for name, added in getattr(target, _EXTRA, {}).items():
            base = tuple(s for s in policy.get(name, policy["default-src"]) if s != "'none'")
            added = tuple(f"'nonce-{csp_nonce()}'" if s == NONCE else s for s in added)
            policy[name] = base + tuple(s for s in added if s not in base)
    return "; ".join(f"{name} {' '.join(values)}" for name, values in policy.items())


def add_security_headers(response):
    """Set the headers on every answer (error pages included); static files stay cacheable."""
    response.headers["Content-Security-Policy"] = policy_for_request()
    for name, value in HEADERS.items():
        response.headers[name] = value
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
