"""Template filters for job lists: whether the person looking may act on a job (Job.may_be_managed_by)."""

from django import template

register = template.Library()


@register.filter
def manageable_by(job, user) -> bool:
    """`{% if job|manageable_by:user %}`: may that user cancel or retry this job (their role in its team)?"""
    return job.may_be_managed_by(user)
