"""Every answer carries the security headers: a strict CSP, no sniffing, no framing, no caching.

The GET routes come from the URL map (with an id for each argument), called as anonymous and
signed in as each role, together with the API, error pages and a form post.
"""

import re

import pytest
from flask import Blueprint, render_template_string

from app import create_app
from app.security_headers import NONCE, extend_csp
from tests.factories import PATH_VALUES, deploy_shipped, login, make_customer_user, make_user, token_for

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The studio's pages and the dashboard's instance page (bpmn-js sets style attributes) add inline
# style attributes, and nothing else.
STUDIO_CSP = STRICT_CSP + "; style-src-attr 'self' 'unsafe-inline'"
# /dev/mail/<name> too: the caught mail's own style attributes, in its sandboxed frame.
DIAGRAM_PAGES = re.compile(r"^/studio/|^/dashboard/tickets/[^/]+$|^/dev/mail/[^/]+$")
EXPECTED = {
    "Content-Security-Policy": STRICT_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Server": "Ticketflow",
}
IDS = {
    "ticket_id": 1,
    "task_id": "nope",
    "attachment_id": 1,
    "user_id": 1,
    "team_id": 1,
    "incident_id": 1,
    **PATH_VALUES,
}


def _get_urls(app):
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static":
            url = rule.rule
            for name in rule.arguments:
                url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(IDS[name]), url)
            urls.append(url)
    return sorted(urls)


# The studio's editor also allows the <style> elements CodeMirror marks with the answer's nonce.
EDITOR_CSP = re.compile(
    re.escape(STUDIO_CSP.replace("style-src 'self';", "style-src 'self' NONCE;")).replace(
        "NONCE", r"'nonce-[A-Za-z0-9_\-]{24}'"
    )
)


# The dashboard's chart and heatmap pages (Chart.js and bpmn-js set style attributes): the same addition.
STYLED_DASHBOARD = ("/dashboard/", "/dashboard/kpis", "/dashboard/heatmap")


def _assert_headers(answer, url):
    if url.startswith("/studio/types/") and not url.endswith(".zip"):
        assert EDITOR_CSP.fullmatch(answer.headers["Content-Security-Policy"]), answer.headers
        answer.headers["Content-Security-Policy"] = STUDIO_CSP
    expected = EXPECTED | (
        {"Content-Security-Policy": STUDIO_CSP}
        if DIAGRAM_PAGES.match(url) or url.split("?")[0] in STYLED_DASHBOARD
        else {}
    )
    for name, value in expected.items():
        assert answer.headers.get(name) == value, (url, name, answer.headers.get(name))
    assert "camera=()" in answer.headers["Permissions-Policy"]
    assert "microphone=()" in answer.headers["Permissions-Policy"]
    assert answer.headers["Cache-Control"] == "no-store", url


@pytest.fixture
def people(app):
    deploy_shipped()
    make_user("root", "admin", password="pw")
    make_user("alice", "agent", teams=("returns",), password="pw")
    make_user("max", "manager", teams=("returns",), password="pw")
    make_user("ana", "analyst", password="pw")
    make_customer_user("jane")


@pytest.mark.parametrize("who", [None, "root", "alice", "max", "ana", "jane"])
def test_every_page_and_api_answer_has_the_headers(app, people, who):
    client = app.test_client()
    headers = {}
    if who:
        assert login(client, who).status_code == 302
        from app.extensions import db
        from app.models import User

        user = db.session.execute(db.select(User).where(User.username == who)).scalar_one()
        headers = {"Authorization": f"Bearer {token_for(user)}"}
    for url in _get_urls(app):
        _assert_headers(client.get(url, headers=headers if url.startswith("/api/") else {}), url)


def test_error_answers_and_posts_have_the_headers(app, people, client):
    for answer, url in [
        (client.get("/no/such/page"), "404 page"),
        (client.get("/api/v1/nothing"), "API 404"),
        (client.post("/login", data={"username": "x"}), "form post without CSRF"),
        (client.post("/api/v1/messages", json={}), "API 401"),
        (client.delete("/healthz"), "405"),
    ]:
        _assert_headers(answer, url)


def test_static_files_keep_their_caching_but_get_the_other_headers(client):
    answer = client.get("/static/app.css")
    assert answer.status_code == 200
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers.get("Cache-Control") != "no-store"


def test_the_server_header_names_no_version(client):
    assert client.get("/healthz").headers["Server"] == "Ticketflow"


def test_no_template_has_inline_script_or_style():
    """The CSP forbids them, so a page that had one would break in the browser."""
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "app" / "templates"
    for path in templates.rglob("*.html"):
        if path.relative_to(templates).parts[0] == "mail":
            continue  # e-mails, not pages: mail clients read inline styles only (app/mail/compose.py)
        text = path.read_text()
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", text), path
        assert not re.search(r"<script(?![^>]*\ssrc=)", text), path


def test_the_session_cookie_is_secure_when_configured(tmp_path):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "SESSION_COOKIE_SECURE": True}
    )
    answer = app.test_client().get("/login")
    assert "Secure" in answer.headers["Set-Cookie"]


def test_the_session_cookie_is_not_secure_by_default_for_make_run(client):
    assert "Secure" not in client.get("/login").headers["Set-Cookie"]


def test_a_blueprint_or_a_view_adds_only_what_it_needs_to_the_policy(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    studio = Blueprint("studio_test", __name__, url_prefix="/studio-test")
    extend_csp(studio, {"img-src": ["blob:"], "object-src": ["'self'"]})

    @studio.get("/")
    def editor():
        return "editor"

    @studio.get("/chart")
    @extend_csp({"connect-src": ["'self'", "wss://example.org"]})
    def chart():
        return "chart"

    app.register_blueprint(studio)
    client = app.test_client()
    editor_csp = client.get("/studio-test/").headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob:" in editor_csp
    assert "object-src 'self';" in editor_csp  # the source replaces the default 'none'
    assert "script-src 'self';" in editor_csp and "unsafe" not in editor_csp
    chart_csp = client.get("/studio-test/chart").headers["Content-Security-Policy"]
    assert "connect-src 'self' wss://example.org" in chart_csp and "blob:" in chart_csp
    assert client.get("/login").headers["Content-Security-Policy"] == STRICT_CSP


def test_a_nonce_source_is_a_fresh_nonce_per_answer_given_to_the_template(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    pages = Blueprint("nonce_test", __name__, url_prefix="/nonce-test")

    @pages.get("/")
    @extend_csp({"style-src": [NONCE]})
    def page():
        return render_template_string("{{ csp_nonce() }} {{ csp_nonce() }}")

    app.register_blueprint(pages)
    client = app.test_client()
    nonces = []
    for _ in range(2):
        answer = client.get("/nonce-test/")
        first, second = answer.get_data(as_text=True).split()
        assert first == second and len(first) == 24
        assert f"style-src 'self' 'nonce-{first}';" in answer.headers["Content-Security-Policy"]
        nonces.append(first)
    assert nonces[0] != nonces[1]
    assert "nonce" not in client.get("/login").headers["Content-Security-Policy"]


def test_the_development_server_of_make_run_dev_names_no_version(app):
    """Werkzeug's own server would add `Server: Werkzeug/<version> Python/<version>`."""
    import threading
    import urllib.request

    from werkzeug.serving import make_server

    from app.devserver import RequestHandler

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=RequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/healthz") as answer:
            assert answer.headers.get_all("Server") == ["Ticketflow"]  # once: the app's
    finally:
        server.shutdown()
        thread.join()


def test_flask_serve_is_the_command_of_make_run_dev(runner):
    assert "development server" in runner.invoke(args=["serve", "--help"]).output
