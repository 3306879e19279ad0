"""Going through the review step as a browser does: post the form, check the review page, then
post what its form holds (the same fields and `confirmed=1`)."""

from __future__ import annotations

import html
import re
from typing import Any

from werkzeug.test import TestResponse

from tests.support.world import Client, World, main_part

_FORM = re.compile(
    r'<form method="post" action="([^"]+)" class="form" id="review-form">(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def review_fields(page: str) -> tuple[str, list[tuple[str, str]]]:
    """The review form's action and its hidden fields (without the CSRF token)."""
    found = _FORM.search(page)
    assert found, main_part(page)
    fields = [(html.unescape(n), html.unescape(v)) for n, v in _HIDDEN.findall(found.group(2))
              if n != "csrf_token"]
    return html.unescape(found.group(1)), fields


def confirm(client: Client, review: TestResponse) -> TestResponse:
    """Press "Confirm" on a review page."""
    page = review.get_data(as_text=True)
    assert review.status_code == 200 and 'data-testid="tx-review"' in page, main_part(page)
    action, fields = review_fields(page)
    data: dict[str, Any] = {}
    for name, value in fields:
        if name in data:
            existing = data[name]
            data[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            data[name] = value
    return client.post(action, data)


def send(client: Client, path: str, data: dict[str, Any] | None = None) -> TestResponse:
    """Post a form that moves money: the review first, then its confirmation."""
    response = client.post(path, data or {})
    if response.status_code != 200 or 'data-testid="tx-review"' not in response.get_data(
            as_text=True):
        return response  # refused before the review (a bad field, a revert): the caller checks
    return confirm(client, response)


def settled_booking(world: World, customer: int, provider_id: int, owner: int) -> int:
    """Book `provider_id` straight on the contract (a slot a day ahead), accept, reach the
    start, complete and confirm: a settled booking waiting for its rating. Not indexed yet."""
    booking = world.book_direct(customer, provider_id)
    world.transact("accept", booking, sender=owner)
    world.mine(86_400 + 60)
    world.transact("complete", booking, sender=owner)
    world.transact("confirm", booking, sender=customer)
    return booking
