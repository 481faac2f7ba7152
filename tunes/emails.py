"""The e-mails a customer's photoshoot sends when it ends: its photos are ready, or it failed
(with the refund). Both in plain text and HTML, from templates/tunes/email/ (previews of the
studio send none)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from accounts.services import email_queue, email_render

from .models import Photoshoot


def _link(photoshoot: Photoshoot) -> str:
    return settings.PUBLIC_BASE_URL + reverse("tunes:photoshoot_detail", args=[photoshoot.code])


def ready_email_send(photoshoot: Photoshoot) -> None:
    """Queue "your photos are ready", with a link to the gallery, in the caller's transaction."""
    if photoshoot.kind != Photoshoot.Kind.CUSTOMER:
        return
    context = {
        "photoshoot": photoshoot,
        "photo_count": photoshoot.photos.count(),
        "link": _link(photoshoot),
    }
    email_queue(
        email=email_render(
            template_prefix="tunes/email/photoshoot_ready",
            to=[photoshoot.owner.email],
            context=context,
        )
    )


def failed_email_send(photoshoot: Photoshoot, reason: str) -> None:
    """Queue "your photoshoot could not be made": what happened, that its credits came back,
    and a link to its page (which offers to try again)."""
    if photoshoot.kind != Photoshoot.Kind.CUSTOMER:
        return
    context = {"photoshoot": photoshoot, "reason": reason, "link": _link(photoshoot)}
    email_queue(
        email=email_render(
            template_prefix="tunes/email/photoshoot_failed",
            to=[photoshoot.owner.email],
            context=context,
        )
    )
