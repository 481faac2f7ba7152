"""Stripe's form encoding, as the SDK sends it, decoded and checked.

The SDK posts `application/x-www-form-urlencoded` with bracket keys:
`line_items[0][price_data][unit_amount]=900`, `metadata[purchase]=…`, booleans as `true`. They
are decoded into nested dicts and lists, then parsed into typed schemas; what the sandbox does
not emulate is refused as Stripe refuses an unknown parameter, so that a portal never relies on
something only the sandbox accepts.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from django.http import QueryDict
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import StripeError

Schema = TypeVar("Schema", bound=BaseModel)
KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def decode(form: QueryDict) -> dict[str, Any]:
    """`a[b][0][c]=v` → `{"a": {"b": [{"c": "v"}]}}`; a malformed key is a 400."""
    tree: dict[str, Any] = {}
    for key, value in form.items():
        match = KEY.match(key)
        if not match:
            raise StripeError(f"Invalid parameter name: {key}", param=key)
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise StripeError(f"Invalid parameter: {key}", param=key)
        node[parts[-1]] = value
    return _listify(tree)


def _listify(node: Any) -> Any:
    """Dicts keyed 0, 1, 2… (Stripe's arrays) become lists."""
    if not isinstance(node, dict):
        return node
    node = {key: _listify(value) for key, value in node.items()}
    if node and all(key.isdecimal() for key in node):
        return [node[key] for key in sorted(node, key=int)]
    return node


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProductData(_Strict):
    name: str = Field(min_length=1, max_length=250)
    description: str | None = None


class PriceData(_Strict):
    currency: str = Field(pattern=r"^[a-zA-Z]{3}$")
    unit_amount: int = Field(ge=0, le=99_999_999)
    product_data: ProductData


class LineItem(_Strict):
    price_data: PriceData
    quantity: int = Field(ge=1, le=999)


# Real Checkout parameters the sandbox accepts and ignores: they change nothing it emulates.
IGNORED_SESSION_PARAMS = {
    "expand",
    "locale",
    "expires_at",
    "customer_creation",
    "payment_method_types",
    "payment_intent_data",
    "submit_type",
    "billing_address_collection",
    "invoice_creation",
    "ui_mode",
    "custom_text",
}


class SessionCreate(_Strict):
    mode: str
    line_items: list[LineItem] = Field(min_length=1)
    success_url: str = Field(pattern=r"^https?://", max_length=5000)
    cancel_url: str = Field(default="", pattern=r"^(https?://.*)?$", max_length=5000)
    client_reference_id: str = Field(default="", max_length=200)
    customer_email: str = Field(default="", max_length=254)
    metadata: dict[str, str] = Field(default_factory=dict, max_length=50)
    allow_promotion_codes: bool = False

    @property
    def currency(self) -> str:
        return self.line_items[0].price_data.currency.lower()

    @property
    def amount_total(self) -> int:
        return sum(item.price_data.unit_amount * item.quantity for item in self.line_items)


class RefundCreate(_Strict):
    payment_intent: str = ""
    charge: str = ""
    amount: int | None = Field(default=None, ge=1)
    reason: str = Field(default="", pattern=r"^(duplicate|fraudulent|requested_by_customer)?$")
    metadata: dict[str, str] = Field(default_factory=dict)


def session_create_parse(fields: dict[str, Any]) -> SessionCreate:
    fields = {k: v for k, v in fields.items() if k not in IGNORED_SESSION_PARAMS}
    data = _parse(SessionCreate, fields)
    if data.mode != "payment":
        raise StripeError("The Stripe sandbox emulates mode=payment only.", param="mode")
    if len({item.price_data.currency.lower() for item in data.line_items}) > 1:
        raise StripeError("All line items must share one currency.", param="line_items")
    return data


def refund_create_parse(fields: dict[str, Any]) -> RefundCreate:
    fields = {k: v for k, v in fields.items() if k != "expand"}
    data = _parse(RefundCreate, fields)
    if not data.payment_intent and not data.charge:
        raise StripeError("One of `payment_intent` or `charge` is required.", param="charge")
    return data


def _parse(schema: type[Schema], fields: dict[str, Any]) -> Schema:
    try:
        return schema.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = _param_name(first["loc"])
        if first["type"] == "extra_forbidden":
            raise StripeError(f"Received unknown parameter: {param}", param=param) from None
        if first["type"] == "missing":
            raise StripeError(f"Missing required param: {param}.", param=param) from None
        raise StripeError(f"Invalid {param}: {first['msg']}", param=param) from None


def _param_name(loc: tuple[int | str, ...]) -> str:
    head, *rest = (str(part) for part in loc)
    return head + "".join(f"[{part}]" for part in rest)
