"""Template helpers for links to pages other apps may or may not provide yet."""

from __future__ import annotations

from django import template
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def optional_url(name: str, *args) -> str:
    """The URL named `name`, or "" when no such page exists (templates then leave the link out)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.simple_tag(takes_context=True)
def include_if_exists(context, template_name: str, **extra) -> str:
    """Render `template_name` with the current context plus `extra`, or nothing if it does not exist."""
    try:
        partial = get_template(template_name)
    except TemplateDoesNotExist:
        return ""
    with context.push(**extra):
        return partial.render(context.flatten(), context.get("request"))


@register.filter
def short_format(container: str) -> str:
    """FFmpeg's container names list aliases ("mov,mp4,m4a,..."); show the first two."""
    return ", ".join(container.split(",")[:2]) if container else ""
