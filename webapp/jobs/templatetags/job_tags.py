"""Template filters for job lists: whether the viewer's role may act on a job (Job.role_to_manage)."""

from django import template

from webapp.accounts.roles import role_allows

register = template.Library()


@register.filter
def manageable_with(job, role: str | None) -> bool:
    """`{% if job|manageable_with:user_role %}`: may that role cancel or retry this job?"""
    return role_allows(role, job.role_to_manage)
