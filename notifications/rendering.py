"""Email content: subject, plain text and HTML rendered from templates under
``templates/notifications/email/`` (``<kind>.subject.txt``, ``<kind>.txt``, ``<kind>.html``),
branded from settings and formatted for the shop's locale."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def branding() -> dict[str, Any]:
    """What every email shows of the shop, from settings."""
    return {
        "shop_name": settings.OMS_SHOP_NAME,
        "shop_logo_url": settings.OMS_SHOP_LOGO_URL,
        "support_email": settings.OMS_SUPPORT_EMAIL,
        "support_phone": settings.OMS_SUPPORT_PHONE,
        "site_url": settings.OMS_SITE_URL,
    }


def render_email(kind: str, context: dict[str, Any]) -> RenderedEmail:
    """Renders the three parts of ``kind`` with the branding added to ``context``. The subject
    is one line whatever the template's whitespace."""
    ctx = {**branding(), **context, "kind": kind}
    subject = " ".join(render_to_string(f"notifications/email/{kind}.subject.txt", ctx).split())
    text = render_to_string(f"notifications/email/{kind}.txt", ctx)
    html = render_to_string(f"notifications/email/{kind}.html", ctx)
    return RenderedEmail(subject=subject, text=text, html=html)
