"""Reading a received e-mail (app/mail/inbound.py): the words, the thread, the machine-written ones."""

from app.mail.inbound import clean_subject, is_ours, parse, plus_ticket

HTML_ONLY = (
    b"From: Jane <Jane@Example.com>\r\nSubject: Re: [#7] Broken\r\nMessage-ID: <m1@x>\r\n"
    b"In-Reply-To: <b@ticketflow.example>\r\nReferences: <ticket-7@ticketflow.example> <a@t> <b@ticketflow.example>\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n"
    b"<p>It was <b>blue</b> &amp; big.</p><blockquote>Which colour?</blockquote><script>x()</script>"
)


def test_an_html_only_mail_gives_its_text_without_the_quote():
    mail = parse(HTML_ONLY)
    assert (mail.sender, mail.sender_name, mail.text) == ("jane@example.com", "Jane", "It was blue & big.")
    assert mail.subject_ticket == 7 and mail.automatic is None


def test_the_thread_is_read_newest_first():
    assert parse(HTML_ONLY).answers == ("<b@ticketflow.example>", "<a@t>", "<ticket-7@ticketflow.example>")


def test_a_mail_without_message_id_gets_a_digest_of_its_bytes():
    raw = b"From: jane@example.com\r\nSubject: hi\r\n\r\nHello"
    assert parse(raw).message_id == parse(raw).message_id != parse(raw + b"!").message_id


def test_auto_submitted_no_is_a_person():
    raw = b"From: jane@example.com\r\nAuto-Submitted: no\r\nSubject: hi\r\n\r\nHello"
    assert parse(raw, "jane@example.com").automatic is None
    assert parse(raw.replace(b"Auto-Submitted: no", b"X-Autoreply: yes")).automatic is not None


def test_addresses_and_subjects():
    config = {
        "MAIL_FROM": "Help <help@acme.test>",
        "MAIL_REPLY_TO": "",
        "MAIL_GATEWAY_ADDRESSES": ("orders@acme.test",),
    }
    assert is_ours("help+12@ACME.test", config) and is_ours("orders@acme.test", config)
    assert not is_ours("help@other.test", config) and not is_ours("helper@acme.test", config)
    assert plus_ticket("support+12@x.test") == 12 and plus_ticket("support+abc@x.test") is None
    assert clean_subject("Re: AW: [#12] Broken zip") == "Broken zip"
