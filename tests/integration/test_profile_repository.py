"""Profile repositories: in memory, SQLite and PostgreSQL keep the same records, and erase them.

PostgreSQL runs at `$TEST_POSTGRES_URL` (default: the local trust-auth server); each test gets
its own schema, dropped afterwards. Without a server those cases are skipped, with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.exc import OperationalError

from marketplace.catalogue import mask
from marketplace.domain import ETHER, booking_id, customer_of
from marketplace.matching.eligibility import CriteriaView, ProviderView
from marketplace.profile import (
    ChoiceRecord,
    ConsentRecord,
    Dismissal,
    FeedbackText,
    InMemoryProfileRepository,
    ProfileError,
    ProfileService,
    RatingRecord,
)
from marketplace.profile.repository import ProfileRepository
from marketplace.profile.sql import (
    SqlProfileRepository,
    create_profile_schema,
    feedback_texts,
    profile_metadata,
)

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20
T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
CRITERIA = CriteriaView(category=1, max_price=10**17, premium_per_star=10**16, version=1)


@dataclass
class Backend:
    repository: ProfileRepository
    engine: Engine | None = None
    schema: str | None = None


def _postgres() -> Iterator[Backend]:
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        engine.dispose()
        if os.environ.get("CI") == "true":  # CI machines run PostgreSQL: absence is a failure
            pytest.fail(f"no PostgreSQL at {POSTGRES_URL}: {error.orig}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL}: {error.orig}")
    schema = f"profile_test_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = engine.execution_options(schema_translate_map={None: schema})
    try:
        create_profile_schema(scoped)
        create_profile_schema(scoped)  # idempotent
        yield Backend(SqlProfileRepository(scoped), scoped, schema)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Backend]:
    if request.param == "memory":
        yield Backend(InMemoryProfileRepository())
    elif request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path}/profile.sqlite")
        create_profile_schema(engine)
        yield Backend(SqlProfileRepository(engine), engine)
        engine.dispose()
    else:
        yield from _postgres()



def bid(customer: str, n: int) -> int:
    """The customer's n-th booking of listing 7: an hour-long slot, hourly from T0."""
    return booking_id(customer, 7, int(T0.timestamp()) + n * 3_600, 60)


def rating(customer: str, n: int, **changes: Any) -> RatingRecord:
    fields: dict[str, Any] = {
        "customer": customer, "booking_id": bid(customer, n), "provider_id": 7,
        "category": 1, "stars": 4, "complaints": mask("complaint tag", ["late", "rude"]),
        "attributes": 2**64 - 1, "score": 41_234, "price": 2**95 + 1, "min_score": 30_000,
        "ceiling": 2**96 + 5 * 2**96, "rated_at": T0 + timedelta(minutes=n),
    }
    fields.update(changes)
    return RatingRecord(**fields)


def choice(customer: str) -> ChoiceRecord:
    return ChoiceRecord(customer, 1, 3, 4, 0.625, 0.125, 0.9, 0.0, T0)


def test_every_record_reads_back_exactly(backend: Backend) -> None:
    repo = backend.repository
    consent = ConsentRecord(ALICE, "personalised matching", T0)
    repo.add_consent(consent)
    assert repo.add_rating(rating(ALICE, 1))
    assert repo.add_rating(rating(ALICE, 2, attributes=0, price=1, complaints=0))
    repo.add_choice(choice(ALICE))
    repo.add_dismissal(Dismissal(ALICE, "refuse_attribute:1:15", T0))
    assert repo.consents(ALICE) == [consent]
    assert repo.ratings(ALICE) == [rating(ALICE, 1),
                                   rating(ALICE, 2, attributes=0, price=1, complaints=0)]
    assert repo.choices(ALICE) == [choice(ALICE)]
    assert repo.dismissals(ALICE) == [Dismissal(ALICE, "refuse_attribute:1:15", T0)]
    assert repo.ratings(BOB) == [] and repo.consents(BOB) == []
    assert repo.ratings(ALICE)[0].rated_at.tzinfo is not None


def test_a_booking_is_rated_once_and_a_proposal_dismissed_once(backend: Backend) -> None:
    repo = backend.repository
    assert repo.add_rating(rating(ALICE, 1))
    assert not repo.add_rating(rating(ALICE, 1, stars=1))
    repo.add_dismissal(Dismissal(ALICE, "k", T0))
    repo.add_dismissal(Dismissal(ALICE, "k", T0 + timedelta(days=1)))
    assert [r.stars for r in repo.ratings(ALICE)] == [4]
    assert repo.dismissals(ALICE) == [Dismissal(ALICE, "k", T0)]


def test_revoking_marks_only_active_consents_of_that_purpose(backend: Backend) -> None:
    repo = backend.repository
    repo.add_consent(ConsentRecord(ALICE, "personalised matching", T0))
    repo.add_consent(ConsentRecord(ALICE, "newsletter", T0))
    later = T0 + timedelta(hours=1)
    assert repo.revoke_consent(ALICE, "personalised matching", later)
    assert not repo.revoke_consent(ALICE, "personalised matching", later)
    assert [(c.purpose, c.revoked_at) for c in repo.consents(ALICE)] == [
        ("personalised matching", later), ("newsletter", None)]


def test_customers_with_consent_are_those_whose_consent_to_that_purpose_is_active(
    backend: Backend,
) -> None:
    repo = backend.repository
    repo.add_consent(ConsentRecord(BOB, "personalised matching", T0))
    repo.add_consent(ConsentRecord(BOB, "personalised matching", T0 + timedelta(days=1)))
    repo.add_consent(ConsentRecord(ALICE, "personalised matching", T0))
    repo.add_consent(ConsentRecord(ALICE, "newsletter", T0))
    repo.revoke_consent(ALICE, "personalised matching", T0 + timedelta(hours=1))

    assert repo.customers_with_consent("personalised matching") == [BOB]
    assert repo.customers_with_consent("newsletter") == [ALICE]


def test_forgetting_what_was_learned_keeps_the_consent_record(backend: Backend) -> None:
    repo = backend.repository
    repo.add_consent(ConsentRecord(ALICE, "personalised matching", T0))
    repo.add_rating(rating(ALICE, 1))
    repo.add_choice(choice(ALICE))
    repo.forget_learning(ALICE)
    assert repo.ratings(ALICE) == [] and repo.choices(ALICE) == []
    assert len(repo.consents(ALICE)) == 1


def test_after_erase_nothing_about_the_customer_remains_in_any_profile_table(
    backend: Backend,
) -> None:
    service = ProfileService(backend.repository, clock=lambda: T0)
    for customer in (ALICE, BOB):
        service.grant_consent(customer)
        provider = ProviderView(7, "0x" + "77" * 20, 1, 1, 1 << 15, ETHER, 9 * 10**16, True,
                                3_000, 12_000, 3, 0)
        service.record_rating(customer, bid(customer, 1), provider, CRITERIA, 1,
                              mask("complaint tag", ["smoke_smell"]))
        backend.repository.add_choice(choice(customer))
        service.dismiss(customer, "refuse_attribute:1:15")
        assert service.record_feedback_text(customer, bid(customer, 1), "It reeked.")
    service.erase(ALICE)

    assert service.export(ALICE)["consents"] == []
    assert backend.repository.ratings(BOB) != []  # the other customer is untouched
    if backend.engine is None:
        assert isinstance(backend.repository, InMemoryProfileRepository)
        assert backend.repository.customers() == {BOB}
        return
    # Every table the profile owns, read cell by cell: no trace of the address, in any form.
    tables = {t for t in inspect(backend.engine).get_table_names(schema=backend.schema)
              if t.startswith("profile_")}
    assert tables == {t.name for t in profile_metadata.sorted_tables}
    remaining = 0
    with backend.engine.connect() as conn:
        for table in profile_metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                remaining += 1
                assert row["customer"] == BOB
                for column, value in row.items():
                    assert ALICE[2:] not in str(value).lower(), (table.name, column)
                    if column == "booking_id":
                        assert customer_of(value) == BOB
    assert remaining == 5  # Bob's consent, rating, choice, dismissal and feedback text


def test_a_feedback_text_reads_back_and_a_later_one_for_the_booking_replaces_it(
    backend: Backend,
) -> None:
    repo = backend.repository
    first = FeedbackText(ALICE, bid(ALICE, 1), "Late, and the seats — awful. 😞", T0)
    other = FeedbackText(ALICE, bid(ALICE, 2), "x" * 2000, T0)
    repo.put_feedback_text(first)
    repo.put_feedback_text(other)
    later = FeedbackText(ALICE, bid(ALICE, 1), "Only late.", T0 + timedelta(hours=1))
    repo.put_feedback_text(later)
    assert repo.feedback_texts(ALICE) == [other, later]
    assert repo.feedback_texts(BOB) == []
    repo.forget_learning(ALICE)  # consent withdrawn: the texts go with what was learned
    assert repo.feedback_texts(ALICE) == []


def test_a_feedback_text_is_kept_only_with_consent_and_exported(backend: Backend) -> None:
    service = ProfileService(backend.repository, clock=lambda: T0)
    assert not service.record_feedback_text(ALICE, bid(ALICE, 1), "Rude driver.")
    assert service.feedback_texts(ALICE) == []
    service.grant_consent(ALICE)
    assert service.record_feedback_text(ALICE, bid(ALICE, 1), "  Rude driver.  ")
    assert [t["text"] for t in service.export(ALICE)["feedback_texts"]] == ["Rude driver."]
    with pytest.raises(ProfileError):
        service.record_feedback_text(ALICE, bid(BOB, 1), "Not my booking.")
    with pytest.raises(ProfileError):
        service.record_feedback_text(ALICE, bid(ALICE, 2), "x" * 2001)


def test_an_older_profile_database_gains_the_feedback_text_table_and_keeps_its_rows(
    tmp_path: Any,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/old.sqlite")
    older = [t for t in profile_metadata.sorted_tables if t is not feedback_texts]
    profile_metadata.create_all(engine, tables=older)
    SqlProfileRepository(engine).add_rating(rating(ALICE, 1))
    assert "profile_feedback_texts" not in inspect(engine).get_table_names()

    create_profile_schema(engine)

    repo = SqlProfileRepository(engine)
    assert "profile_feedback_texts" in inspect(engine).get_table_names()
    assert repo.ratings(ALICE) == [rating(ALICE, 1)]
    repo.put_feedback_text(FeedbackText(ALICE, bid(ALICE, 1), "Late.", T0))
    assert [t.text for t in repo.feedback_texts(ALICE)] == ["Late."]
    engine.dispose()


def test_every_table_and_constraint_is_prefixed_profile() -> None:
    for table in profile_metadata.sorted_tables:
        assert table.name.startswith("profile_")
        for constraint in table.constraints:
            assert str(constraint.name).startswith("profile_")
        for index in table.indexes:
            assert str(index.name).startswith("profile_")
