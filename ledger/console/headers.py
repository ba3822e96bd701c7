"""The headers every console answer carries (SPEC §13).

The Content-Security-Policy lets a page use only what the application itself serves: scripts,
styles, images and fonts from its own origin, no inline script, no other host (bank branches run
on an intranet, and an injected tag must not be able to fetch or send anything), no framing.
Pages hold personal figures (balances, receipts), so nothing is cached.
"""

from __future__ import annotations

from flask import Response

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Same-origin only: Flask-WTF checks over HTTPS that a form came from our own pages.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def add_console_headers(response: Response) -> Response:
    """after_request hook of the console's blueprints; runs for error pages too."""
    response.headers.update(HEADERS)
    return response
