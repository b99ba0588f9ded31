"""A database that cannot be reached (restarting, a cut connection) answers 503 with Retry-After
and a body that says so, never a 500 (the fault suite's F4 restarts a real PostgreSQL)."""

import socket

import pytest

from app import create_app


@pytest.fixture
def unreachable(tmp_path):
    with socket.socket() as s:  # a port nobody listens on: every connection is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{port}/gone",
            "INSTANCE_PATH": str(tmp_path),
        }
    )


def test_the_api_answers_503_json_naming_the_database(unreachable):
    answer = unreachable.test_client().get("/api/v1/tickets", headers={"Authorization": "Bearer abc"})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.get_json() == {
        "error": "the database is unavailable for a moment; nothing was saved, try again shortly"
    }


def test_a_page_answers_503_in_plain_words(unreachable):
    from sqlalchemy.exc import OperationalError

    from app.errors import database_error

    cut = OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
    with unreachable.test_request_context("/inbox/", headers={"Accept": "text/html"}):
        page, status, headers = database_error(cut)
    assert status == 503 and headers["Retry-After"] == "5"
    assert "cannot be reached for a moment" in page and "Traceback" not in page
