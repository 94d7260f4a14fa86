"""Alert rules and silences: matcher validation, label matching and its explanations, the severity
to priority map, group keys, rule order and continue semantics, and silence windows."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.matching import group_key, labels_match, matchers_problems, priority_code_for
from alerts.models import AlertRule, Silence
from alerts.selectors import RULE_RELATED, rules_matching, silence_active


def m(label, op, value=None):
    matcher = {"label": label, "op": op}
    if value is not None:
        matcher["value"] = value
    return matcher


LABELS = {"alertname": "HostDown", "severity": "critical", "instance": "web-1:9100", "service": "web"}


# --- ops -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matcher", "expected"),
    [
        (m("severity", "eq", "critical"), True),
        (m("severity", "eq", "warning"), False),
        (m("severity", "eq", "Critical"), False),
        (m("missing", "eq", "x"), False),
        (m("severity", "neq", "warning"), True),
        (m("severity", "neq", "critical"), False),
        (m("missing", "neq", "x"), True),
        (m("instance", "regex", r"web-\d+:9100"), True),
        (m("instance", "regex", "web-1|db-1"), False),
        (m("instance", "regex", "web-1:9100|db-1"), True),
        (m("instance", "regex", "web"), False),
        (m("instance", "regex", "9100"), False),
        (m("instance", "regex", ".*9100"), True),
        (m("missing", "regex", ".*"), True),
        (m("missing", "regex", ".+"), False),
        (m("instance", "exists"), True),
        (m("missing", "exists"), False),
    ],
)
def test_each_op(matcher, expected):
    assert matchers_problems([matcher]) == []
    ok, reasons = labels_match([matcher], LABELS)
    assert ok is expected
    assert len(reasons) == 1
    assert reasons[0].endswith(": yes" if expected else ": no")


def test_regex_is_anchored_at_both_ends():
    assert labels_match([m("service", "regex", "web")], {"service": "web"})[0]
    assert not labels_match([m("service", "regex", "web")], {"service": "web-api"})[0]
    assert not labels_match([m("service", "regex", "web")], {"service": "old-web"})[0]
    # An alternation is anchored as a whole, not only its first and last branch.
    assert not labels_match([m("service", "regex", "a|web")], {"service": "web-api"})[0]


def test_exists_holds_for_an_empty_value():
    assert labels_match([m("team", "exists")], {"team": ""})[0]


def test_non_string_label_values_are_compared_as_strings():
    assert labels_match([m("port", "eq", "9100")], {"port": 9100})[0]


def test_no_matchers_match_everything():
    assert labels_match([], {}) == (True, [])


def test_explanations_cover_every_matcher_even_after_a_miss():
    matchers = [m("severity", "eq", "warning"), m("service", "eq", "web"), m("team", "exists")]
    ok, reasons = labels_match(matchers, LABELS)
    assert ok is False
    assert reasons == ["severity eq warning: no", "service eq web: yes", "team exists: no"]


def test_explanation_format():
    assert labels_match([m("severity", "eq", "critical")], LABELS) == (True, ["severity eq critical: yes"])
    assert labels_match([m("instance", "regex", "web-.*")], LABELS)[1] == ["instance regex web-.*: yes"]


# --- validation ----------------------------------------------------------------------------------


def test_valid_matchers_have_no_problems():
    assert matchers_problems([]) == []
    assert (
        matchers_problems([m("a", "eq", "1"), m("b", "neq", "2"), m("c", "regex", "x.*"), m("d", "exists")])
        == []
    )


@pytest.mark.parametrize(
    ("matchers", "fragment"),
    [
        ({"label": "a"}, "must be a list"),
        (["severity=critical"], "Matcher 1 must be an object"),
        ([m("", "eq", "x")], "label name must be a non-empty string"),
        ([m("  ", "eq", "x")], "label name must be a non-empty string"),
        ([{"op": "eq", "value": "x"}], "label name must be a non-empty string"),
        ([m("a", "like", "x")], "unknown op 'like'; expected one of eq, neq, regex, exists"),
        ([{"label": "a", "value": "x"}], "unknown op None"),
        ([m("a", "eq")], "op 'eq' needs a non-empty string value"),
        ([m("a", "neq", "")], "op 'neq' needs a non-empty string value"),
        ([m("a", "regex")], "op 'regex' needs a non-empty string value"),
        ([{"label": "a", "op": "eq", "value": 5}], "op 'eq' needs a non-empty string value"),
        ([m("a", "regex", "web-(")], "invalid regex 'web-('"),
        ([m("a", "eq", "1"), m("b", "regex", "[")], "Matcher 2: invalid regex '['"),
    ],
)
def test_invalid_matchers_are_reported(matchers, fragment):
    problems = matchers_problems(matchers)
    assert problems, matchers
    assert any(fragment in p for p in problems), problems


def test_every_problem_is_reported():
    problems = matchers_problems([m("", "eq", "x"), m("a", "bogus"), m("b", "regex", "(")])
    assert len(problems) == 3


def test_exists_needs_no_value():
    assert matchers_problems([m("a", "exists")]) == []


@pytest.mark.django_db
def test_rule_clean_rejects_invalid_matchers_with_messages():
    rule = AlertRule(name="bad", matchers=[m("a", "regex", "(")])
    with pytest.raises(ValidationError) as exc:
        rule.full_clean()
    assert "invalid regex" in " ".join(exc.value.message_dict["matchers"])


@pytest.mark.django_db
def test_rule_clean_rejects_bad_group_by():
    rule = AlertRule(name="bad", group_by=["alertname", ""])
    with pytest.raises(ValidationError) as exc:
        rule.full_clean()
    assert "group_by" in exc.value.message_dict


@pytest.mark.django_db
def test_rule_defaults_and_clean_pass():
    rule = AlertRule(name="ok", matchers=[m("severity", "eq", "critical")])
    rule.full_clean()
    assert rule.group_by == ["alertname", "service"]
    assert rule.incident_policy == "create"
    assert rule.continue_matching is False
    assert rule.enabled is True


@pytest.mark.django_db
def test_silence_clean():
    now = timezone.now()
    ok = Silence(
        matchers=[m("service", "eq", "web")], starts_at=now, ends_at=now + timedelta(hours=1), reason="x"
    )
    ok.full_clean()
    empty = Silence(matchers=[], starts_at=now, ends_at=now + timedelta(hours=1), reason="x")
    with pytest.raises(ValidationError, match="at least one matcher"):
        empty.full_clean()
    bad = Silence(matchers=[m("a", "like", "x")], starts_at=now, ends_at=now + timedelta(hours=1), reason="x")
    with pytest.raises(ValidationError, match="unknown op"):
        bad.full_clean()
    backwards = Silence(matchers=[m("a", "exists")], starts_at=now, ends_at=now, reason="x")
    with pytest.raises(ValidationError) as exc:
        backwards.full_clean()
    assert "ends_at" in exc.value.message_dict


# --- severity -> priority, group keys ------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "code"),
    [
        ("critical", "P1"),
        ("high", "P2"),
        ("error", "P2"),
        ("warning", "P3"),
        ("info", "P4"),
        ("CRITICAL", "P1"),
        (" warning ", "P3"),
        ("page", "P3"),
        ("none", "P3"),
        ("", "P3"),
        (None, "P3"),
    ],
)
def test_priority_code_for(severity, code):
    assert priority_code_for(severity) == code


def test_group_key_is_sorted_and_stable():
    labels = {"service": "web", "alertname": "HostDown", "instance": "web-1"}
    key = group_key(["service", "alertname"], labels)
    assert key == 'alertname="HostDown",service="web"'
    assert group_key(["alertname", "service"], dict(reversed(list(labels.items())))) == key
    assert group_key(["alertname", "service", "alertname"], labels) == key


def test_group_key_ignores_other_labels_and_handles_missing_ones():
    base = group_key(["alertname", "service"], {"alertname": "A", "service": "s", "instance": "1"})
    assert base == group_key(["alertname", "service"], {"alertname": "A", "service": "s", "instance": "2"})
    assert group_key(["alertname", "team"], {"alertname": "A"}) == 'alertname="A",team=""'
    assert group_key([], {"alertname": "A"}) == ""


def test_group_key_values_cannot_collide_through_separators():
    a = group_key(["a", "b"], {"a": 'x",b="y', "b": ""})
    b = group_key(["a", "b"], {"a": "x", "b": "y"})
    assert a != b


# --- rules ---------------------------------------------------------------------------------------


def rule(name, order, matchers=(), **kwargs):
    return AlertRule.objects.create(name=name, order=order, matchers=list(matchers), **kwargs)


def names(matches):
    return [match.rule.name for match in matches]


def match_alert(labels=LABELS, alert_name="HostDown", severity="critical"):
    return rules_matching(alert_name=alert_name, severity=severity, labels=labels)


@pytest.mark.django_db
def test_first_match_wins_in_order():
    rule("late", 20, [m("service", "eq", "web")])
    rule("early", 10, [m("service", "eq", "web")])
    rule("other", 5, [m("service", "eq", "db")])
    assert names(match_alert()) == ["early"]


@pytest.mark.django_db
def test_same_order_falls_back_to_id():
    rule("first", 10)
    rule("second", 10)
    assert names(match_alert()) == ["first"]


@pytest.mark.django_db
def test_continue_matching_goes_on_until_a_rule_that_stops():
    rule("a", 1, [m("service", "eq", "web")], continue_matching=True)
    rule("b-miss", 2, [m("service", "eq", "db")], continue_matching=True)
    rule("c", 3, continue_matching=False)
    rule("d", 4)
    assert names(match_alert()) == ["a", "c"]


@pytest.mark.django_db
def test_continue_on_a_rule_that_did_not_match_changes_nothing():
    rule("miss", 1, [m("service", "eq", "db")], continue_matching=False)
    rule("hit", 2)
    assert names(match_alert()) == ["hit"]


@pytest.mark.django_db
def test_disabled_rules_are_skipped():
    rule("off", 1, enabled=False)
    rule("on", 2)
    assert names(match_alert()) == ["on"]


@pytest.mark.django_db
def test_no_rules_no_matches():
    assert match_alert() == []


@pytest.mark.django_db
def test_alert_name_and_severity_filters():
    rule("by-name", 1, alert_name="DiskFull", continue_matching=True)
    rule("by-severity", 2, severity="warning", continue_matching=True)
    rule("both", 3, alert_name="HostDown", severity="critical", continue_matching=True)
    rule("any", 4, continue_matching=True)
    assert names(match_alert()) == ["both", "any"]
    assert names(match_alert(alert_name="DiskFull", severity="warning")) == ["by-name", "by-severity", "any"]
    assert names(match_alert(alert_name="hostdown")) == ["any"]


@pytest.mark.django_db
def test_match_reasons_explain_filters_and_matchers():
    rule("r", 1, [m("service", "eq", "web"), m("instance", "regex", "web-.*")], alert_name="HostDown")
    [match] = match_alert()
    assert match.reasons == [
        "alert name is HostDown: yes",
        "service eq web: yes",
        "instance regex web-.*: yes",
    ]


@pytest.mark.django_db
def test_all_matchers_must_hold():
    rule("r", 1, [m("service", "eq", "web"), m("team", "exists")])
    assert match_alert() == []
    assert names(match_alert(labels={**LABELS, "team": "sre"})) == ["r"]


# --- silences ------------------------------------------------------------------------------------


def silence(matchers, starts_at, ends_at, reason="maintenance"):
    return Silence.objects.create(matchers=matchers, starts_at=starts_at, ends_at=ends_at, reason=reason)


@pytest.mark.django_db
def test_silence_window_start_inclusive_end_exclusive():
    start = timezone.now().replace(microsecond=0)
    end = start + timedelta(hours=1)
    s = silence([m("service", "eq", "web")], start, end)
    tick = timedelta(microseconds=1)
    assert silence_active(labels=LABELS, at=start - tick) is None
    assert silence_active(labels=LABELS, at=start) == s
    assert silence_active(labels=LABELS, at=end - tick) == s
    assert silence_active(labels=LABELS, at=end) is None


@pytest.mark.django_db
def test_silence_needs_all_its_matchers():
    start = timezone.now()
    silence([m("service", "eq", "web"), m("severity", "eq", "warning")], start, start + timedelta(hours=1))
    assert silence_active(labels=LABELS, at=start) is None
    assert silence_active(labels={**LABELS, "severity": "warning"}, at=start) is not None


@pytest.mark.django_db
def test_silence_regex_and_exists():
    start = timezone.now()
    s = silence(
        [m("instance", "regex", "web-[0-9]+:9100"), m("service", "exists")], start, start + timedelta(1)
    )
    assert silence_active(labels=LABELS, at=start) == s
    assert silence_active(labels={**LABELS, "instance": "web-1:9100x"}, at=start) is None
    assert silence_active(labels={"instance": "web-1:9100"}, at=start) is None


@pytest.mark.django_db
def test_silence_without_matchers_silences_nothing():
    start = timezone.now()
    silence([], start, start + timedelta(hours=1))
    assert silence_active(labels=LABELS, at=start) is None


@pytest.mark.django_db
def test_silence_picks_a_matching_one_among_several():
    start = timezone.now()
    silence([m("service", "eq", "db")], start, start + timedelta(hours=1))
    web = silence([m("service", "eq", "web")], start, start + timedelta(hours=1))
    silence([m("service", "eq", "web")], start + timedelta(hours=2), start + timedelta(hours=3))
    assert silence_active(labels=LABELS, at=start) == web


@pytest.mark.django_db
def test_the_hand_written_reads_give_what_the_querysets_gave(
    service_factory, priorities, django_assert_num_queries
):
    """alerts.selectors._enabled_rules and _silences_between, one hand-written SELECT each: the
    objects, their related service and priority (loaded: no query to reach them) and their order
    are the querysets'; has_responses says whether a rule has an enabled response."""
    from actions.models import Action
    from alerts.models import AutomatedResponse
    from alerts.selectors import _enabled_rules, _silences_between

    service = service_factory()
    first = AlertRule.objects.create(name="First", order=2, service=service, priority=priorities["P1"])
    second = AlertRule.objects.create(name="Second", order=1, matchers=[m("team", "eq", "a")])
    AlertRule.objects.create(name="Off", order=0, enabled=False)
    action = Action.objects.create(name="Diagnose")
    AutomatedResponse.objects.create(rule=first, action=action)
    AutomatedResponse.objects.create(rule=second, action=action, enabled=False)
    expected = list(
        AlertRule.objects.filter(enabled=True).select_related(*RULE_RELATED).order_by("order", "id")
    )

    rules = _enabled_rules()

    assert rules == expected == [second, first]
    for got, want in zip(rules, expected, strict=True):
        for field in AlertRule._meta.concrete_fields:
            assert getattr(got, field.attname) == getattr(want, field.attname), field.name
    assert [rule.has_responses for rule in rules] == [False, True]
    with django_assert_num_queries(0):
        loaded = (rules[1].service, rules[1].priority, rules[0].service, rules[0].priority)
    assert loaded == (
        service,
        priorities["P1"],
        None,
        None,
    )

    now = timezone.now().replace(microsecond=123456)
    hour = timedelta(hours=1)
    before = silence([m("a", "eq", "1")], now - 3 * hour, now - hour)  # ends before the span
    edge = silence([m("a", "eq", "2")], now - 2 * hour, now - hour + timedelta(microseconds=1))
    later = silence([m("a", "eq", "3")], now, now + hour)  # starts at the span's end
    after = silence([m("a", "eq", "4")], now + timedelta(microseconds=1), now + hour)
    found = _silences_between(now - hour, now)
    assert found == list(
        Silence.objects.filter(starts_at__lte=now, ends_at__gt=now - hour).order_by("created_at", "id")
    )
    assert found == [edge, later] and before not in found and after not in found
    assert found[0].matchers == [m("a", "eq", "2")] and found[0].ends_at == edge.ends_at
