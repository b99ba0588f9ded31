"""One date format (issue 12): the `when` filter shows times in the viewer's zone with the zone named;
`<time datetime>` keeps ISO 8601 in UTC."""

from datetime import UTC, date, datetime, timedelta

from flask import render_template_string

from app.web.formatting import valid_zone, when

WINTER = datetime(2026, 12, 2, 14, 14, 18, 521260, tzinfo=UTC)
SUMMER = datetime(2026, 7, 2, 14, 14, tzinfo=UTC)


def test_when_shows_the_default_zone_named(app):
    with app.test_request_context():
        assert when(WINTER) == "02 Dec 2026 15:14 CET"
        assert when(SUMMER) == "02 Jul 2026 16:14 CEST"
        assert when(WINTER, "date") == "02 Dec 2026"
        assert when(date(2026, 12, 2)) == "02 Dec 2026"
        assert when(WINTER.replace(tzinfo=None)) == "02 Dec 2026 15:14 CET"  # naive means UTC
        assert when("2026-12-02T14:14:18+00:00") == "02 Dec 2026 15:14 CET"
        assert when(None) == ""


def test_the_default_zone_comes_from_config(app):
    app.config["DEFAULT_TIMEZONE"] = "Asia/Tokyo"
    with app.test_request_context():
        assert when(WINTER) == "02 Dec 2026 23:14 JST"


def test_iso_times_inside_a_text_become_readable(app):
    with app.test_request_context():
        text = "The first response was due 2026-12-02T14:14:18.521260+00:00; answer now."
        assert when(text, "text") == "The first response was due 02 Dec 2026 15:14 CET; answer now."


def test_relative_times_and_the_time_tag(app, clock):
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    with app.test_request_context():
        assert when(now - timedelta(hours=2), "relative") == "2 hours ago"
        assert when(now + timedelta(days=3, hours=1), "relative") == "in 3 days"
        html = render_template_string("{{ time_tag(t, 'relative') }}", t=now - timedelta(minutes=1))
    assert html == (
        '<time datetime="2026-11-23T08:59:00+00:00" title="23 Nov 2026 09:59 CET">'
        "1 minute ago · 23 Nov 2026 09:59 CET</time>"
    )


def test_the_time_tag_of_each_style(app):
    with app.test_request_context():
        tags = {
            style: render_template_string("{{ time_tag(t, style) }}", t=WINTER, style=style)
            for style in ("datetime", "date", "time")
        }
        assert render_template_string("{{ time_tag(t) }}", t=None) == ""
        assert render_template_string("{{ time_tag(t) }}", t="not a time") == ""
        from_text = render_template_string("{{ time_tag(t, 'date') }}", t="2026-12-02")
    assert tags == {
        "datetime": '<time datetime="2026-12-02T14:14:18+00:00" title="02 Dec 2026 15:14 CET">'
        "02 Dec 2026 15:14 CET</time>",
        "date": '<time datetime="2026-12-02T14:14:18+00:00" title="02 Dec 2026">02 Dec 2026</time>',
        "time": '<time datetime="2026-12-02T14:14:18+00:00" title="02 Dec 2026 15:14 CET">15:14 CET</time>',
    }
    assert from_text == '<time datetime="2026-12-02" title="02 Dec 2026">02 Dec 2026</time>'


def test_only_known_iana_zones_are_valid():
    assert valid_zone("Europe/Berlin") is not None
    assert valid_zone("America/New_York") is not None
    for name in ("", "Mars/Olympus", "../etc/passwd", "/etc/localtime", "x" * 80):
        assert valid_zone(name) is None


def test_task_instructions_show_their_times_readably(app):
    with app.test_request_context():
        html = render_template_string(
            '{% from "inbox/_instructions.html" import instructions %}{{ instructions(text) }}',
            text="The first response is overdue: it was due 2026-12-02T14:14:18.521260+00:00. <b>Now</b>",
        )
    assert html.strip() == (
        '<div class="instructions">\n<p>The first response is overdue: it was due 02 Dec 2026 15:14 CET. '
        "&lt;b&gt;Now&lt;/b&gt;</p>\n</div>"
    )
