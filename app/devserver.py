"""`flask serve`: the development server of `make run-dev`, naming itself without a version.

Werkzeug's development server sends `Server: Werkzeug/<version> Python/<version>` whatever the
app sets; this one sends `Server: Ticketflow`, as every answer of the app says
(app/security_headers.py). `make run` and production run gunicorn (`wsgi.py`), which
gunicorn.conf.py names `Ticketflow` too.
"""

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import WSGIRequestHandler, run_simple


class RequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler, without its version in `Server`."""

    def version_string(self) -> str:
        return "Ticketflow"

    def send_response(self, code: int, message: str | None = None) -> None:
        """The standard status line and `Date`, without a second `Server`: the app's answer has one."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Run the development server (threaded, no reloader) for `make run-dev`."""
    run_simple(host, port, current_app._get_current_object(), threaded=True, request_handler=RequestHandler)
