"""The living profile: consent, learning from feedback, proposals, export and erasure.

Pure Python plus SQLAlchemy Core (`sql`); no web3, no Flask. `ProfileService` is the entry point;
it produces the `Affinity` that `marketplace.matching.rank` takes.
"""

from marketplace.profile.learning import LivingProfile
from marketplace.profile.proposals import Proposal, ProposalKind, propose
from marketplace.profile.records import (
    PERSONALISATION,
    ChoiceRecord,
    ConsentRecord,
    Dismissal,
    FeedbackText,
    ProfileError,
    RatingRecord,
)
from marketplace.profile.repository import InMemoryProfileRepository, ProfileRepository
from marketplace.profile.service import ProfileService

__all__ = [
    "PERSONALISATION",
    "ChoiceRecord",
    "ConsentRecord",
    "Dismissal",
    "FeedbackText",
    "InMemoryProfileRepository",
    "LivingProfile",
    "ProfileError",
    "ProfileRepository",
    "ProfileService",
    "Proposal",
    "ProposalKind",
    "RatingRecord",
    "propose",
]
