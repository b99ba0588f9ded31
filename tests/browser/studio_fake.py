"""A stand-in for the studio's JSON endpoints (the contract in app/web/studio/api.py's docstring),
answered inside the browser with `page.route`, so the studio's browser side is tested on its own.

`FakeStudio(page)` serves the `return` type from processes/ and forms/, records every request
(method, path, JSON body) in `requests`, and answers checks and saves with `problems`.
"""

import json
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]

CATALOG = {
    "operators": [
        {"name": "ticket.set_status", "parameters": [{"name": "status", "type": "str", "required": True}]},
        {
            "name": "notify.customer",
            "parameters": [
                {"name": "subject", "type": "str", "required": True},
                {"name": "body", "type": "str", "required": True},
            ],
        },
    ],
    "teams": [{"key": "returns", "name": "Returns"}, {"key": "customer-success", "name": "Customer success"}],
    "forms": ["return_start.json", "return_review.json", "return_receive_item.json"],
    "decisions": ["assignment", "priority"],
    "retry_defaults": {"retries": 3, "backoff_base": 2},
    "statuses": ["awaiting_customer", "closed", "in_progress", "new", "resolved"],
}


def shipped_files(key: str = "return") -> dict[str, str]:
    files = {f"{key}.bpmn": (ROOT / "processes" / f"{key}.bpmn").read_text()}
    for form in sorted((ROOT / "forms").glob(f"{key}_*.json")):
        files[form.name] = form.read_text()
    return files


class FakeStudio:
    def __init__(self, page, key: str = "return", app=None):
        self.app = app  # when given, form previews come from the real form macros
        self.key = key
        self.files = shipped_files(key)
        self.problems: list[dict] = []
        self.retired = False
        self.requests: list[tuple[str, str, object]] = []
        self.versions = [
            {
                "version": 1,
                "deployed_by": "root",
                "deployed_at": "2026-12-01T09:00:00+00:00",
                "comment": "shipped",
                "running": 1,
            }
        ]
        page.route("**/studio/api/**", self._answer)

    def bodies(self, method: str, path: str) -> list:
        return [body for m, p, body in self.requests if (m, p) == (method, path)]

    def _answer(self, route):
        request = route.request
        parts = urlsplit(request.url)
        path = parts.path.removeprefix("/studio/api")
        body = json.loads(request.post_data) if request.post_data else None
        self.requests.append((request.method, path, body))
        if request.method != "GET" and not request.headers.get("x-csrftoken"):
            return self._json(route, {"error": "The CSRF token is missing."}, 400)
        status, answer = self._handle(request.method, path, body)
        return self._json(route, answer, status)

    def _handle(self, method, path, body):
        base = f"/types/{self.key}"
        table = {
            ("GET", "/types"): lambda: {
                "types": [
                    {
                        "key": self.key,
                        "name": "Return",
                        "latest_version": 1,
                        "deployed_by": "root",
                        "deployed_at": "2026-12-01T09:00:00+00:00",
                        "running": {"1": 1},
                        "retired": self.retired,
                        "has_draft": False,
                    }
                ]
            },
            ("POST", "/types"): lambda: self._create(body),
            ("GET", "/catalog"): lambda: CATALOG,
            ("GET", f"{base}/draft"): lambda: {
                "key": self.key,
                "files": self.files,
                "base_version": 1,
                "updated_at": None,
                "saved": False,
            },
            ("PUT", f"{base}/draft"): lambda: self._save(body),
            ("POST", f"{base}/check"): lambda: {"problems": self.problems},
            ("POST", f"{base}/deploy"): lambda: {"version": 2, "unchanged": False},
            ("GET", f"{base}/versions"): lambda: {"versions": self.versions},
            ("GET", f"{base}/versions/1"): lambda: {"version": 1, "files": shipped_files(self.key)},
            ("POST", "/forms/preview"): lambda: self._preview(body),
            ("DELETE", f"{base}/draft"): lambda: {"discarded": True},
            ("POST", f"{base}/retire"): lambda: self._retire(True),
            ("POST", f"{base}/unretire"): lambda: self._retire(False),
            ("POST", f"{base}/versions/1/restore"): lambda: {"restored": True},
            ("GET", f"{base}/diff"): lambda: {
                "added": [],
                "removed": ["old_task"],
                "changed": ["review_request"],
                "forms": {"return_review.json": '--- v1\n+++ draft\n-  "title": "Old"\n+  "title": "New"'},
            },
            ("POST", "/instructions/preview"): lambda: self._instructions(body),
            ("POST", "/timers/preview"): lambda: (
                (200, {"next_due": "2026-12-05T09:00:00+00:00"})
                if body["expression"] == '"P3D"'
                else (422, {"error": "bad timer", "errors": {"expression": "not an ISO 8601 duration"}})
            ),
        }
        handler = table.get((method, path))
        if handler is None:
            return 404, {"error": f"no fake for {method} {path}"}
        answer = handler()
        return answer if isinstance(answer, tuple) else (200, answer)

    def _preview(self, body):
        errors = {"note": "This field is required."} if body.get("data") == {} else {}
        if self.app is None:
            html = '<div class="field"><label for="f-note">Note</label><input id="f-note" name="note"></div>'
        else:
            from flask import render_template_string

            with self.app.test_request_context():
                html = render_template_string(
                    '{% from "forms/macros.html" import form_fields %}{{ form_fields(schema, {}, errors) }}',
                    schema=body["schema"],
                    errors=errors,
                )
        return {"html": html, "errors": errors}

    def _instructions(self, body):
        """The inbox's own markup around the text, not rendered (the real endpoint renders it)."""
        text = body["text"].replace(
            "{{ customer.name }}", body.get("data", {}).get("customer", {}).get("name", "")
        )
        if self.app is None:
            return {"html": f'<div class="instructions"><p>{text}</p></div>', "warning": None}
        from flask import render_template_string

        with self.app.test_request_context():
            html = render_template_string(
                '{% from "inbox/_instructions.html" import instructions %}{{ instructions(text) }}', text=text
            )
        return {"html": html, "warning": None}

    def _retire(self, retired: bool):
        self.retired = retired
        return {"retired": retired}

    def _create(self, body):
        self.key = body["key"]
        self.files = {f"{self.key}.bpmn": shipped_files()["return.bpmn"]}
        return 201, {"key": self.key}

    def _save(self, body):
        self.files = dict(body["files"])
        return {"saved": True, "problems": self.problems}

    @staticmethod
    def _json(route, answer, status):
        return route.fulfill(status=status, content_type="application/json", body=json.dumps(answer))
