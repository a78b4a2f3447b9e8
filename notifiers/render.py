"""Turn alerts into messages with Jinja2 templates (text, Markdown, HTML).

Templates live in ``notifiers/templates/``::

    alert.txt.j2   alert.md.j2   alert.html.j2     one alert
    digest.txt.j2  digest.md.j2  digest.html.j2    a digest
    alert_title.txt.j2  digest_title.txt.j2        the subject / chat title

A route's ``templates = "dir"`` overrides any of them: a file of the same
name in that directory wins, the bundled one fills the gaps. HTML templates
are autoescaped. In text and Markdown templates every value is passed
through ``neutralise`` (Jinja's ``finalize``): what a regulator's page says
(a title, an excerpt) must not act as markup in the chat that receives it —
Slack's ``<!channel>``, ``<!here>``, ``<@user>`` and ``<url|text>`` (which
apprise's Slack plugin would turn back into live syntax even when escaped as
``&lt;…&gt;``), Discord's ``@everyone``/``@here``, Markdown links
``[text](url)`` (Discord, Telegram, Matrix…) and code fences. Templates see the values of
``notifiers.context.alert_context`` (and ``digest_context`` for digests).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from notifiers.context import alert_context, digest_context
from notifiers.errors import TemplateError
from notifiers.services import (
    CUT_MARK,
    Format,
    counts_bytes,
    cut_to,
    format_for,
    limit_for,
    service_info,
    size,
)
from notifiers.types import Alert

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "CUT_MARK",
    "Message",
    "check_templates",
    "counts_bytes",
    "cut_to",
    "fit",
    "format_for",
    "limit_for",
    "render_alert",
    "render_digest",
]

BUNDLED = Path(__file__).with_name("templates")
EXTENSIONS: dict[str, str] = {"text": "txt", "markdown": "md", "html": "html"}
TEMPLATE_NAMES = (
    *(f"{kind}.{ext}.j2" for kind in ("alert", "digest") for ext in EXTENSIONS.values()),
    "alert_title.txt.j2",
    "digest_title.txt.j2",
)
MAX_TITLE = 200


@dataclass(frozen=True)
class Message:
    """A rendered message: a one-line title and a body in one format."""

    title: str
    body: str
    format: Literal["text", "markdown", "html"]


def _autoescape(name: str | None) -> bool:
    return bool(name) and str(name).endswith(".html.j2")


_MENTION = re.compile(r"@(everyone|here|channel)\b", re.IGNORECASE)
_SLACK_ANGLE = re.compile(r"<(?=\s*[!@#]|\s*(?:https?|mailto):)", re.IGNORECASE)
_URL_ESCAPES = {"<": "%3C", ">": "%3E", "[": "%5B", "]": "%5D", "|": "%7C", "`": "%60"}
_MARKDOWN = {"<": "\u2039", ">": "\u203a", "[": "\uff3b", "]": "\uff3d", "`": "\u02cb"}


def neutralise(value: Any, fmt: str) -> Any:
    """``value`` (a string from an alert) made inert for a chat in ``fmt`` (see the
    module docstring). A URL is percent-encoded where it has markup characters;
    other text gets look-alike characters (‹ › ［ ］ ˋ) and a zero-width space
    after ``@`` of a mass mention. Non-strings and HTML pass unchanged."""
    if not isinstance(value, str) or fmt == "html" or not value:
        return value
    if re.match(r"(?i)https?://\S+$", value):
        return "".join(_URL_ESCAPES.get(ch, ch) for ch in value)
    text = _MENTION.sub("@\u200b\\1", value)
    if fmt == "markdown":
        return "".join(_MARKDOWN.get(ch, ch) for ch in text)
    return _SLACK_ANGLE.sub("\u2039", text)


def _format_of(name: str) -> str:
    return (
        "html" if name.endswith(".html.j2") else "markdown" if name.endswith(".md.j2") else "text"
    )


@lru_cache(maxsize=32)
def _environment(templates_dir: str | None, fmt: str = "text") -> jinja2.Environment:
    import jinja2  # here, not at the top: only a run that renders an alert needs it

    loaders: list[jinja2.BaseLoader] = []
    if templates_dir:
        loaders.append(jinja2.FileSystemLoader(os.fspath(templates_dir)))
    loaders.append(jinja2.FileSystemLoader(os.fspath(BUNDLED)))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=lambda value: neutralise(value, fmt),
    )


def _render(
    name: str, values: dict[str, Any], templates_dir: str | None, fmt: str | None = None
) -> str:
    """Render ``name``; values are neutralised for ``fmt`` (default: the template's
    own format; a title is neutralised for the format of its message)."""
    import jinja2

    try:
        template = _environment(templates_dir, fmt or _format_of(name)).get_template(name)
        return template.render(**values)
    except jinja2.TemplateNotFound:
        raise TemplateError("template not found", template=name) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", template=name, line=exc.lineno) from None
    except jinja2.TemplateError as exc:  # UndefinedError and friends
        raise TemplateError(str(exc), template=name) from None


def _tidy(body: str) -> str:
    body = "\n".join(line.rstrip() for line in body.strip().splitlines())
    return re.sub(r"\n{3,}", "\n\n", body)


def _title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_TITLE else line[: MAX_TITLE - 1].rstrip() + "…"


def _check_format(fmt: str) -> Format:
    if fmt not in EXTENSIONS:
        raise ValueError(f"format must be text, markdown or html, not {fmt!r}")
    return fmt  # type: ignore[return-value]


def render_alert(alert: Alert, *, fmt: str, templates_dir: str | None = None) -> Message:
    """Render one alert as ``fmt`` (text / markdown / html)."""
    form = _check_format(fmt)
    values = alert_context(alert)
    title = _render(
        "alert_title.txt.j2", values, templates_dir, "markdown" if form == "markdown" else "text"
    )
    body = _render(f"alert.{EXTENSIONS[form]}.j2", values, templates_dir)
    return Message(title=_title(title), body=_tidy(body), format=form)


def render_digest(
    alerts: Sequence[Alert], *, fmt: str, title: str, templates_dir: str | None = None
) -> Message:
    """Render a digest of ``alerts``, grouped by regulator and then by ATMP class."""
    form = _check_format(fmt)
    values = digest_context(alerts, title)
    subject = _render(
        "digest_title.txt.j2", values, templates_dir, "markdown" if form == "markdown" else "text"
    )
    body = _render(f"digest.{EXTENSIONS[form]}.j2", values, templates_dir)
    return Message(title=_title(subject), body=_tidy(body), format=form)


def fit(message: Message, url: str) -> Message:
    """``message`` cut to what ``url``'s service accepts.

    Services without a title field (WeCom, Telegram) get the title on top of
    the body, so its size comes off the body's budget.
    """
    info = service_info(url)
    in_bytes = info.unit == "bytes"
    budget = info.limit
    if info.title_in_body and message.title:
        budget -= size(message.title, in_bytes=in_bytes) + 2
    return replace(message, body=cut_to(message.body, max(budget, 0), in_bytes=in_bytes))


def check_templates(templates_dir: str) -> list[str]:
    """Problems with a user template directory: unknown names, syntax errors.

    Files starting with ``_`` are partials (for ``{% include %}``) and may be
    named freely.
    """
    import jinja2

    problems = []
    env = _environment(templates_dir)
    for name in sorted(p.name for p in Path(templates_dir).glob("*.j2")):
        if name not in TEMPLATE_NAMES and not name.startswith("_"):
            problems.append(f"{name}: not a regwatch template (known: {', '.join(TEMPLATE_NAMES)})")
            continue
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(f"{name} line {exc.lineno}: {exc.message}")
    return problems
