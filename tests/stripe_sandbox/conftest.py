"""Fixtures for the Stripe sandbox: the real SDK pointed at the sandbox on the live server, and
a receiver on 127.0.0.1 that records the webhooks it sends, raw bytes and headers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import stripe

SANDBOX_KEY = "sk_test_sandbox"
WEBHOOK_SECRET = "whsec_test_sandbox_secret"


@dataclass
class Webhook:
    payload: bytes
    signature: str

    def event(self, secret: str = WEBHOOK_SECRET) -> stripe.Event:
        """The event, as the portal's view gets it: only if its signature verifies."""
        return stripe.Webhook.construct_event(self.payload, self.signature, secret)


@dataclass
class Receiver:
    url: str = ""
    received: list[Webhook] = field(default_factory=list)

    def serve(self) -> ThreadingHTTPServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.received.append(Webhook(raw, self.headers.get("Stripe-Signature", "")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{server.server_address[1]}/payments/stripe/webhook/"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def types(self) -> list[str]:
        return [hook.event().type for hook in self.received]


@dataclass
class StripeSandbox:
    url: str

    def configure(self, **config: Any) -> dict[str, Any]:
        response = requests.put(
            f"{self.url}/_sandbox/config",
            json=config,
            headers={"Authorization": f"Bearer {SANDBOX_KEY}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def deliveries(self) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.url}/_sandbox/deliveries",
            headers={"Authorization": f"Bearer {SANDBOX_KEY}"},
            timeout=10,
        )
        return response.json()


@pytest.fixture
def webhooks(settings: Any) -> Iterator[Receiver]:
    receiver = Receiver()
    server = receiver.serve()
    settings.STRIPE_SANDBOX_WEBHOOK_URL = receiver.url
    settings.STRIPE_SANDBOX_WEBHOOK_SECRET = WEBHOOK_SECRET
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def stripe_sandbox(
    transactional_db: None, live_server: Any, settings: Any, webhooks: Receiver
) -> Iterator[StripeSandbox]:
    """The sandbox on the live server, the official SDK's globals pointed at it (and put back)."""
    url = f"{live_server.url}/sandbox/stripe"
    saved = stripe.api_key, stripe.api_base, stripe.max_network_retries
    stripe.api_key, stripe.api_base, stripe.max_network_retries = SANDBOX_KEY, url, 0
    yield StripeSandbox(url=url)
    stripe.api_key, stripe.api_base, stripe.max_network_retries = saved


def checkout_params(**overrides: Any) -> dict[str, Any]:
    """What the portal sends for one credit package."""
    return {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 900,
                    "product_data": {"name": "40 credits"},
                },
                "quantity": 1,
            }
        ],
        "success_url": "http://127.0.0.1/payments/success/?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1/pricing/?cancelled=1",
        "client_reference_id": "user-code-1",
        "metadata": {"purchase": "p-123", "package": "starter"},
        "allow_promotion_codes": True,
        **overrides,
    }
