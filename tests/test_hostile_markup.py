"""A crafted title must not act as chat markup: mass mentions, Slack link
syntax and Markdown links from a regulator's page arrive inert.

The real renderer and the real apprise: a JSON webhook receiver on 127.0.0.1
takes the markdown and text messages; the Slack payload is built by apprise's
own Slack plugin, with only its HTTP post captured (hooks.slack.com is not
reachable from a test).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from notifiers.render import neutralise, render_alert
from notifiers.send import send_to
from notifiers.types import Alert
from tests.receivers import WebhookReceiver

EVIL = (
    "<!channel> <!here> <https://evil.example|Official notice> "
    "[Official notice](https://evil.example) @everyone ```"
)


def evil_alert() -> Alert:
    return Alert(
        id="evil-1",
        kind="draft",
        source="cde",
        regulator="CDE",
        jurisdiction="CN",
        title=f"细胞治疗产品指导原则 {EVIL}",
        url="https://www.cde.org.cn/a.html",
        relevant=True,
        cn=("cell_therapy",),
        status="draft",
        doc_type="guideline",
    )


def live_markup(text: str) -> list[str]:
    found = [
        token
        for token in (
            "<!channel>",
            "<!here>",
            "<https://evil.example|",
            "](https://evil.example)",
            "@everyone",
            "```",
        )
        if token in text
    ]
    return found


@pytest.mark.parametrize("fmt", ["markdown", "text"])
def test_a_crafted_title_reaches_a_webhook_inert(hook: WebhookReceiver, fmt: str) -> None:
    message = render_alert(evil_alert(), fmt=fmt)
    result = send_to(hook.json_url("/chat"), message)
    assert result.ok, result.error
    [post] = hook.posts
    payload = post.json
    assert isinstance(payload, dict)
    received = f"{payload.get('title', '')}\n{payload.get('message', '')}"
    assert "细胞治疗产品指导原则" in received and "Official notice" in received
    slack_live = [t for t in live_markup(received) if t.startswith("<")]
    assert slack_live == []
    if fmt == "markdown":
        assert live_markup(received) == []


def test_the_slack_payload_has_no_live_mention_or_link(monkeypatch: pytest.MonkeyPatch) -> None:
    import apprise
    from apprise.plugins import slack

    sent: list[dict[str, Any]] = []

    class Answer:
        status_code = 200
        content = b"ok"
        text = "ok"

    def request(method: str, url: str, data: Any = None, **_: Any) -> Answer:
        sent.append(json.loads(data))
        return Answer()

    monkeypatch.setattr(slack.requests, "request", request)  # type: ignore[attr-defined]
    message = render_alert(evil_alert(), fmt="markdown")
    notifier = apprise.Apprise()
    assert notifier.add("slack://T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx")
    assert notifier.notify(
        body=message.body, title=message.title, body_format=apprise.NotifyFormat.MARKDOWN
    )
    text = json.dumps(sent, ensure_ascii=False)
    assert sent and "Official notice" in text
    assert "<!channel" not in text and "<!here" not in text
    assert "<https://evil.example" not in text


def test_the_unescaped_title_would_be_live_in_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: apprise's Slack plugin restores <!channel> from raw text."""
    import apprise
    from apprise.plugins import slack

    sent: list[str] = []

    class Answer:
        status_code = 200
        content = b"ok"

    def request(method: str, url: str, data: Any = None, **_: Any) -> Answer:
        sent.append(str(data))
        return Answer()

    monkeypatch.setattr(slack.requests, "request", request)  # type: ignore[attr-defined]
    notifier = apprise.Apprise()
    assert notifier.add("slack://T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx")
    notifier.notify(body=EVIL, title="t", body_format=apprise.NotifyFormat.MARKDOWN)
    assert "<!channel>" in "".join(sent)


def test_a_url_keeps_working_but_loses_its_markup() -> None:
    assert (
        neutralise("https://www.cde.org.cn/a.html?x=1", "markdown")
        == "https://www.cde.org.cn/a.html?x=1"
    )
    assert neutralise("https://a.example/x|y>", "text") == "https://a.example/x%7Cy%3E"
    assert neutralise("<b>", "html") == "<b>"
