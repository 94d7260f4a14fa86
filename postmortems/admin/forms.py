"""Forms of the post-mortem admin: the sections (five whys typed as Q:/A: pairs, supporting links as
"title | url" lines), the review meeting, the timeline's "add entry", and action items. They only
parse and present; postmortems.services checks and writes."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from common.forms import ServiceErrorsMixin
from incidents.models import Incident
from postmortems.models import ActionItem, Postmortem
from postmortems.services.postmortems import MAX_WHYS, SECTION_FIELDS

MONOSPACE = {"class": "mitigate-monospace", "spellcheck": "false"}
WHYS_HELP = (
    "One why per pair of lines: <code>Q: Why did checkout fail?</code> then "
    "<code>A: The database ran out of connections.</code> A line that starts with neither continues "
    f"the one above; blank lines are ignored. At most {MAX_WHYS}."
)
LINKS_HELP = (
    "One link a line: <code>title | https://…</code>, or just the URL. Dashboards, tickets, pull requests."
)
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def whys_text(whys: Any) -> str:
    blocks = []
    for why in whys or []:
        if isinstance(why, dict):
            blocks.append(f"Q: {why.get('question', '')}\nA: {why.get('answer', '')}".rstrip())
    return "\n\n".join(blocks)


def whys_parse(text: str) -> list[dict[str, str]]:
    """The five whys from Q:/A: lines; raises forms.ValidationError naming each line it cannot read."""
    whys: list[dict[str, str]] = []
    problems: list[str] = []
    part = None  # "question" or "answer": where a continuation line goes.
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        head, _, rest = line.partition(":")
        head = head.strip().upper()
        if head == "Q" and _:
            whys.append({"question": rest.strip(), "answer": ""})
            part = "question"
            if not rest.strip():
                problems.append(f"Line {number}: the question is empty.")
        elif head == "A" and _:
            if not whys:
                problems.append(f"Line {number}: an answer needs its question first (a line starting Q:).")
            elif whys[-1]["answer"]:
                problems.append(
                    f"Line {number}: why {len(whys)} already has an answer; start a new one with Q:."
                )
            else:
                whys[-1]["answer"] = rest.strip()
                part = "answer"
        elif part is None:
            problems.append(
                f"Line {number}: cannot read {line!r}; start with Q: (the question) or A: (its answer)."
            )
        else:
            whys[-1][part] = f"{whys[-1][part]} {line}".strip()
    if len(whys) > MAX_WHYS:
        problems.append(f"At most {MAX_WHYS} whys; there are {len(whys)}.")
    if problems:
        raise forms.ValidationError(problems)
    return whys


def links_text(links: Any) -> str:
    lines = []
    for link in links or []:
        if isinstance(link, dict):
            title = (link.get("title") or "").strip()
            lines.append(f"{title} | {link.get('url', '')}" if title else str(link.get("url", "")))
    return "\n".join(lines)


def links_parse(text: str) -> list[dict[str, str]]:
    links, problems = [], []
    url_field = forms.URLField(assume_scheme="https")
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        title, bar, url = line.rpartition("|")
        title, url = (title.strip(), url.strip()) if bar else ("", line)
        if not url.lower().startswith(("http://", "https://")):
            problems.append(f"Line {number}: {url!r} is not an http(s) URL; write title | https://….")
            continue
        try:
            url_field.clean(url)
        except forms.ValidationError:
            problems.append(f"Line {number}: {url!r} is not a valid URL.")
            continue
        links.append({"title": title, "url": url})
    if problems:
        raise forms.ValidationError(problems)
    return links


class TextListField(forms.CharField):
    """A JSON list edited as text: `show` renders it, `parse` reads it back (raising form errors)."""

    show = staticmethod(whys_text)
    parse = staticmethod(whys_parse)

    def __init__(self, *, rows: int = 8, **kwargs: Any):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows, "cols": 80, **MONOSPACE}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return self.show(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[dict[str, str]]:
        if isinstance(value, list):
            return value
        return self.parse(super().to_python(value))

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return (initial or []) != self.to_python(data)
        except forms.ValidationError:
            return True


class WhysField(TextListField):
    pass


class LinksField(TextListField):
    show = staticmethod(links_text)
    parse = staticmethod(links_parse)


class PostmortemAdminForm(ServiceErrorsMixin, forms.ModelForm):
    """The sections, authors and impacted services; PostmortemAdmin.save_model hands them to
    postmortem_update."""

    five_whys = WhysField(label="Five whys", help_text=WHYS_HELP, rows=10)
    supporting_links = LinksField(label="Supporting links", help_text=LINKS_HELP, rows=4)

    class Meta:
        model = Postmortem
        fields = (*SECTION_FIELDS, "authors", "services_impacted")
        widgets = {
            field: forms.Textarea(attrs={"rows": 4, "cols": 80})
            for field in (
                "executive_summary",
                "detection",
                "root_cause",
                "contributing_factors",
                "resolution",
                "what_went_well",
                "what_could_be_improved",
                "lessons_learned",
                "data_loss_details",
            )
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if "authors" in self.fields:
            self.fields["authors"].required = True
            self.fields["authors"].queryset = (
                get_user_model().objects.filter(is_active=True).order_by("username")
            )


class PostmortemAddForm(ServiceErrorsMixin, forms.ModelForm):
    """A draft for an incident that has none; postmortem_create prefills it from the record."""

    class Meta:
        model = Postmortem
        fields = ("incident",)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["incident"].queryset = (
            Incident.objects.filter(postmortem__isnull=True)
            .select_related("priority")
            .order_by("-detected_at")
        )
        self.fields["incident"].help_text = "Incidents without a post-mortem, most recent first."


class ReviewForm(forms.Form):
    at = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text="Defaults to the suggestion: the next whole hour a day after resolution.",
    )
    attendees = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text="Each gets an invitation with a calendar event (.ics). Hold Ctrl/⌘ to pick several.",
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )


class TimelineAddForm(forms.Form):
    occurred_at = forms.DateTimeField(
        label="When", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)
    )
    text = forms.CharField(label="What happened", max_length=2000, widget=forms.TextInput(attrs={"size": 60}))


class ActionItemForm(ServiceErrorsMixin, forms.ModelForm):
    """An action item's fields; its status moves only through the buttons (services)."""

    follow_up_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Follow-up URL",
        help_text=ActionItem._meta.get_field("follow_up_url").help_text,
    )

    class Meta:
        model = ActionItem
        fields = (
            "postmortem",
            "description",
            "kind",
            "owner",
            "due_date",
            "follow_up_url",
            "follow_up_action",
        )
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "cols": 60})}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            self.fields["owner"].queryset = (
                get_user_model().objects.filter(is_active=True).order_by("username")
            )
        if "postmortem" in self.fields:
            self.fields["postmortem"].queryset = Postmortem.objects.select_related("incident")
