"""The app config that makes ThrottledAdminSite `admin.site` (listed in INSTALLED_APPS for django.contrib.admin).

A module of its own: INSTALLED_APPS modules are imported before models load, so it must not import the site.
"""

from django.contrib.admin.apps import AdminConfig


class ThrottledAdminConfig(AdminConfig):
    """django.contrib.admin with ThrottledAdminSite as `admin.site`, so /admin/login/ is throttled too."""

    default_site = "webapp.accounts.admin_site.ThrottledAdminSite"
