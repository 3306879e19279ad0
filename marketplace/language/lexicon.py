"""The words the criteria-sentence parser knows, each tied to the catalogue key it sets.

Phrases are matched on lower-case words (hyphens and punctuation split words, so "non-smoking"
is "non smoking"); the longest phrase wins. Data only: the parser lives in criteria_text.py.
"""

from __future__ import annotations

# Category phrases. Strong ones name the service; weak ones ("car", "clean") only decide the
# category when no strong phrase does ("a clean, quiet ride" is a ride).
CATEGORY_STRONG: dict[str, str] = {
    **dict.fromkeys(
        ["ride", "rides", "taxi", "taxis", "cab", "lift", "driver", "drivers", "chauffeur",
         "airport transfer", "transfer"], "rides"),
    **dict.fromkeys(
        ["cleaner", "cleaners", "cleaning", "housekeeping", "cleaning lady", "maid",
         "deep clean", "cleaning company"], "cleaning"),
    **dict.fromkeys(
        ["tutor", "tutors", "tutoring", "lesson", "lessons", "teacher", "homework help",
         "study coach", "coach", "exam preparation", "tutoring session"], "tutoring"),
    **dict.fromkeys(
        ["repair", "repairs", "plumber", "electrician", "handyman", "carpenter", "fix",
         "bike repair", "heating engineer", "contractor", "repairman"], "repairs"),
    **dict.fromkeys(
        ["delivery", "deliver", "courier", "parcel", "package", "messenger",
         "move a sofa", "deliveries"], "delivery"),
}
CATEGORY_WEAK: dict[str, str] = {"car": "rides", "cars": "rides", "clean": "cleaning"}

REGIONS: dict[str, str] = {
    "helsinki": "helsinki", "helsingfors": "helsinki", "hki": "helsinki",
    "espoo": "espoo", "esbo": "espoo",
    "tampere": "tampere", "tammerfors": "tampere",
    "turku": "turku", "åbo": "turku", "abo": "turku",
    "oulu": "oulu", "uleåborg": "oulu",
}
# Finnish case endings ("Helsingissä", "Tampereella", "Turussa") keep these stems.
REGION_STEMS: dict[str, str] = {
    "helsing": "helsinki", "espoo": "espoo", "tamper": "tampere", "turu": "turku",
    "turku": "turku", "oulu": "oulu",
}

# Attribute phrases: (attribute key, polarity, implied weak category). Polarity -1 means the
# phrase itself refuses the attribute ("non-smoker", "in person", "accepts cash").
Attribute = tuple[str, int, str | None]
ATTRIBUTE_PHRASES: dict[str, Attribute] = {}


def _add(key: str, polarity: int, category: str | None, *phrases: str) -> None:
    for phrase in phrases:
        ATTRIBUTE_PHRASES[phrase] = (key, polarity, category)


_add("electric_vehicle", 1, None, "electric", "ev", "zero emission", "battery")
_add("electric_vehicle", 1, "rides", "electric car", "electric cars", "electric vehicle",
     "electric taxi", "zero emission car", "electric vehicles")
_add("wheelchair_access", 1, None, "wheelchair", "wheelchair access", "wheelchair accessible",
     "step free", "ramp")
_add("pet_friendly", 1, None, "pet friendly", "pets", "pet", "dog", "dogs", "cat", "cats",
     "pets welcome", "pets allowed", "animals", "my dog", "my cat", "fine with pets",
     "fine with dogs", "accepts pets")
_add("speaks_finnish", 1, None, "finnish", "finnish speaking", "speaks finnish",
     "finnish speaker", "suomea", "suomeksi", "suomea puhuva")
_add("speaks_english", 1, None, "english", "english speaking", "speaks english",
     "english speaker")
_add("speaks_swedish", 1, None, "swedish", "swedish speaking", "speaks swedish",
     "swedish speaker", "svenska")
_add("compact_car", 1, None, "compact", "hatchback")
_add("compact_car", 1, "rides", "small car", "city car", "small city car", "compact car")
_add("large_vehicle", 1, None, "van", "minivan", "big van", "large van", "suv",
     "room for luggage", "people carrier", "seven seater")
_add("large_vehicle", 1, "rides", "big car", "large car", "spacious car", "large vehicle",
     "large vehicles", "estate car")
_add("child_seat", 1, None, "child seat", "car seat", "booster", "booster seat", "baby seat",
     "toddler seat")
_add("eco_products", 1, "cleaning", "green cleaning products", "eco cleaning")
_add("eco_products", 1, None, "eco", "eco friendly", "eco products", "green products",
     "non toxic", "natural products", "eco friendly products")
_add("own_equipment", 1, None, "own equipment", "own tools", "brings equipment",
     "own vacuum", "own supplies", "brings his own tools", "brings their own equipment",
     "own vacuum and supplies", "brings own equipment")
_add("weekend_service", 1, None, "weekend", "weekends", "saturday", "saturdays", "sunday",
     "sundays", "on the weekend")
_add("night_service", 1, None, "night", "at night", "late night", "tonight", "overnight",
     "evening", "after midnight")
_add("certified", 1, None, "certified", "licensed", "qualified", "accredited",
     "professional")
_add("insured", 1, None, "insured", "insurance")
_add("insured", -1, None, "uninsured")
_add("smoker", 1, None, "smoker", "smokers", "smoking", "smoke", "smokes")
_add("smoker", -1, None, "non smoker", "non smokers", "non smoking", "smoke free",
     "nonsmoker", "nonsmoking")
_add("allergy_safe", 1, None, "allergy", "allergy safe", "hypoallergenic", "allergic",
     "allergies")
_add("online", 1, None, "online", "remote", "video call", "virtual", "over zoom")
_add("online", -1, None, "in person")
_add("bike_courier", 1, None, "bike", "bicycle", "by bike", "by bicycle", "cycle courier")
_add("bike_courier", 1, "delivery", "bike courier", "bicycle courier", "bike messenger")
_add("cash_free", 1, None, "card only", "cashless", "crypto", "pay by card",
     "card payment only", "card payment", "accepts crypto", "no cash", "no cash payments")
_add("cash_free", -1, None, "cash", "accepts cash")

# A word that turns the next attribute into a refusal ("no smokers", "not electric").
NEGATIONS = frozenset(
    ["no", "not", "non", "without", "never", "avoid", "exclude", "excluding", "except",
     "refuse", "hate", "dislike", "don't", "doesn't", "isn't", "mustn't", "shouldn't",
     "won't", "aren't", "nor"]
)
# After an attribute: "smoking not allowed" refuses it; "insurance not needed" drops it.
POST_NEGATIONS = ("not allowed", "not welcome", "not ok", "not okay", "no go")
DONT_CARE = ("not needed", "not required", "not necessary", "doesn't matter", "optional")
# Words that may sit between a negation and its attribute, or join two negated attributes.
NEGATION_FILLERS = frozenset(["a", "an", "the", "any", "be", "have", "want", "with", "by",
                              "please", "to", "must", "should", "do", "does", "more"])
JOINERS = frozenset(["or", "and", "nor", "no", "without", "any"])

# Words too common to be worth listing as "not understood".
STOPWORDS = frozenset(
    "a an the and or but in at on for to of with who that is are be i i'm i'd me my we our "
    "someone something please need want like would should must can it its has have from by "
    "just also very really which your their his her him them am some one want looking find "
    "book across per who's than is it's".split()
)
