"""Routing: which alert goes to which [[notify]] route, digest schedules, route validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from pydantic import ValidationError

from notifiers import Alert, DigestSpecError, Match, Route, parse_digest, routes_for


def alert(key: str, kind: str, **fields: object) -> Alert:
    base: dict[str, object] = {
        "id": key,
        "kind": kind,
        "source": "cde-guidelines",
        "regulator": "CDE",
        "jurisdiction": "CN",
        "title": key,
    }
    base.update(fields)
    return Alert(**base)  # type: ignore[arg-type]


CART = {
    "relevant": True,
    "cn": ("cell_therapy",),
    "eu": ("gtmp",),
    "us": ("cellular_gene_therapy",),
    "modalities": ("car_t",),
    "doc_type": "guideline",
}
AAV = {
    "relevant": True,
    "cn": ("gene_therapy",),
    "eu": ("gtmp",),
    "us": ("gene_therapy",),
    "modalities": ("aav",),
    "doc_type": "guideline",
}
FDA = {"source": "fda-guidance", "regulator": "FDA", "jurisdiction": "US"}
EMA = {"source": "ema-atmp", "regulator": "EMA", "jurisdiction": "EU"}

ALERTS = [
    alert("cn_cart_draft", "draft", change_kind="added", status="draft", **CART),
    alert("cn_cart_final", "finalised", change_kind="changed", status="final", **CART),
    alert("eu_aav_revised", "changed", change_kind="changed", status="final", **AAV, **EMA),
    alert(
        "us_food",
        "added",
        change_kind="added",
        status="final",
        relevant=False,
        doc_type="guideline",
        **FDA,
    ),
    alert("us_aav_new", "added", change_kind="added", status="final", **AAV, **FDA),
    alert("cde_failing", "health", change_kind="health", failures=3, detail="HTTP 412"),
    alert("cde_back", "recovered", change_kind="health"),
    alert("cde_baseline", "baseline", detail="120 documents"),
    alert("cn_cart_reminder", "reminder", status="draft", days_left=7, **CART),
    alert("cn_aav_removed", "removed", change_kind="removed", status="final", **AAV),
    alert("cn_page_unknown", "page_changed", change_kind="page_changed"),
]

ROUTES = [
    Route(
        name="cgt-china",
        urls=["json://127.0.0.1:9/a"],
        match=Match(relevant=True, jurisdictions=["cn"], atmp=["cell_therapy", "gene_therapy"]),
    ),
    Route(
        name="gene-eu-us",
        urls=["json://127.0.0.1:9/b"],
        match=Match(relevant=True, jurisdictions=["EU", "US"], atmp=["gtmp", "gene_therapy"]),
    ),
    Route(
        name="drafts",
        urls=["json://127.0.0.1:9/c"],
        match=Match(relevant=True, kinds=["draft", "reminder"]),
    ),
    # Document filters do not apply to health alerts: relevant=True must not hide them.
    Route(
        name="ops",
        urls=["json://127.0.0.1:9/d"],
        match=Match(kinds=["health", "recovered"], relevant=True),
    ),
    Route(name="everything", urls=["json://127.0.0.1:9/e"]),
    Route(
        name="car-t-final-guidelines",
        urls=["json://127.0.0.1:9/f"],
        match=Match(modalities=["car_t"], statuses=["final"], doc_types=["guideline"]),
    ),
    Route(name="changes", urls=["json://127.0.0.1:9/g"], match=Match(kinds=["changed"])),
    Route(
        name="cde-baseline",
        urls=["json://127.0.0.1:9/h"],
        match=Match(kinds=["baseline"], sources=["cde-guidelines"]),
    ),
]

# Written by hand from the route definitions above.
EXPECTED = {
    "cn_cart_draft": ["cgt-china", "drafts", "everything"],
    "cn_cart_final": ["cgt-china", "everything", "car-t-final-guidelines", "changes"],
    "eu_aav_revised": ["gene-eu-us", "everything", "changes"],
    "us_food": ["everything"],
    "us_aav_new": ["gene-eu-us", "everything"],
    "cde_failing": ["ops"],
    "cde_back": ["ops"],
    "cde_baseline": ["cde-baseline"],
    "cn_cart_reminder": ["cgt-china", "drafts", "everything"],
    "cn_aav_removed": ["cgt-china", "everything"],
    "cn_page_unknown": ["everything"],
}


def test_routing_table() -> None:
    got = {a.id: [r.name for r in routes_for(a, ROUTES)] for a in ALERTS}
    assert got == EXPECTED


def test_health_goes_only_to_routes_that_ask_for_it() -> None:
    failing = next(a for a in ALERTS if a.kind == "health")
    for route in ROUTES:
        assert route.match.matches(failing) == ("health" in route.match.kinds)
    # ...and a health route filtered on another source stays quiet.
    other = Match(kinds=["health"], sources=["fda-guidance"])
    assert not other.matches(failing)
    assert Match(kinds=["health"], jurisdictions=["CN"]).matches(failing)


def test_empty_match_takes_every_document_alert_but_no_source_alert() -> None:
    empty = Match()
    for kind in (
        "added",
        "draft",
        "changed",
        "finalised",
        "withdrawn",
        "removed",
        "page_changed",
        "reminder",
    ):
        assert empty.matches(alert("x", kind)), kind
    for kind in ("health", "recovered", "baseline", "test"):
        assert not empty.matches(alert("x", kind)), kind


def test_relevant_false_selects_the_irrelevant() -> None:
    route = Match(relevant=False)
    assert [a.id for a in ALERTS if route.matches(a)] == ["us_food"]


# --- digest schedules ---------------------------------------------------------------


def test_parse_digest_fields() -> None:
    daily = parse_digest("daily 09:00 Asia/Shanghai")
    assert (daily.days, daily.hour, daily.minute, daily.zone) == (
        tuple(range(7)),
        9,
        0,
        "Asia/Shanghai",
    )
    weekly = parse_digest("Weekly MON,thursday 17:30 Europe/Amsterdam")
    assert (weekly.days, weekly.hour, weekly.minute) == ((0, 3), 17, 30)
    assert weekly.cron_fields() == {
        "day_of_week": "mon,thu",
        "hour": 17,
        "minute": 30,
        "timezone": "Europe/Amsterdam",
    }
    assert parse_digest("weekdays 08:05 UTC").cron_fields()["day_of_week"] == "mon,tue,wed,thu,fri"
    assert daily.cron_fields()["day_of_week"] == "*"
    assert daily.describe() == "daily at 09:00 (Asia/Shanghai)"


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("", "empty"),
        ("hourly 09:00 UTC", "'hourly'"),
        ("daily 9am Asia/Shanghai", "'9am'"),
        ("daily 24:00 UTC", "'24:00'"),
        ("daily 09:00", "expected 'daily HH:MM ZONE'"),
        ("daily 09:00 Mars/Olympus", "'Mars/Olympus' is not a time zone"),
        ("weekly funday 09:00 UTC", "'funday' is not a day"),
        ("weekly 09:00 UTC", "expected 'weekly DAYS HH:MM ZONE'"),
    ],
)
def test_bad_digest_specs_say_what_is_wrong(spec: str, words: str) -> None:
    with pytest.raises(DigestSpecError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_digest(spec)


def test_next_after_in_shanghai() -> None:
    schedule = parse_digest("daily 09:00 Asia/Shanghai")
    # 08:30 in Shanghai -> 09:00 the same day (01:00 UTC).
    got = schedule.next_after(datetime(2026, 3, 1, 0, 30, tzinfo=UTC))
    assert got == datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
    assert got.tzinfo == ZoneInfo("Asia/Shanghai")
    # Exactly at send time -> the next day (strictly after).
    assert schedule.next_after(got) == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    # 23:00 UTC is already 07:00 next day in Shanghai.
    assert schedule.next_after(datetime(2026, 3, 1, 23, 0, tzinfo=UTC)) == datetime(
        2026, 3, 2, 1, 0, tzinfo=UTC
    )


def test_next_after_keeps_wall_clock_across_dst() -> None:
    amsterdam = parse_digest("daily 09:00 Europe/Amsterdam")
    # Spring forward on 2026-03-29: 09:00 CET = 08:00 UTC, then 09:00 CEST = 07:00 UTC.
    saturday = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    sunday = amsterdam.next_after(saturday)
    assert sunday == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert sunday - saturday == timedelta(hours=23)
    # Fall back on 2026-10-25: 25 hours between the two sends.
    before = datetime(2026, 10, 24, 7, 0, tzinfo=UTC)
    assert amsterdam.next_after(before) - before == timedelta(hours=25)
    # New York's weekly Monday digest after the US change on 2026-03-08.
    ny = parse_digest("weekly mon 09:00 America/New_York")
    friday = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # 10:00 EST Friday
    assert ny.next_after(friday) == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # 09:00 EDT


def test_time_inside_the_dst_gap_moves_forward() -> None:
    early = parse_digest("daily 02:30 Europe/Amsterdam")
    got = early.next_after(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert got == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST


def test_next_after_needs_an_aware_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_digest("daily 09:00 UTC").next_after(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    "spec",
    [
        "daily 09:00 Asia/Shanghai",
        "weekly mon 09:00 Europe/Amsterdam",
        "weekdays 07:45 America/New_York",
        "weekly sat,sun 18:15 Australia/Sydney",
    ],
)
def test_next_after_agrees_with_apscheduler(spec: str) -> None:
    schedule = parse_digest(spec)
    trigger = CronTrigger(**schedule.cron_fields())
    moment = datetime(2026, 1, 1, 0, 7, 11, tzinfo=UTC)
    for _ in range(950):  # a year in irregular steps, across both DST changes
        expected = trigger.get_next_fire_time(None, moment)
        assert schedule.next_after(moment) == expected, moment
        moment += timedelta(hours=9, minutes=13, seconds=17)


# --- route validation ---------------------------------------------------------------


def errors_of(**fields: object) -> list[dict[str, object]]:
    with pytest.raises(ValidationError) as caught:
        Route(**fields)  # type: ignore[arg-type]
    return [dict(e) for e in caught.value.errors()]


def test_unparseable_url_names_its_index_and_hides_the_secret() -> None:
    with pytest.raises(ValidationError) as caught:
        Route(name="x", urls=["json://127.0.0.1:9/ok", "foo://user:hunter22secret@host/x"])
    (error,) = caught.value.errors()
    assert error["loc"] == ("urls",)
    assert "urls[1]" in error["msg"] and "foo://…" in error["msg"]
    assert "hunter22secret" not in str(caught.value)


def test_digest_mode_needs_a_valid_schedule() -> None:
    (error,) = errors_of(name="x", urls=["json://127.0.0.1:9/"], mode="digest")
    assert error["loc"] == ("digest",) and "required when mode = 'digest'" in str(error["msg"])
    (error,) = errors_of(
        name="x", urls=["json://127.0.0.1:9/"], mode="digest", digest="daily 9 Asia/Shanghai"
    )
    assert error["loc"] == ("digest",) and "'9' is not a time" in str(error["msg"])
    (error,) = errors_of(name="x", urls=["json://127.0.0.1:9/"], digest="daily 09:00 UTC")
    assert error["loc"] == ("digest",) and "mode is 'immediate'" in str(error["msg"])
    ok = Route(
        name="x",
        urls=["json://127.0.0.1:9/"],
        mode="digest",
        digest="weekly mon 09:00 Europe/Amsterdam",
    )
    assert ok.schedule is not None and ok.schedule.days == (0,)


@pytest.mark.parametrize(
    ("fields", "loc", "words"),
    [
        (
            {"match": {"atmp": ["cell-therapy"]}},
            ("match", "atmp"),
            "unknown ATMP class 'cell-therapy'",
        ),
        ({"match": {"kinds": ["healthy"]}}, ("match", "kinds"), "unknown alert kind 'healthy'"),
        ({"match": {"statuses": ["adopted"]}}, ("match", "statuses"), "unknown status"),
        ({"match": {"modalities": ["cart"]}}, ("match", "modalities"), "unknown modality"),
        ({"match": {"doc_types": ["guidance"]}}, ("match", "doc_types"), "unknown document type"),
        ({"match": {"atmp_classes": ["gtmp"]}}, ("match", "atmp_classes"), "Extra inputs"),
        ({"url": "json://x"}, ("url",), "Extra inputs"),
        ({"urls": []}, ("urls",), "at least 1"),
        ({"mode": "hourly"}, ("mode",), "'immediate' or 'digest'"),
        ({"max_attempts": 0}, ("max_attempts",), "greater than or equal to 1"),
        ({"format": "rtf"}, ("format",), "'auto', 'text', 'markdown' or 'html'"),
        ({"templates": "/nonexistent/dir"}, ("templates",), "does not exist"),
        ({"name": "  "}, ("name",), "blank"),
    ],
)
def test_invalid_routes_name_the_field(
    fields: dict[str, object], loc: tuple[str, ...], words: str
) -> None:
    base: dict[str, object] = {"name": "r", "urls": ["json://127.0.0.1:9/"]}
    base.update(fields)
    errors = errors_of(**base)
    assert [e["loc"] for e in errors] == [loc]
    assert words in str(errors[0]["msg"])


def test_validation_errors_never_echo_the_urls() -> None:
    with pytest.raises(ValidationError) as caught:
        Route.model_validate(
            {"name": "x", "mode": "fast", "urls": ["mailto://me:S3cretPassw0rd@smtp.example.com"]}
        )
    assert "S3cretPassw0rd" not in str(caught.value)


def test_privacy_urls_mask_secrets() -> None:
    route = Route(
        name="x",
        urls=[
            "mailto://alice:S3cretPassw0rd@smtp.example.com?to=ra@example.com",
            "json://bob:t0kenVALUE99@hooks.example.com/regwatch",
            "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7/#cgt",
            "wecombot://abcdefghijklmnop0123456789",
            "dingtalk://SEC00secret00value@accesstoken123456",
        ],
    )
    shown = route.privacy_urls()
    assert [s.split("://")[0] for s in shown] == ["mailto", "json", "slack", "wecombot", "dingtalk"]
    joined = " ".join(shown)
    for secret in (
        "S3cretPassw0rd",
        "t0kenVALUE99",
        "TIiajkdnlazkcOXrIdevi7",
        "abcdefghijklmnop0123456789",
        "SEC00secret00value",
        "accesstoken123456",
    ):
        assert secret not in joined
    assert "alice" in shown[0] and "smtp.example.com" in shown[0]


def test_a_health_route_also_hears_the_recovery() -> None:
    from notifiers.types import Alert as _Alert

    route = Route(name="ops", urls=["json://127.0.0.1:9/ops"], match=Match(kinds=["health"]))
    failing = _Alert(
        id="1",
        kind="health",
        change_kind="health",
        source="cde",
        regulator="CDE",
        jurisdiction="CN",
        title="cde is failing",
    )
    back = _Alert(
        id="2",
        kind="recovered",
        change_kind="health",
        source="cde",
        regulator="CDE",
        jurisdiction="CN",
        title="cde works again",
    )
    draft = _Alert(
        id="3",
        kind="draft",
        change_kind="added",
        source="cde",
        regulator="CDE",
        jurisdiction="CN",
        title="x",
        relevant=True,
    )
    assert [route.match.matches(a) for a in (failing, back, draft)] == [True, True, False]
