"""What the page is made of: component groups and components (name, description, order, services,
shown), and the page's settings with its logo. The writes the admin and the API share; every check
runs before anything is written, and each write moves the page's version on (page_changed)."""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from common.actor import Actor
from incidents.models import Service
from statuspage.branding import page_settings
from statuspage.cache import page_changed
from statuspage.models import Component, ComponentGroup, PageSettings

GROUP_FIELDS = ("name", "description", "order")
COMPONENT_FIELDS = ("name", "description", "group", "order", "shown")
SETTINGS_FIELDS = ("name", "accent_colour", "support_url", "time_zone", "private", "history_days")
MAX_LOGO_BYTES = 256 * 1024
MAX_HISTORY_DAYS = 366
# The first bytes of each raster format taken, and its content type: the bytes decide, never the name.
RASTER_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
SVG_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!DOCTYPE[^>]*>\s*)?<svg[\s>]", re.S | re.I)
# An SVG is a document: scripts, event handlers, foreign HTML and outside references would run or
# load from the page's own origin. Refused rather than cleaned.
SVG_HAZARDS = re.compile(
    rb"<script|<foreignobject|\son[a-z]+\s*=|javascript:|<!entity|(href|src)\s*=\s*[\"']?\s*(https?:|//|data:)",
    re.I,
)


def _assign(instance: Any, allowed: tuple[str, ...], fields: dict[str, Any], function: str) -> None:
    for name, value in fields.items():
        if name not in allowed:
            raise TypeError(f"{function}() got an unexpected field {name!r}")
        setattr(instance, name, value.strip() if isinstance(value, str) else value)


def _refuse_invalid(instance: Any, errors: dict[str, list[str]] | None = None) -> None:
    """full_clean's complaints (lengths, choices, validators, unique names) and `errors`, together."""
    errors = dict(errors or {})
    try:
        instance.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


# --- Groups -----------------------------------------------------------------------------------


def component_group_save(*, by: Actor, group: ComponentGroup | None = None, **fields: Any) -> ComponentGroup:
    if group is None:
        by.require("statuspage.add_componentgroup", "add component groups")
        group = ComponentGroup()
    else:
        by.require("statuspage.change_componentgroup", "change component groups")
        group = ComponentGroup.objects.get(pk=group.pk)  # A refusal leaves the caller's copy alone.
    _assign(group, GROUP_FIELDS, fields, "component_group_save")
    _refuse_invalid(group)
    with transaction.atomic():
        group.save()
        page_changed()
    return group


def component_group_delete(*, by: Actor, group: ComponentGroup) -> None:
    """Its components stay, ungrouped."""
    by.require("statuspage.delete_componentgroup", "delete component groups")
    with transaction.atomic():
        group.delete()
        page_changed()


# --- Components -------------------------------------------------------------------------------


def component_save(
    *,
    by: Actor,
    component: Component | None = None,
    services: list[Service] | None = None,
    **fields: Any,
) -> Component:
    """Create or change a component; `services` (when given) replaces its linked services. Its status
    is not set here: component_status_set, or the incidents and maintenance naming it."""
    if component is None:
        by.require("statuspage.add_component", "add components")
        component = Component()
    else:
        by.require("statuspage.change_component", "change components")
        component = Component.objects.get(pk=component.pk)
    _assign(component, COMPONENT_FIELDS, fields, "component_save")
    _refuse_invalid(component, None)
    with transaction.atomic():
        component.save()
        if services is not None:
            component.services.set(services)
        page_changed()
    return component


def component_delete(*, by: Actor, component: Component) -> None:
    """Its history and its place in past incidents go with it (the page no longer shows it)."""
    by.require("statuspage.delete_component", "delete components")
    with transaction.atomic():
        component.delete()
        page_changed()


def components_reorder(*, by: Actor, order: dict[int, int]) -> int:
    """Set the `order` of many components at once ({component id: position}); unknown ids are
    refused. Returns how many changed."""
    by.require("statuspage.change_component", "change components")
    errors = {}
    if any(not isinstance(value, int) or value < 0 for value in order.values()):
        errors["order"] = ["Positions are whole numbers from 0."]
    found = set(Component.objects.filter(pk__in=list(order)).values_list("pk", flat=True))
    if set(order) - found:
        errors["components"] = [f"No such component: {', '.join(map(str, sorted(set(order) - found)))}."]
    if errors:
        raise ValidationError(errors)
    changed = 0
    with transaction.atomic():
        for component in Component.objects.select_for_update().filter(pk__in=list(order)).order_by("pk"):
            if component.order != order[component.pk]:
                component.order = order[component.pk]
                component.save(update_fields=["order", "updated_at"])
                changed += 1
        page_changed()
    return changed


# --- Page settings ----------------------------------------------------------------------------


def logo_type(data: bytes) -> str:
    """The content type the bytes are, or ValidationError: png, jpeg, gif, webp or a plain SVG."""
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationError({"logo": [f"The logo is {len(data) // 1024} KB: at most 256 KB."]})
    for magic, content_type in RASTER_MAGIC:
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data.lstrip(b"\xef\xbb\xbf")
    if SVG_START.match(head[:4096]):
        if SVG_HAZARDS.search(head):
            raise ValidationError(
                {"logo": ["The SVG holds scripts, event handlers or outside references: export a plain one."]}
            )
        return "image/svg+xml"
    raise ValidationError({"logo": ["Upload a PNG, JPEG, GIF, WebP or SVG image."]})


def page_settings_save(
    *, by: Actor, logo: bytes | None = None, logo_clear: bool = False, **fields: Any
) -> PageSettings:
    """Change the page's settings; `logo` (the uploaded bytes) replaces the logo, `logo_clear`
    removes it."""
    by.require("statuspage.change_pagesettings", "change the status page's settings")
    row = page_settings()
    _assign(row, SETTINGS_FIELDS, fields, "page_settings_save")
    errors: dict[str, list[str]] = {}
    if not 1 <= (row.history_days or 0) <= MAX_HISTORY_DAYS:
        errors["history_days"] = [f"From 1 to {MAX_HISTORY_DAYS} days."]
    if logo is not None:
        try:
            row.logo_content_type = logo_type(logo)
            row.logo = logo
        except ValidationError as exc:
            errors.update(exc.message_dict)
    elif logo_clear:
        row.logo, row.logo_content_type = b"", ""
    _refuse_invalid(row, errors)
    with transaction.atomic():
        row.save()
        page_changed()
    return row
