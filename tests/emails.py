"""Reading the e-mails the portal sends, for the tests of their text and HTML parts."""

from __future__ import annotations

import re

from django.core.mail import EmailMessage


def html_part(message: EmailMessage) -> str:
    """The HTML alternative of `message`, its only one."""
    [(html, mimetype)] = message.alternatives  # type: ignore[attr-defined]
    assert mimetype == "text/html"
    return html


def button_href(html: str) -> str:
    """The button's link: the first link of the e-mail (the link in words under it repeats it)."""
    found = re.search(r'<a href="([^"]+)"', html)
    assert found, "the e-mail has no link"
    return found.group(1)
