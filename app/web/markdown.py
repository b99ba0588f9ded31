"""Task instructions as Markdown: the one sanitized renderer behind the inbox's task page and the
studio's preview (both through the `instructions` macro of app/templates/inbox/_instructions.html).

Instructions are diagram input, written by analysts or imported with a diagram, so they are
rendered as data, never trusted:

* CommonMark (markdown-it-py's `commonmark` preset) with raw HTML off: `<script>`, `<b>` or an
  `onclick=` in the text is shown as text, escaped; no rule that emits attributes from the text
  other than a link's `href` and a code block's `language-` class (both escaped) is on.
* Links only to `http:`, `https:` and `mailto:` (after markdown-it's URL normalization, which
  percent-encodes spaces and control characters); any other link stays text. Every link carries
  `rel="noopener noreferrer nofollow"`. Images are never loaded: `![alt](url)` is a link to the
  picture, named by its alt text.
* Bounded: at most `INSTRUCTIONS_MAX_CHARS` characters, nesting at most `MAX_NESTING` levels, and
  `INSTRUCTIONS_RENDER_SECONDS` of parsing: a check at every block line and every inline position
  (including those markdown-it's link-label scan visits) stops a pathological text (`[` or `![`
  repeated, whose label scans are quadratic) at its deadline.

`markdown_html` raises `MarkdownRefused` past a bound (the studio's preview answers 422 naming
`text`); `instructions_html`, the template filter, then shows the text escaped with its line
breaks, shortened to the size bound (the inbox's bounded render).
"""

from __future__ import annotations

import functools
import logging
import re

from flask import Flask, current_app
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup

from app.work_clock import work_seconds

log = logging.getLogger(__name__)

MAX_NESTING = 20
LINK_REL = "noopener noreferrer nofollow"
_ALLOWED_LINK = re.compile(r"(?:https?://|mailto:)[^\s]", re.IGNORECASE)
_DEADLINE = "ticketflow_deadline"  # the key of the render's deadline in markdown-it's env


class MarkdownRefused(ValueError):
    """The instructions are too long or too slow to render as Markdown; the message says which."""


def _allowed_link(url: str) -> bool:
    return bool(_ALLOWED_LINK.match(url))


def _check_deadline(state, *_args) -> bool:
    """A rule tried first at every block line and inline position: it never matches, it only stops
    a render past its deadline."""
    deadline = state.env.get(_DEADLINE)
    if deadline is not None and work_seconds() > deadline:
        raise _Overrun
    return False


class _Overrun(Exception):
    pass


def _link_open(renderer, tokens, idx, options, env) -> str:
    tokens[idx].attrSet("rel", LINK_REL)
    return renderer.renderToken(tokens, idx, options, env)


def _image_as_link(renderer, tokens, idx, options, env) -> str:
    token = tokens[idx]
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    href = escapeHtml(str(token.attrGet("src") or ""))
    return f'<a href="{href}" rel="{LINK_REL}">{escapeHtml(alt)}</a>'


@functools.cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.options["maxNesting"] = MAX_NESTING
    md.disable(["html_block", "html_inline"])
    md.validateLink = _allowed_link
    md.block.ruler.before("table", "ticketflow_deadline", _check_deadline)
    md.inline.ruler.before("text", "ticketflow_deadline", _check_deadline)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("image", _image_as_link)
    return md


@functools.lru_cache(maxsize=128)
def _render(text: str, seconds: float) -> str:
    """Cached, so the studio's preview (which checks, then renders the macro) parses once."""
    env = {_DEADLINE: work_seconds() + seconds}
    try:
        return _parser().render(text, env)
    except _Overrun:
        raise MarkdownRefused(
            f"they take longer than {seconds:g} s to render as Markdown: simplify them "
            "(a long run of [ or ! characters, or deeply nested lists or quotes)"
        ) from None
    except RecursionError:
        raise MarkdownRefused("they nest too deeply to render as Markdown") from None


def markdown_html(text: str) -> Markup:
    """`text` rendered as sanitized Markdown.

    Raises:
        MarkdownRefused: longer than INSTRUCTIONS_MAX_CHARS characters, or its parse ran past
            INSTRUCTIONS_RENDER_SECONDS.
    """
    limit = current_app.config["INSTRUCTIONS_MAX_CHARS"]
    if len(text) > limit:
        raise MarkdownRefused(f"they are longer than {limit} characters")
    return Markup(_render(text, current_app.config["INSTRUCTIONS_RENDER_SECONDS"]))


def instructions_html(text: str | None) -> Markup:
    """The instructions block of a task page: the Markdown, or (refused) the text escaped with its
    line breaks and shortened to the size bound."""
    if not text:
        return Markup("")
    try:
        html = markdown_html(text)
    except MarkdownRefused as exc:
        log.info("instructions shown as plain text: %s", exc)
        shortened = text[: current_app.config["INSTRUCTIONS_MAX_CHARS"]]
        return Markup('<p class="instructions instructions-plain">%s</p>') % shortened
    if not html.strip():
        return Markup("")
    return Markup('<div class="instructions">\n%s</div>') % html


def init_app(app: Flask) -> None:
    """Offer `instructions_html` to templates as the `instructions_html` filter."""
    app.add_template_filter(instructions_html, "instructions_html")
