"""What the operations pages share: access checks, the action runner, form errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from arende.core.access import scope_for
from arende.core.errors import DomainError, StaleEdit
from arende.operations.forms import apply_domain_error


def require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def can(user: Any, perm: str, obj: Any) -> bool:
    """``perm`` held for at least one of the record's organisations (or for all)."""
    scope = scope_for(user, perm)
    if scope.all_organisations:
        return True
    if not scope.organisation_ids:
        return False
    ids = {org.pk for org in obj.organisations.all()}
    return bool(ids & scope.organisation_ids)


def version_of(form: forms.Form) -> int | None:
    return form.cleaned_data.get("version") or None


def run_action(
    request: HttpRequest,
    *,
    form: forms.Form,
    apply: Callable[[dict[str, Any]], Any],
    success: str,
    redirect_to: str,
    rerender: Callable[[forms.Form, int], HttpResponse],
) -> HttpResponse:
    """Validate the form, call the service, and answer: redirect with a message on success,
    the page with the form's errors (400, or 409 for a stale edit) otherwise."""
    if form.is_valid():
        try:
            apply(form.cleaned_data)
        except StaleEdit as error:
            apply_domain_error(form, error)
            return rerender(form, 409)
        except DomainError as error:
            if error.code == "forbidden":
                raise PermissionDenied from None
            apply_domain_error(form, error)
            return rerender(form, 400)
        messages.success(request, success)
        return redirect(redirect_to)
    return rerender(form, 400)
