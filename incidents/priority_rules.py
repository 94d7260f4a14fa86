"""The runbook's priority assessment, as a suggestion: the responder decides."""

from dataclasses import dataclass

from incidents.choices import UsersAffected


@dataclass(frozen=True)
class PrioritySuggestion:
    code: str
    reasons: list[str]


def priority_suggest(
    *,
    users_affected: str = "",
    services_down: int = 0,
    data_at_risk: bool = False,
    security_issue: bool = False,
) -> PrioritySuggestion:
    """P1: all users, more than 3 services down, or a security issue. P2: many users, more than
    one service down, or data at risk. P3: some users or one service down. Otherwise P4."""
    rules = [
        ("P1", users_affected == UsersAffected.ALL, "all users are affected"),
        ("P1", services_down > 3, f"{services_down} services are down"),
        ("P1", security_issue, "it is a security issue"),
        ("P2", users_affected == UsersAffected.MANY, "many users are affected"),
        ("P2", services_down > 1, f"{services_down} services are down"),
        ("P2", data_at_risk, "data is at risk"),
        ("P3", users_affected == UsersAffected.SOME, "some users are affected"),
        ("P3", services_down == 1, "one service is down"),
    ]
    for code in ("P1", "P2", "P3"):
        reasons = [reason for level, hit, reason in rules if level == code and hit]
        if reasons:
            return PrioritySuggestion(code=code, reasons=reasons)
    return PrioritySuggestion(code="P4", reasons=["limited impact"])
