"""The runbook's priority assessment (incidents.priority_rules.priority_suggest)."""

import pytest

from incidents.choices import UsersAffected
from incidents.priority_rules import priority_suggest

U = UsersAffected

CASES = [
    # (users_affected, services_down, data_at_risk, security_issue) -> (code, reasons)
    (("", 0, False, False), ("P4", ["limited impact"])),
    ((U.FEW, 0, False, False), ("P4", ["limited impact"])),
    ((U.SOME, 0, False, False), ("P3", ["some users are affected"])),
    ((U.MANY, 0, False, False), ("P2", ["many users are affected"])),
    ((U.ALL, 0, False, False), ("P1", ["all users are affected"])),
    # Services down: 1 is P3, 2 and 3 are P2, 4 and more are P1.
    (("", 1, False, False), ("P3", ["one service is down"])),
    (("", 2, False, False), ("P2", ["2 services are down"])),
    (("", 3, False, False), ("P2", ["3 services are down"])),
    (("", 4, False, False), ("P1", ["4 services are down"])),
    (("", 12, False, False), ("P1", ["12 services are down"])),
    (("", 0, True, False), ("P2", ["data is at risk"])),
    (("", 0, False, True), ("P1", ["it is a security issue"])),
    # The most urgent level wins, with every reason for it.
    ((U.SOME, 1, True, False), ("P2", ["data is at risk"])),
    ((U.FEW, 3, False, True), ("P1", ["it is a security issue"])),
    (
        (U.ALL, 5, True, True),
        ("P1", ["all users are affected", "5 services are down", "it is a security issue"]),
    ),
    ((U.MANY, 2, True, False), ("P2", ["many users are affected", "2 services are down", "data is at risk"])),
    ((U.SOME, 1, False, False), ("P3", ["some users are affected", "one service is down"])),
]


@pytest.mark.parametrize(("impact", "expected"), CASES, ids=[str(c[0]) for c in CASES])
def test_priority_suggest(impact, expected):
    users_affected, services_down, data_at_risk, security_issue = impact
    suggestion = priority_suggest(
        users_affected=users_affected,
        services_down=services_down,
        data_at_risk=data_at_risk,
        security_issue=security_issue,
    )
    assert (suggestion.code, suggestion.reasons) == expected


def test_defaults_mean_limited_impact():
    assert priority_suggest().code == "P4"


def test_suggested_codes_exist(priorities):
    codes = {
        priority_suggest(users_affected=u, services_down=n, data_at_risk=d, security_issue=s).code
        for u in ["", *U.values]
        for n in range(6)
        for d in (False, True)
        for s in (False, True)
    }
    assert codes == {"P1", "P2", "P3", "P4"}
    assert codes <= set(priorities)
