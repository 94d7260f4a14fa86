from rest_framework.permissions import DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    """Django model permissions, reads included: a user without `view_<model>` sees nothing.

    A view may name the permissions of its custom actions in `action_permissions`, keyed by action
    name, either as a list (any method) or as a dict by HTTP method. A transition is a POST but
    needs `transition_<model>`, not `add_<model>`, and a read-only helper needs only `view_<model>`.
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if request.user and request.user.is_authenticated and not hasattr(view, request.method.lower()):
            return True  # Not offered at all: let the view answer 405 rather than 403.
        perms = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if isinstance(perms, dict):
            method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
            perms = perms.get(method)
        if perms is None:
            return super().has_permission(request, view)
        if not request.user or not request.user.is_authenticated:
            return False
        return request.user.has_perms(perms)
