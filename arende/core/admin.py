"""The administration site. Saves go through the audit log like every other change."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from arende.core.audit import audit_record, audit_value, diff
from arende.core.models import AuditEvent, Department, Organisation, Role, RoleAssignment, User


class AuditedAdmin(admin.ModelAdmin):
    """Records each save and delete made in the administration site in the audit log."""

    def save_model(self, request, obj, form, change):
        fields = [name for name in form.changed_data if hasattr(obj, name)]
        before = {}
        if change and obj.pk:
            original = type(obj).objects.get(pk=obj.pk)
            before = {name: audit_value(getattr(original, name)) for name in fields}
            if hasattr(obj, "version"):
                obj.version = original.version + 1
        super().save_model(request, obj, form, change)
        after = {name: audit_value(getattr(obj, name)) for name in fields}
        changes = diff(before, after) if change else {k: [None, v] for k, v in after.items()}
        audit_record(
            actor=request.user,
            action="update" if change else "create",
            obj=obj,
            changes=changes,
            verb="admin",
        )

    def delete_model(self, request, obj):
        label = str(obj)
        audit_record(
            actor=request.user,
            action="delete",
            obj=obj,
            verb="admin",
            changes={"record": [label, None]},
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


# Django's groups grant nothing here (roles do, see access.LoginBackend): not offered in the admin.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ["name", "kind", "org_number", "host", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "org_number"]


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ["name", "organisation", "parent", "manager", "is_active"]
    list_filter = ["organisation", "is_active"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent", "manager"]


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    fields = ["role", "organisation", "granted_by", "granted_at"]
    readonly_fields = ["granted_by", "granted_at"]


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    ordering = ["last_name", "first_name"]
    list_display = ["email", "first_name", "last_name", "organisation", "department", "is_active"]
    list_filter = ["organisation", "is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name", "phone"]
    autocomplete_fields = ["department"]
    inlines = [RoleAssignmentInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Person"),
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "organisation",
                    "department",
                    "phone",
                    "title",
                    "language",
                )
            },
        ),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "first_name", "last_name", "password1", "password2"),
            },
        ),
    )

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            audit_record(
                actor=request.user,
                action="revoke",
                obj=deleted.user,
                verb="admin",
                changes={"role": [deleted.role.code, None]},
            )
            deleted.delete()
        for instance in instances:
            if instance.pk is None:
                instance.granted_by = request.user
                audit_record(
                    actor=request.user,
                    action="grant",
                    obj=instance.user,
                    verb="admin",
                    changes={
                        "role": [None, instance.role.code],
                        "organisation": [None, str(instance.organisation or "*")],
                    },
                )
            instance.save()
        formset.save_m2m()


@admin.register(Role)
class RoleAdmin(AuditedAdmin):
    list_display = ["name", "code", "is_it_staff"]
    filter_horizontal = ["permissions"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "content_type", "object_label", "ip_address"]
    list_filter = ["action", "content_type"]
    search_fields = ["actor_label", "object_label", "request_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
