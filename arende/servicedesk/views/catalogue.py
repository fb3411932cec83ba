"""The service catalogue editor at /catalogue/: services and their request types.

For the IT manager and the administrator (the catalogue permission for every organisation,
since the catalogue is shared by all of them). Every write goes through
``arende.servicedesk.services.catalogue``; a stale edit answers 409 with what changed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from arende.core.errors import DomainError, StaleEdit
from arende.servicedesk.catalogue_forms import RequestTypeForm, ServiceForm, field_formset
from arende.servicedesk.forms import apply_domain_error
from arende.servicedesk.models import RequestType, Service
from arende.servicedesk.services import catalogue as catalogue_services


def _require(request: HttpRequest) -> None:
    if not catalogue_services.may_edit_catalogue(request.user):
        raise PermissionDenied


def _changes(form_fields: dict[str, Any], changed: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """What changed meanwhile, with the form's labels, for the stale-edit notice."""
    rows = []
    for name, (then, now) in changed.items():
        field = form_fields.get(name)
        label = field.label if field is not None else name
        rows.append({"label": label, "then": _plain(then), "now": _plain(now)})
    return rows


def _plain(value: Any) -> str:
    if value in (None, "", []):
        return "–"
    if isinstance(value, list):  # custom fields: their labels, in order
        return ", ".join(
            str(item.get("label") or item.get("name")) if isinstance(item, dict) else str(item)
            for item in value
        )
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)


@login_required
@require_GET
def catalogue_list(request: HttpRequest) -> HttpResponse:
    _require(request)
    services = Service.objects.select_related("owner", "default_group").prefetch_related(
        Prefetch(
            "request_types",
            queryset=RequestType.objects.select_related("approver_role").order_by("name"),
        )
    )
    return render(request, "servicedesk/catalogue/list.html", {"services": services})


# Services --------------------------------------------------------------------------------------


def _render_service(
    request: HttpRequest,
    form: ServiceForm,
    service: Service | None,
    *,
    status: int = 200,
    stale: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    return render(
        request,
        "servicedesk/catalogue/service_form.html",
        {"form": form, "service": service, "stale_changes": stale},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def service_create(request: HttpRequest) -> HttpResponse:
    _require(request)
    form = ServiceForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return _render_service(request, form, None, status=400)
        try:
            service = catalogue_services.service_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
            return _render_service(request, form, None, status=400)
        messages.success(request, _("The service “%(name)s” was created.") % {"name": service})
        return redirect("servicedesk:catalogue")
    return _render_service(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    service = get_object_or_404(Service, pk=pk)
    form = ServiceForm(request.POST or None, service=service)
    if request.method == "POST":
        if not form.is_valid():
            return _render_service(request, form, service, status=400)
        changes = dict(form.cleaned_data)
        version = changes.pop("version")
        try:
            service = catalogue_services.service_update(
                actor=request.user, service=service, version=version, **changes
            )
        except StaleEdit as error:
            current = Service.objects.get(pk=pk)
            data = request.POST.copy()
            data["version"] = str(current.version)  # resubmitting means "mine wins", knowingly
            rebased = ServiceForm(data, service=current)
            rebased.is_valid()
            rebased.add_error(None, str(error.message))
            stale = _changes(rebased.fields, error.changed)
            return _render_service(request, rebased, current, status=409, stale=stale)
        except DomainError as error:
            apply_domain_error(form, error)
            return _render_service(request, form, service, status=400)
        messages.success(request, _("The service “%(name)s” was saved.") % {"name": service})
        return redirect("servicedesk:catalogue")
    return _render_service(request, form, service)


# Request types ---------------------------------------------------------------------------------


def _render_request_type(
    request: HttpRequest,
    form: RequestTypeForm,
    fields: Any,
    request_type: RequestType | None,
    *,
    status: int = 200,
    stale: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    return render(
        request,
        "servicedesk/catalogue/request_type_form.html",
        {
            "form": form,
            "field_forms": fields,
            "request_type": request_type,
            "stale_changes": stale,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_type_create(request: HttpRequest, service_pk: int) -> HttpResponse:
    _require(request)
    service = get_object_or_404(Service, pk=service_pk)
    form = RequestTypeForm(request.POST or None, service=service)
    fields = field_formset(request.POST or None)
    if request.method == "POST":
        valid = form.is_valid()
        valid = fields.is_valid() and valid
        if not valid:
            return _render_request_type(request, form, fields, None, status=400)
        try:
            request_type = catalogue_services.request_type_create(
                actor=request.user, fields=fields.definitions(), **form.cleaned_data
            )
        except DomainError as error:
            apply_domain_error(form, error)
            return _render_request_type(request, form, fields, None, status=400)
        messages.success(
            request, _("The request type “%(name)s” was created.") % {"name": request_type}
        )
        return redirect("servicedesk:catalogue")
    return _render_request_type(request, form, fields, None)


@login_required
@require_http_methods(["GET", "POST"])
def request_type_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    request_type = get_object_or_404(RequestType.objects.select_related("service"), pk=pk)
    seen = catalogue_services.request_type_token(request_type)
    form = RequestTypeForm(request.POST or None, request_type=request_type, seen=seen)
    fields = field_formset(request.POST or None, definitions=request_type.fields)
    if request.method == "POST":
        valid = form.is_valid()
        valid = fields.is_valid() and valid
        if not valid:
            return _render_request_type(request, form, fields, request_type, status=400)
        changes = dict(form.cleaned_data)
        token = changes.pop("seen")
        try:
            request_type = catalogue_services.request_type_update(
                actor=request.user,
                request_type=request_type,
                seen=token,
                fields=fields.definitions(),
                **changes,
            )
        except StaleEdit as error:
            data = request.POST.copy()
            data["seen"] = seen  # the current values: resubmitting overrides them, knowingly
            rebased = RequestTypeForm(data, request_type=request_type, seen=seen)
            rebased.is_valid()
            rebased.add_error(None, str(error.message))
            stale = _changes(rebased.fields, error.changed)
            return _render_request_type(
                request, rebased, fields, request_type, status=409, stale=stale
            )
        except DomainError as error:
            apply_domain_error(form, error)
            return _render_request_type(request, form, fields, request_type, status=400)
        messages.success(
            request, _("The request type “%(name)s” was saved.") % {"name": request_type}
        )
        return redirect("servicedesk:catalogue")
    return _render_request_type(request, form, fields, request_type)
