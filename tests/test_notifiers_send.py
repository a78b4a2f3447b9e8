"""Sending through apprise to real local receivers: SMTP (aiosmtpd) and HTTP webhooks."""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, date, datetime

import apprise

from notifiers import (
    Alert,
    Message,
    Route,
    check_urls,
    render_alert,
    send,
    send_alert,
    send_digest,
    send_to,
)
from notifiers.services import instantiate
from tests.receivers import SMTP_PASSWORD, SmtpReceiver, WebhookReceiver

PASSWORD = SMTP_PASSWORD  # the smtp fixture's
TOKEN = "hook-t0ken-9f8e7d"
TITLE = "嵌合抗原受体T细胞(CAR-T)治疗产品药学研究技术指导原则（征求意见稿）"
LINK = "https://www.cde.org.cn/main/news/viewInfoCommon/7c8b5f"

DRAFT = Alert(
    id="501",
    kind="draft",
    source="cde-guidelines",
    regulator="CDE",
    jurisdiction="CN",
    title=TITLE,
    url=LINK,
    detected_at=datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
    status="draft",
    relevant=True,
    cn=("cell_therapy",),
    eu=("gtmp",),
    us=("cellular_gene_therapy",),
    modalities=("car_t",),
    doc_type="guideline",
    comment_deadline=date(2026, 12, 31),
)


def test_email_arrives_with_subject_body_link_and_classes(smtp: SmtpReceiver) -> None:
    route = Route(name="mail", urls=[smtp.mailto_url(user="alice", password=PASSWORD)])
    (result,) = send_alert(route, DRAFT)
    assert result.ok, result.error
    assert PASSWORD not in result.url and "alice:****@" in result.url
    (mail,) = smtp.wait_for(1)
    assert smtp.mails[0].login == "alice"
    assert smtp.mails[0].rcpt_tos == ["ra-team@example.com"]
    assert mail["From"].addresses[0].addr_spec == "regwatch@example.com"
    assert mail["Subject"].startswith("[CDE] New draft open for comment until 2026-12-31")
    assert TITLE in mail["Subject"]
    html_part, plain_part = mail.get_body(("html",)), mail.get_body(("plain",))
    assert html_part is not None and plain_part is not None  # apprise adds a text alternative
    html = html_part.get_content()
    assert f'<a href="{LINK}">{TITLE}</a>' in html
    assert "Cell therapy 细胞治疗药品" in html and "GTMP 基因治疗药品" in html
    plain = plain_part.get_content()
    assert TITLE in plain and "Cell therapy 细胞治疗药品" in plain


def test_wrong_password_fails_without_leaking_it(smtp: SmtpReceiver) -> None:
    good = smtp.mailto_url(user="alice", password=PASSWORD)
    bad = smtp.mailto_url(user="alice", password="Wr0ng-pa55word")
    results = send_alert(Route(name="mail", urls=[bad, good]), DRAFT)
    assert [r.ok for r in results] == [False, True]  # each URL has its own outcome
    error = results[0].error or ""
    assert "535" in error  # the server's answer, from apprise's log
    assert "Wr0ng-pa55word" not in error and "Wr0ng-pa55word" not in results[0].url
    assert set(smtp.failed_logins) == {"alice"}  # smtplib tries PLAIN, then LOGIN
    assert len(smtp.wait_for(1)) == 1


def test_smtp_outage_and_recovery(smtp: SmtpReceiver) -> None:
    route = Route(name="mail", urls=[smtp.mailto_url(user="alice", password=PASSWORD)])
    smtp.stop()
    (down,) = send_alert(route, DRAFT, timeout=5)
    assert not down.ok and "refused" in (down.error or "").lower()
    assert PASSWORD not in (down.error or "")
    smtp.start()  # same port
    (up,) = send_alert(route, DRAFT, timeout=5)
    assert up.ok, up.error
    assert len(smtp.wait_for(1)) == 1


def test_rejected_message_is_a_failure(smtp: SmtpReceiver) -> None:
    smtp.mode = "reject"
    (result,) = send_alert(
        Route(name="m", urls=[smtp.mailto_url(user="alice", password=PASSWORD)]), DRAFT
    )
    assert not result.ok and result.error
    assert smtp.mails == []


def test_json_webhook_gets_title_and_text_body(hook: WebhookReceiver) -> None:
    route = Route(name="hook", urls=[hook.json_url("/regwatch/alerts", auth=f"bot:{TOKEN}")])
    (result,) = send_alert(route, DRAFT)
    assert result.ok, result.error
    (post,) = hook.wait_for(1)
    assert post.method == "POST" and post.path == "/regwatch/alerts"
    assert post.json["title"].startswith("[CDE] New draft open for comment until 2026-12-31")
    message = post.json["message"]
    assert TITLE in message and LINK in message and "Cell therapy 细胞治疗药品" in message
    assert "<" not in message and "**" not in message  # json:// gets plain text
    assert TOKEN not in result.url


def test_failing_webhook_gives_a_reason_without_the_token(hook: WebhookReceiver) -> None:
    url = hook.json_url("/alerts", auth=f"bot:{TOKEN}")
    hook.mode = "fail"
    (result,) = send_alert(Route(name="hook", urls=[url]), DRAFT)
    assert not result.ok
    assert "500" in (result.error or "")
    assert TOKEN not in (result.error or "") and TOKEN not in result.url
    assert len(hook.posts) == 1  # it did reach the receiver
    hook.go_down()
    (result,) = send_alert(Route(name="hook", urls=[url]), DRAFT, timeout=5)
    assert not result.ok and "refused" in (result.error or "").lower()
    hook.come_up()
    hook.mode = "ok"
    (result,) = send_alert(Route(name="hook", urls=[url]), DRAFT)
    assert result.ok and len(hook.posts) == 2


def test_slow_webhook_times_out(hook: WebhookReceiver) -> None:
    hook.mode = "hang"
    hook.hang_seconds = 60  # far past the timeout: only the timeout can end the wait
    result = send_to(hook.json_url(), Message(title="t", body="b", format="text"), timeout=0.5)
    assert not result.ok
    assert "read timed out" in (result.error or "").lower() and "0.5" in (result.error or "")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_application_log_sees_only_what_it_asked_for(hook: WebhookReceiver) -> None:
    """send() lowers apprise's logger to DEBUG to explain failures; the app's own
    handlers must still get only WARNING and up, and no secrets."""
    collect = _Collect()
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)  # the app's configured level (other tests may change it)
    root.addHandler(collect)
    try:
        assert logging.getLogger("apprise").getEffectiveLevel() == logging.WARNING
        hook.mode = "fail"
        (result,) = send_alert(Route(name="hook", urls=[hook.json_url(auth=f"bot:{TOKEN}")]), DRAFT)
    finally:
        root.removeHandler(collect)
        root.setLevel(level)
    assert not result.ok and "Response Details" in (result.error or "")  # a DEBUG line
    seen = [r for r in collect.records if r.name == "apprise"]
    assert seen and all(r.levelno >= logging.WARNING for r in seen)
    assert not any(TOKEN in r.getMessage() for r in collect.records)
    assert logging.getLogger("apprise").level == logging.NOTSET  # restored


def test_concurrent_sends_keep_their_own_reasons() -> None:
    with WebhookReceiver() as failing, WebhookReceiver() as down:
        failing.mode = "fail"
        down.go_down()
        results: dict[str, str] = {}

        def run(name: str, url: str) -> None:
            for _ in range(5):
                (result,) = send(
                    Route(name=name, urls=[url]),
                    Message(title="t", body="b", format="text"),
                    timeout=5,
                )
                results[name] = (results.get(name, "") + " | " + (result.error or "")).strip()

        threads = [
            threading.Thread(target=run, args=("failing", failing.json_url())),
            threading.Thread(target=run, args=("down", down.json_url())),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # the status as a word: the down receiver's port may well be 50001
    status = re.compile(r"\b500\b")
    assert status.search(results["failing"]) and "refused" not in results["failing"].lower()
    assert "refused" in results["down"].lower() and not status.search(results["down"])
    assert "internal server error" not in results["down"].lower()


def test_send_cuts_to_the_service_limit(hook: WebhookReceiver) -> None:
    body = "\n".join(f"{n:06d} 细胞治疗产品" for n in range(12_000))  # ~156,000 characters
    (result,) = send(
        Route(name="hook", urls=[hook.json_url()]), Message(title="big", body=body, format="text")
    )
    assert result.ok, result.error
    (post,) = hook.wait_for(1)
    received = post.json["message"]
    assert len(received) <= 100_000 and received.endswith("… (cut)")
    assert body.startswith(received.removesuffix("\n… (cut)"))


def test_digest_reaches_a_webhook(hook: WebhookReceiver) -> None:
    revised = Alert(
        id="502",
        kind="changed",
        source="fda-guidance",
        regulator="FDA",
        jurisdiction="US",
        title="Potency Assurance for Cellular and Gene Therapy Products",
        url="https://www.fda.gov/potency",
        us=("cellular_gene_therapy",),
        fields_changed=("text",),
    )
    (result,) = send_digest(
        Route(
            name="d",
            urls=[hook.json_url("/digest")],
            mode="digest",
            digest="daily 09:00 Asia/Shanghai",
        ),
        [DRAFT, revised],
        title="regwatch daily digest 2026-11-26",
    )
    assert result.ok, result.error
    (post,) = hook.wait_for(1)
    assert post.json["title"] == "regwatch daily digest 2026-11-26 — 2 alerts"
    message = post.json["message"]
    assert message.index("== CDE (1) ==") < message.index("== FDA (1) ==")
    assert (
        "Cellular & gene therapy 细胞和基因治疗" in message
        and "https://www.fda.gov/potency" in message
    )


def test_slack_payload_through_the_real_slack_plugin(hook: WebhookReceiver) -> None:
    """apprise has no option for Slack's host (hooks.slack.com is a class attribute),
    so the real Slack plugin is pointed at the receiver by setting that attribute on
    the instance; what arrives is exactly what Slack would get."""
    url = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7/#cgt"
    plugin, why = instantiate(url, asset=apprise.AppriseAsset(async_mode=False))
    assert plugin is not None, why
    plugin.webhook_url = hook.url + "/services"
    hook.ok_body = "ok"  # what Slack answers
    message = render_alert(DRAFT, fmt="markdown")
    notifier = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
    notifier.add(plugin)
    assert notifier.notify(
        body=message.body, title=message.title, body_format=apprise.NotifyFormat.MARKDOWN
    )
    (post,) = hook.wait_for(1)
    assert post.path == "/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"
    (attachment,) = post.json["attachments"]
    assert post.json["channel"] == "#cgt"
    assert TITLE in attachment["title"]
    text = attachment["text"]
    # apprise turns CommonMark **bold** into Slack's *bold* and escapes "&".
    assert text.startswith("*New draft open for comment until 2026-12-31 (36 days left)*")
    assert "**" not in text and "Cellular &amp; gene therapy" in text
    assert LINK in text and "Cell therapy 细胞治疗药品" in text


def test_check_urls_reports_unusable_urls_by_index() -> None:
    errors = check_urls(
        [
            "json://127.0.0.1:9/",
            "nosuch://user:Secr3tValue@host/",
            "mailto://",
            "wecombot://abcdefghijklmnop0123456789",
        ]
    )
    assert [e.split(" ")[0] for e in errors] == ["urls[1]", "urls[2]"]
    assert "Secr3tValue" not in " ".join(errors)


def test_unusable_url_gives_a_failed_result_not_an_exception() -> None:
    result = send_to("nosuch://user:Secr3tValue@host/", Message("t", "b", "text"))
    assert not result.ok and result.url == "nosuch://…"
    assert "Secr3tValue" not in (result.error or "")
