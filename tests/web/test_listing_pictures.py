"""Listing pictures through the app: a provider uploads one on the register form, the listing's
on-chain metadata hash covers its SHA-256, /media serves it; bad files are said next to the field
with nothing else lost; editing replaces or removes it; the API uploads and names it; the pages
show it, or a placeholder."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

import pytest
from eth_utils.crypto import keccak
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from marketplace.web.db import canonical_json
from marketplace.web.demo_pictures import demo_picture
from tests.support.world import (
    HELSINKI,
    PROVIDERS,
    RIDES,
    Client,
    World,
    follow_pending,
    main_part,
    signed_in,
)
from tests.web.reviewing import confirm

NEWCOMER = 9  # a dev account that owns nothing yet
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


@pytest.fixture(scope="module")
def market(world: World) -> World:
    world.register("Pictured Rides", RIDES, HELSINKI, 0, 3 * 10**16, owner=PROVIDERS[0],
                   picture=demo_picture("rides", 2))
    world.register("Plain Rides", RIDES, HELSINKI, 0, 4 * 10**16, owner=PROVIDERS[0])
    world.register("Edited Rides", RIDES, HELSINKI, 0, 5 * 10**16, owner=PROVIDERS[1],
                   picture=demo_picture("rides", 1))
    world.sync()
    return world


def _file(data: bytes, name: str = "photo.png") -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def _form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "category": "cleaning", "region": "espoo", "price": "0.08", "stake": "0.002",
        "name": "Sini's Sparkle", "description": "Bright homes in Espoo",
        "attributes": ["eco_products"], "picture": ""}
    form.update(changes)
    return form


def _post_multipart(client: Client, path: str, form: dict[str, Any]) -> TestResponse:
    """Post a form with files, encoded here in memory (the test client's own encoder spools
    a large file to a temporary file it never closes)."""
    fields = {**form, "csrf_token": client.csrf()}
    for name, value in fields.items():
        if isinstance(value, tuple):
            fields[name] = FileStorage(stream=value[0], filename=value[1])
    boundary, body = encode_multipart(fields)
    return client.raw.post(path, data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")


def _errors(response: TestResponse) -> dict[str, str]:
    page = response.get_data(as_text=True)
    return dict(re.findall(r'data-error-for="([a-z_]+)" role="alert">([^<]*)<', page))


def _hidden_picture(page: str) -> str:
    found = re.search(r'<input type="hidden" name="picture" value="([^"]*)">', page)
    assert found, main_part(page)
    return found.group(1)


def _metadata_hash(world: World, provider_id: int) -> str:
    """The metadataHash of the listing's current offer, as its event on the chain carries it."""
    return "0x" + bytes(world.market.offer(provider_id)["metadataHash"]).hex()


def test_a_provider_uploads_a_picture_the_metadata_hash_covers_it_and_media_serves_it(
    market: World,
) -> None:
    data = demo_picture("cleaning", 1)
    digest = hashlib.sha256(data).hexdigest()
    client = signed_in(market, NEWCOMER)

    review = client.post("/provider/register", _form(picture_file=_file(data, "sparkle.png")))
    review_page = review.get_data(as_text=True)
    assert "PNG, 360×240 pixels (covered by the metadata hash)" in review_page, \
        main_part(review_page)
    assert f'name="picture" value="{digest}"' in review_page  # re-posted by digest, not bytes
    location = follow_pending(market, client, confirm(client, review).headers["Location"])
    provider_id = int(location.rsplit("/", 1)[1])

    document = {"name": "Sini's Sparkle", "description": "Bright homes in Espoo",
                "picture": digest}
    assert _metadata_hash(market, provider_id) == "0x" + keccak(canonical_json(document)).hex()
    page = client.get(location).get_data(as_text=True)
    assert re.search(rf'<img class="pic pic-hero" src="/media/{digest}" '
                     r'alt="Picture of Sini&#39;s Sparkle" width="360" height="240" '
                     r'loading="lazy"', page), main_part(page)

    served = market.client().get(f"/media/{digest}")
    assert served.status_code == 200 and served.data == data
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["ETag"] == f'"{digest}"'
    again = market.client().get(f"/media/{digest}", headers={"If-None-Match": f'"{digest}"'})
    assert again.status_code == 304 and not again.data
    # signed in: pages are no-store, the picture still caches for ever
    assert client.get(f"/media/{digest}").headers["Cache-Control"].endswith("immutable")


@pytest.mark.parametrize("path", [f"/media/{'0' * 64}", f"/media/{'A' * 64}", "/media/abc",
                                  f"/media/{'0' * 64}.png"])
def test_media_answers_404_for_a_digest_it_does_not_hold(market: World, path: str) -> None:
    response = market.client().get(path)
    assert response.status_code == 404
    assert "immutable" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize(("data", "name", "words"), [
    (SVG, "logo.png", "SVG pictures are not accepted"),
    (b"GIF89a" + b"\x00" * 64, "anim.png", "This file is a GIF"),
    (b"", "empty.png", "The picture file is empty"),
    (demo_picture("rides")[:-40], "cut.png", "damaged or incomplete"),
    (demo_picture("rides") + b"\x00" * (2 * 1024 * 1024), "huge.png", "at most 2 MB"),
], ids=["svg-named-png", "gif", "empty", "truncated", "too-large"])
def test_a_bad_picture_is_said_next_to_its_field_and_nothing_typed_is_lost(
    market: World, data: bytes, name: str, words: str,
) -> None:
    client = signed_in(market, NEWCOMER)

    response = _post_multipart(client, "/provider/register", _form(
        price="lots", picture_file=_file(data, name), description="Kept\nas typed"))

    page = response.get_data(as_text=True)
    errors = _errors(response)
    assert response.status_code == 400, main_part(page)
    assert set(errors) == {"picture", "price"} and words in errors["picture"], errors
    assert 'value="Sini&#39;s Sparkle"' in page and "Kept\nas typed</textarea>" in page
    assert 'value="lots"' in page and re.search(r'value="eco_products"\s+checked', page)
    assert _hidden_picture(page) == ""
    assert 'aria-describedby="picture-hint picture-error"' in page


def test_a_good_picture_survives_another_fields_error_and_is_not_uploaded_twice(
    market: World,
) -> None:
    data = demo_picture("tutoring", 3)
    client = signed_in(market, NEWCOMER)

    first = client.post("/provider/register", _form(
        category="tutoring", attributes=[], name="Kept Picture Tutoring", price="free",
        picture_file=_file(data)))
    kept = _hidden_picture(first.get_data(as_text=True))
    review = client.post("/provider/register", _form(
        category="tutoring", attributes=[], name="Kept Picture Tutoring", picture=kept))
    location = follow_pending(market, client, confirm(client, review).headers["Location"])

    assert set(_errors(first)) == {"price"} and kept == hashlib.sha256(data).hexdigest()
    page = client.get(location).get_data(as_text=True)
    assert f'src="/media/{kept}"' in page


def test_a_forged_picture_field_is_refused_next_to_the_picture(market: World) -> None:
    client = signed_in(market, NEWCOMER)

    unknown = client.post("/provider/register", _form(picture="ab" * 32))
    malformed = client.post("/provider/register", _form(picture="javascript:alert(1)"))

    assert unknown.status_code == malformed.status_code == 400
    assert "No picture is stored under this digest" in _errors(unknown)["picture"]
    assert "64 hex digits" in _errors(malformed)["picture"]
    for response in (unknown, malformed):  # not kept: the form can be sent again as it is
        page = response.get_data(as_text=True)
        assert _hidden_picture(page) == "" and "/media/" not in page


def test_the_owner_replaces_and_then_removes_the_picture(market: World) -> None:
    owner = signed_in(market, PROVIDERS[1])
    pid = market.providers["Edited Rides"]
    form_page = owner.get(f"/provider/listings/{pid}/edit").get_data(as_text=True)
    old = hashlib.sha256(demo_picture("rides", 1)).hexdigest()
    assert _hidden_picture(form_page) == old and 'name="picture_remove"' in form_page
    new = demo_picture("rides", 3)
    fields = {"name": "Edited Rides", "description": "Now in green", "region": "helsinki",
              "price": "0.05", "picture": old}

    bad = owner.post(f"/provider/listings/{pid}/edit", {**fields, "picture_file": _file(SVG)})
    replaced = owner.post(f"/provider/listings/{pid}/edit", {**fields,
                                                            "picture_file": _file(new)})
    follow_pending(market, owner, replaced.headers["Location"])
    after_replace = _metadata_hash(market, pid)
    removed = owner.post(f"/provider/listings/{pid}/edit", {
        **fields, "picture": hashlib.sha256(new).hexdigest(), "picture_remove": "1"})
    follow_pending(market, owner, removed.headers["Location"])

    assert bad.status_code == 400 and "SVG" in _errors(bad)["picture"]
    assert _hidden_picture(bad.get_data(as_text=True)) == old  # the old picture stays
    assert after_replace == "0x" + keccak(canonical_json({
        "name": "Edited Rides", "description": "Now in green",
        "picture": hashlib.sha256(new).hexdigest()})).hex()
    assert _metadata_hash(market, pid) == "0x" + keccak(canonical_json({
        "name": "Edited Rides", "description": "Now in green"})).hex()
    page = owner.get(f"/providers/{pid}").get_data(as_text=True)
    assert "/media/" not in page and 'class="pic pic-none pic-hero"' in page


def test_the_api_uploads_a_picture_and_register_names_it_in_the_hashed_metadata(
    market: World,
) -> None:
    data = demo_picture("delivery", 0)
    digest = hashlib.sha256(data).hexdigest()
    anonymous, client = market.client(), signed_in(market, NEWCOMER)
    headers = {"X-CSRF-Token": client.csrf()}

    refused = anonymous.raw.post("/api/v1/pictures", data=data,
                             headers={"Content-Type": "image/png"})
    svg = client.raw.post("/api/v1/pictures", data=SVG, headers={
        **headers, "Content-Type": "image/png"})
    huge = client.raw.post("/api/v1/pictures", data=data + b"\x00" * (2 * 1024 * 1024),
                           headers={**headers, "Content-Type": "image/png"})
    form = client.raw.post("/api/v1/pictures", data={"file": (io.BytesIO(data), "a.png")},
                           headers=headers)
    stored = client.raw.post("/api/v1/pictures", data=data, headers={
        **headers, "Content-Type": "application/octet-stream"})
    built = client.post_json("/api/v1/providers/tx", {
        "category": "delivery", "price": "0.01 ether", "stake": str(10**15),
        "name": "Api Parcels", "picture": digest})
    unknown = client.post_json("/api/v1/providers/tx", {
        "category": "delivery", "price": "0.01 ether", "stake": str(10**15),
        "name": "Api Parcels", "picture": "cd" * 32})
    malformed = client.post_json("/api/v1/providers/tx", {
        "category": "delivery", "price": "0.01 ether", "stake": str(10**15),
        "name": "Api Parcels", "picture": "CD" * 32})

    for response, status, code in ((refused, 401, "sign_in_required"),
                                   (svg, 422, "unprocessable"),
                                   (huge, 413, "too_large"),
                                   (form, 415, "unsupported_media_type"),
                                   (unknown, 422, "unprocessable"),
                                   (malformed, 400, "invalid_field")):
        body = response.get_json()
        assert (response.status_code, body["error"]) == (status, code), body
        assert status == 401 or body["field"] == "picture", body
    assert "SVG" in svg.get_json()["message"]
    assert stored.status_code == 201 and stored.get_json() == {
        "picture": digest, "url": f"/media/{digest}", "content_type": "image/png",
        "width": 360, "height": 240, "bytes": len(data)}
    document = {"name": "Api Parcels", "description": "", "picture": digest}
    assert built.status_code == 200, built.get_json()
    assert built.get_json()["args"][0][5] == "0x" + keccak(canonical_json(document)).hex()


def test_matches_and_the_dashboard_show_pictures_and_placeholders(market: World) -> None:
    pictured = hashlib.sha256(demo_picture("rides", 2)).hexdigest()
    matches = market.client().get("/matches?category=rides").get_data(as_text=True)
    dashboard = signed_in(market, PROVIDERS[0]).get("/provider/").get_data(as_text=True)
    api = market.client().get(
        f"/api/v1/providers/{market.providers['Plain Rides']}").get_json()

    card = matches.split(f'data-provider-id="{market.providers["Plain Rides"]}"')[1]
    assert 'class="pic pic-none pic-thumb" data-category="rides" aria-hidden="true">' \
           '<span>P</span>' in card.split("</li>")[0]
    assert f'<img class="pic pic-thumb" src="/media/{pictured}" alt="Picture of Pictured ' \
           'Rides" width="360" height="240" loading="lazy"' in matches
    assert f'<img class="pic pic-mini" src="/media/{pictured}" alt="Picture of Pictured ' \
           'Rides"' in dashboard
    assert 'class="pic pic-none pic-mini" data-category="rides"' in dashboard  # Plain Rides
    assert api["picture"] is None and api["picture_url"] is None
    listed = market.client().get(
        f"/api/v1/providers/{market.providers['Pictured Rides']}").get_json()
    assert listed["picture_url"] == f"/media/{pictured}"


def test_a_form_over_the_request_limit_is_a_413_naming_the_picture_limit(market: World) -> None:
    client = signed_in(market, NEWCOMER)
    huge = demo_picture("rides") + bytes(13 * 2**20)  # over the form's 12 MB request limit

    over = _post_multipart(client, "/provider/register", _form(picture_file=_file(huge)))
    long_text = client.post("/provider/register", _form(description="x" * 70_000))

    assert over.status_code == 413 and "at most 2 MB is accepted" in over.get_data(as_text=True)
    # an urlencoded form (no file) keeps the app's 64 KiB limit, and is not told of pictures
    assert long_text.status_code == 413
    assert "at most 2 MB" not in long_text.get_data(as_text=True)
