"""The built-in groups and what they may do. Migrations call `groups_sync` whenever an app adds
models or permissions, so a fresh database and an upgraded one end up with the same groups."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

DOMAIN_APPS = (
    "incidents",
    "actions",
    "alerts",
    "postmortems",
    "notifications",
    "oncall",
    "statuspage",
    "analytics",
    "drills",
)
# API tokens and login lockouts: an Admin issues and revokes tokens and unlocks logins.
ACCESS_APPS = ("common", "axes")
ADMIN_ACCESS_PERMISSIONS = [
    "common.view_apitoken",
    "common.add_apitoken",
    "common.change_apitoken",
    "axes.view_accessattempt",
    "axes.delete_accessattempt",
    "auth.view_user",
]

RESPONDER_PERMISSIONS = [
    "incidents.add_incident",
    "incidents.change_incident",
    "incidents.transition_incident",
    "incidents.add_statusupdate",
    "incidents.add_roleassignment",
    "incidents.change_roleassignment",
    "incidents.delete_roleassignment",
    "actions.run_action",
    # Maintenance windows are a responder's call; rules and sources are an admin's.
    "alerts.add_silence",
    "alerts.change_silence",
    # Writing post-mortems and tracking their action items is everyday responder work.
    "postmortems.add_postmortem",
    "postmortems.change_postmortem",
    "postmortems.add_timelineentry",
    "postmortems.change_timelineentry",
    "postmortems.delete_timelineentry",
    "postmortems.add_actionitem",
    "postmortems.change_actionitem",
    # A message that failed to reach the incident's channel is resent by whoever is working it.
    "notifications.change_delivery",
    # Covering someone's shift (an override, "take over") is everyday work, not an admin's.
    "oncall.add_override",
    "oncall.change_override",
    "oncall.delete_override",
    # Telling customers is part of working an incident (the runbooks: from the first minute).
    "statuspage.add_publicincident",
    "statuspage.change_publicincident",
    "statuspage.add_publicupdate",
    "statuspage.change_component",
    # Running a drill and writing up how it went is what responders practise.
    "drills.add_drillrun",
    "drills.change_drillrun",
    "drills.change_drillreport",
]
# People's phone numbers and addresses: each person manages their own; only an Admin sees them all.
# Calendar feeds are secret URLs: each person sees and manages their own (the services check).
# Status page subscribers' addresses likewise: an Admin's only.
PRIVATE_VIEWS = ["view_contactmethod", "view_calendarfeed", "view_subscriber"]
IMMUTABLE = [
    "add_timelineevent",
    "change_timelineevent",
    "delete_timelineevent",
    "add_incidentsequence",
    "change_incidentsequence",
    "delete_incidentsequence",
    "add_reminderdigest",
    "change_reminderdigest",
    "delete_reminderdigest",
]
# Approving risky automation arrives with the actions app; missing permissions are skipped.
APPROVER_PERMISSIONS = ["actions.approve_actionrun", "postmortems.publish_postmortem"]


def groups_sync(apps, schema_editor=None) -> None:
    """Create the groups and grant their permissions; adds only, so local additions survive."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for label in DOMAIN_APPS + ACCESS_APPS:
        # Permissions are normally created after migrate; the groups need them now.
        create_permissions(global_apps.get_app_config(label), verbosity=0, apps=global_apps)

    # The timeline is append-only and references come from their sequence: nobody edits either.
    domain = Permission.objects.filter(content_type__app_label__in=DOMAIN_APPS).exclude(
        codename__in=IMMUTABLE
    )
    view = list(domain.filter(codename__startswith="view_").exclude(codename__in=PRIVATE_VIEWS))

    def named(perms: list[str]) -> list:
        wanted = {tuple(p.split(".", 1)) for p in perms}
        return [
            p
            for p in Permission.objects.select_related("content_type")
            if (p.content_type.app_label, p.codename) in wanted
        ]

    responder = view + named(RESPONDER_PERMISSIONS)
    grants = {
        "Viewer": view,
        "Responder": responder,
        "Approver": responder + named(APPROVER_PERMISSIONS),
        "Admin": list(domain) + named(ADMIN_ACCESS_PERMISSIONS),
    }
    for name, perms in grants.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*perms)
