"""Providers (the hosts commands run on) and provider groups. Secrets are write-only here: no page
shows a stored private key, passphrase or password, only whether each is set."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from actions import runners
from actions.admin.base import CSS
from actions.choices import ProviderKind
from actions.forms.providers import SECRET_INPUTS, HostKeyPinForm, ProviderAdminForm, ProviderGroupAdminForm
from actions.models import Provider, ProviderGroup
from actions.runners.base import RunnerError
from actions.runners.hostkeys import host_key_fingerprint
from actions.selectors import provider_group_list, provider_list
from actions.services import (
    provider_delete,
    provider_group_delete,
    provider_group_save,
    provider_host_key_pin,
    provider_save,
)
from common.admin.deletes import DeleteRefusalMixin
from common.admin.services import ServiceSaveMixin, admin_actor, adopt, refusals
from common.exceptions import ApplicationError

PROVIDER_FIELDS = ProviderAdminForm._meta.fields


def fingerprint_text(host_key: str) -> str:
    if not host_key:
        return ""
    try:
        return f"{host_key.split()[0]} {host_key_fingerprint(host_key)}"
    except ValueError:
        return "unreadable key"


@admin.register(Provider)
class ProviderAdmin(DeleteRefusalMixin, ServiceSaveMixin, admin.ModelAdmin):
    bulk_delete = False  # One at a time, each through the service.
    form = ProviderAdminForm
    list_display = ("name", "kind", "where", "enabled", "tag_list", "host_key_pinned")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "address", "username")
    readonly_fields = ("host_key_status",)
    show_full_result_count = False
    change_form_template = "admin/actions/provider/change_form.html"

    class Media:
        css = {"all": CSS}

    def get_queryset(self, request: HttpRequest):
        return provider_list().order_by(*(self.get_ordering(request) or ("name",)))

    def get_fieldsets(self, request: HttpRequest, obj: Provider | None = None):
        credentials = (
            "auth_method",
            ("new_private_key", "clear_private_key"),
            ("new_passphrase", "clear_passphrase"),
            ("new_password", "clear_password"),
        )
        fieldsets = [
            (None, {"fields": ("name", "kind", "enabled", "tags")}),
            (
                "SSH connection",
                {
                    "fields": ("address", "port", "username", "connect_timeout", "use_sudo"),
                    "description": "For SSH hosts; a local provider runs commands on the worker itself.",
                },
            ),
            (
                "Credentials",
                {
                    "fields": credentials,
                    "description": "Stored encrypted and never shown again. A blank field keeps what "
                    "is stored; tick “clear” to remove it.",
                },
            ),
        ]
        if obj is not None:
            fieldsets.append(("Host key", {"fields": ("host_key_status",)}))
        return fieldsets

    @admin.display(description="Address")
    def where(self, obj: Provider) -> str:
        if obj.kind == ProviderKind.LOCAL:
            return "this worker"
        return f"{obj.username}@{obj.address}:{obj.port}"

    @admin.display(description="Tags")
    def tag_list(self, obj: Provider) -> str:
        return ", ".join(obj.tags or []) or "-"

    @admin.display(description="Host key pinned", boolean=True)
    def host_key_pinned(self, obj: Provider) -> bool | None:
        return None if obj.kind == ProviderKind.LOCAL else bool(obj.host_key)

    @admin.display(description="Pinned host key")
    def host_key_status(self, obj: Provider) -> str:
        if obj.kind == ProviderKind.LOCAL:
            return "Not needed: commands run on the worker itself."
        if not obj.host_key:
            return format_html(
                '<span class="mitigate-warning">{}</span>',
                "Not pinned: commands are refused until you fetch the host key and pin it.",
            )
        return format_html('<code class="mitigate-monospace">{}</code>', fingerprint_text(obj.host_key))

    # --- Writes ------------------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Provider, form: ProviderAdminForm, change: bool) -> None:
        data = {f: form.cleaned_data[f] for f in PROVIDER_FIELDS if f in form.cleaned_data}
        data.update(form.secret_changes())
        # The form copied its values onto `obj`; the service starts from the stored row instead, so
        # whatever the form did not send (the secrets) is kept as stored.
        stored = Provider.objects.get(pk=obj.pk) if change else None
        with refusals(rename=SECRET_INPUTS):
            saved = provider_save(by=admin_actor(request), provider=stored, data=data)
        adopt(obj, saved)

    def delete_model(self, request: HttpRequest, obj: Provider) -> None:
        provider_delete(by=admin_actor(request), provider=obj)

    # --- Test connection, fetch and pin the host key -----------------------------------------------

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        own = [
            path(
                "<path:object_id>/test-connection/",
                self.admin_site.admin_view(self.test_connection_view),
                name=f"{info}_test_connection",
            ),
            path(
                "<path:object_id>/host-key/",
                self.admin_site.admin_view(self.host_key_fetch_view),
                name=f"{info}_host_key_fetch",
            ),
            path(
                "<path:object_id>/host-key/pin/",
                self.admin_site.admin_view(self.host_key_pin_view),
                name=f"{info}_host_key_pin",
            ),
        ]
        # Before the defaults, whose "<path:object_id>/" would swallow these.
        return own + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and change and self.has_change_permission(request, obj):
            context["provider_tools"] = {
                "test_url": reverse("admin:actions_provider_test_connection", args=[obj.pk]),
                "fetch_url": (
                    reverse("admin:actions_provider_host_key_fetch", args=[obj.pk])
                    if obj.kind == ProviderKind.SSH
                    else None
                ),
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _provider_for_tool(self, request: HttpRequest, object_id: str) -> Provider:
        if request.method != "POST":
            raise _NotPostError
        provider = self.get_object(request, unquote(object_id))
        if provider is None:
            raise Http404("No such provider.")
        if not self.has_change_permission(request, provider):
            raise PermissionDenied
        return provider

    def _change_url(self, provider: Provider) -> str:
        return reverse("admin:actions_provider_change", args=[provider.pk])

    def test_connection_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        try:
            provider = self._provider_for_tool(request, object_id)
        except _NotPostError:
            return HttpResponseNotAllowed(["POST"])
        ok, latency_ms, error = runners.connection_test(provider)
        if ok:
            messages.success(
                request, f"Connected to {provider.label} and ran a command in {latency_ms:g} ms."
            )
        else:
            took = f" (after {latency_ms:g} ms)" if latency_ms is not None else ""
            messages.error(request, f"Could not run a command on {provider.label}{took}: {error}")
        return HttpResponseRedirect(self._change_url(provider))

    def host_key_fetch_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        try:
            provider = self._provider_for_tool(request, object_id)
        except _NotPostError:
            return HttpResponseNotAllowed(["POST"])
        if provider.kind != ProviderKind.SSH:
            messages.error(request, f"{provider.name} is not an SSH host: it has no host key.")
            return HttpResponseRedirect(self._change_url(provider))
        try:
            host_key, fingerprint = runners.host_key_fetch(provider)
        except RunnerError as exc:
            messages.error(
                request, f"Could not fetch the host key of {provider.label}: {exc.code}: {exc.message}"
            )
            return HttpResponseRedirect(self._change_url(provider))
        pinned = fingerprint_text(provider.host_key)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Pin the host key of {provider.name}?",
            "subtitle": None,
            "opts": self.opts,
            "provider": provider,
            "key_type": host_key.split()[0],
            "key_file": _key_file(host_key.split()[0]),
            "fingerprint": fingerprint,
            "pinned": pinned,
            "same_as_pinned": bool(pinned) and pinned.endswith(fingerprint),
            "form": HostKeyPinForm(initial={"token": HostKeyPinForm.sign(provider, host_key)}),
            "pin_url": reverse("admin:actions_provider_host_key_pin", args=[provider.pk]),
            "change_url": self._change_url(provider),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/actions/provider/host_key.html", context)

    def host_key_pin_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        try:
            provider = self._provider_for_tool(request, object_id)
        except _NotPostError:
            return HttpResponseNotAllowed(["POST"])
        form = HostKeyPinForm(request.POST)
        host_key = form.host_key_for(provider) if form.is_valid() else None
        if host_key is None:
            messages.error(request, "That confirmation expired or was altered: fetch the host key again.")
            return HttpResponseRedirect(self._change_url(provider))
        try:
            provider_host_key_pin(by=admin_actor(request), provider=provider, host_key=host_key)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"Pinned the host key of {provider.name}: {fingerprint_text(provider.host_key)}."
            )
        return HttpResponseRedirect(self._change_url(provider))


class _NotPostError(Exception):
    pass


def _key_file(key_type: str) -> str:
    """The part of /etc/ssh/ssh_host_<part>_key.pub that holds a key of this type."""
    if key_type.startswith("ecdsa"):
        return "ecdsa"
    return {"ssh-ed25519": "ed25519", "ssh-rsa": "rsa"}.get(key_type, "*")


@admin.register(ProviderGroup)
class ProviderGroupAdmin(DeleteRefusalMixin, ServiceSaveMixin, admin.ModelAdmin):
    bulk_delete = False
    form = ProviderGroupAdminForm
    list_display = ("name", "members", "selector", "max_parallel")
    search_fields = ("name", "description")
    filter_horizontal = ("providers",)
    fields = ("name", "description", "providers", "tag_selector", "max_parallel")

    class Media:
        css = {"all": CSS}

    def get_queryset(self, request: HttpRequest):
        return provider_group_list().order_by(*(self.get_ordering(request) or ("name",)))

    @admin.display(description="Listed providers")
    def members(self, obj: ProviderGroup) -> str:
        return ", ".join(p.name for p in obj.providers.all()) or "-"

    @admin.display(description="And every provider tagged")
    def selector(self, obj: ProviderGroup) -> str:
        return ", ".join(obj.tag_selector or []) or "-"

    def save_model(self, request: HttpRequest, obj: ProviderGroup, form, change: bool) -> None:
        data = {f: form.cleaned_data[f] for f in ("name", "description", "tag_selector", "max_parallel")}
        stored = ProviderGroup.objects.get(pk=obj.pk) if change else None
        with refusals():
            saved = provider_group_save(
                by=admin_actor(request), group=stored, data=data, providers=form.cleaned_data["providers"]
            )
        adopt(obj, saved)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        """provider_group_save set the providers already."""

    def delete_model(self, request: HttpRequest, obj: ProviderGroup) -> None:
        provider_group_delete(by=admin_actor(request), group=obj)
