"""A number said with its fact's words: the unit or noun after it, the qualifier before it
("up to"), the other end of its range; :func:`moved_numbers` names each one a sentence moved.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from contentfab.workers.copy.facts import _UNITS, Fact, attribute_phrase

if TYPE_CHECKING:
    from contentfab.workers.copy.slots import ProductFacts


#: How a record qualifies a number: "up to 40 hours" is not "40 hours".
_QUALIFIERS = (
    ("up", "to"),
    ("at", "least"),
    ("less", "than"),
    ("more", "than"),
    ("under",),
    ("over",),
    ("about",),
    ("around",),
    ("approximately",),
    ("nearly",),
    ("almost",),
    ("within",),
    ("from",),
)


_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+|[^\s\w-]")


_RANGE_WORDS = frozenset({"to", "–", "—", "-", "and"})


def _tokens(text: str) -> list[str]:
    return [t.casefold() for t in _TOKEN.findall(text)]


def _number_context(tokens: list[str], i: int) -> tuple[str, tuple[str, ...], str | None]:
    """What a number at ``tokens[i]`` is said with: the token after it, the qualifier before
    it, the other end of a range it belongs to."""
    after = tokens[i + 1] if i + 1 < len(tokens) else "."
    qualifier: tuple[str, ...] = ()
    for q in _QUALIFIERS:
        if tuple(tokens[max(0, i - len(q)) : i]) == q:
            qualifier = q
            break
    partner = None
    if i + 2 < len(tokens) and tokens[i + 1] in _RANGE_WORDS and tokens[i + 2][:1].isdigit():
        partner = tokens[i + 2]
        after = tokens[i + 3] if i + 3 < len(tokens) else "."
    elif i >= 2 and tokens[i - 1] in _RANGE_WORDS and tokens[i - 2][:1].isdigit():
        partner = tokens[i - 2]
        qualifier = ()
        for q in _QUALIFIERS:
            if tuple(tokens[max(0, i - 2 - len(q)) : i - 2]) == q:
                qualifier = q
                break
    return after, qualifier, partner


def _same_word(a: str, b: str) -> bool:
    return a == b or a.rstrip("s") == b.rstrip("s")


def moved_numbers(text: str, fact: Fact, product: ProductFacts) -> list[str]:
    """Numbers said with other words than their fact says them with: a unit or noun swapped
    ("2 batteries" from "2 years"), a qualifier dropped ("300 m" from "up to 300 m"), a
    range cut to one end ("130 cm" from "110 to 130 cm"), a count left bare ("holds up to
    30." from "30 kg"). An attribute's number may be followed by its key ("8 eyelets")."""
    said = _tokens(text)
    source = _tokens(fact.text)
    names = {t for name in product.names() for t in _tokens(name)}
    keys = {t for key, _v in fact.attributes for t in _tokens(re.sub(r"[_-]+", " ", str(key)))}
    moved = []
    for i, token in enumerate(said):
        if not token[:1].isdigit():
            continue
        places = [j for j, t in enumerate(source) if t == token]
        if not places:
            continue  # a number of the names, or one the number gate answers for
        after, qualifier, partner = _number_context(said, i)
        fine = False
        for j in places:
            f_after, f_qualifier, f_partner = _number_context(source, j)
            if f_partner is not None and partner != f_partner:
                continue
            if f_qualifier and qualifier != f_qualifier:
                continue
            # a key word after the number ("8 eyelets"), but no unit the fact does not
            # give it ("2 min" of "players min: 2")
            keyed = after in keys and after not in _UNITS
            if _same_word(after, f_after) or (keyed and f_after in (".", ":")):
                fine = True
                break
            if fact.kind == "attribute" and f_after == "." and keyed:
                fine = True
                break
        if not fine and not (token in names and i and said[i - 1] in names):
            moved.append(" ".join(said[max(0, i - 2) : i + 2]))
    return moved


def whole_record(product: ProductFacts) -> Fact:
    """The record as one fact (title, description, attributes as "key: value"): what a short
    text's numbers are held to ("Water Culture Kit, 2 Packs" of "2 air stones", round 8)."""
    attributes = tuple(product.attributes.items())
    parts = [product.title, product.description, *(attribute_phrase(k, v) for k, v in attributes)]
    return Fact(". ".join(p.strip().rstrip(".") for p in parts if p) + ".", "attribute", attributes)


#: A size of two or three numbers: "30 x 40 cm", "165 cm by 80 cm" (round 13's headline
#: "Target Stand, 165 cm by 80 cm" joined a height and a boss's diameter).
_UNIT_AFTER = r"(?:\s*(?:mm|cm|m|in|ft)\b\.?)?"
_DIMENSIONS = re.compile(
    rf"\d+(?:[.,]\d+)?{_UNIT_AFTER}(?:\s*(?:[x×]|\bby\b)\s*\d+(?:[.,]\d+)?{_UNIT_AFTER})+"
)
#: A record's two numbers side by side, each with its unit and its word: "1050 MB/s read and
#: 1000 MB/s write", "30 ml and 45 ml cups" has no word after its first unit.
_PARALLEL = re.compile(
    r"(?<![\d.,])(\d+(?:[.,]\d+)?)\s*([^\W\d_][^\s,;]*)\s+([^\W\d_]+)\s*(?:,|and|/)\s*"
    r"(\d+(?:[.,]\d+)?)\s*\2\s+([^\W\d_]+)"
)


def _dimensions(text: str) -> set[tuple[str, ...]]:
    return {
        tuple(n.replace(",", ".") for n in re.findall(r"\d+(?:[.,]\d+)?", m.group()))
        for m in _DIMENSIONS.finditer(text)
    }


def joined_numbers(text: str, product: ProductFacts) -> list[str]:
    """Numbers of two facts said as one: a size the record never gives ("20 x 40 cm" of a
    30 x 40 cm frame for a 20 x 30 cm print), one number with the words of two ("1050 MB/s read
    and write" of "1050 MB/s read and 1000 MB/s write"; round 11, both labelled false)."""
    record = " ".join(
        [
            product.title,
            product.description,
            *(attribute_phrase(k, v) for k, v in product.attributes.items()),
        ]
    )
    known = _dimensions(record)
    found = [" x ".join(d) for d in sorted(_dimensions(text) - known)]
    for match in _PARALLEL.finditer(record):
        number, unit, first, other, second = match.groups()
        if first.casefold() in (second.casefold(), "and", "or"):
            continue
        joined = rf"(?<![\d.,]){re.escape(number)}\s*{re.escape(unit)}\s+{first}\s+(?:and|&|/)\s+{second}\b"
        if re.search(joined, text, re.IGNORECASE) and other not in text:
            found.append(f"{number} {unit} {first} and {second}")
    return found


_ONE = frozenset({"a", "an", "one", "single"})
_BREAKS = frozenset({"and", "or", ",", ";", ".", "with", "of", "for", "in", "on"})


def one_made_many(text: str, product: ProductFacts) -> list[str]:
    """Plurals of what the record says there is one of ("linen liners" of "a removable linen
    liner", round 12's subject line, labelled false): a count the record does not give. Only
    a noun the record writes after "a", "an" or "one" (within three words, nothing between
    that starts another phrase) and never in the plural."""
    record = " ".join(
        [product.title, product.description, *(f"{k} {v}" for k, v in product.attributes.items())]
    )
    words = [w.casefold() for w in _TOKEN.findall(record)]
    said, single = set(words), set()
    for i, word in enumerate(words):
        for back in range(1, 4):
            before = words[i - back] if i >= back else ""
            if before in _ONE:
                single.add(word)
                break
            if not before or before in _BREAKS or before[:1].isdigit():
                break
    found = []
    for word in _TOKEN.findall(text):
        folded = word.casefold()
        if folded in said or not folded.endswith("s") or folded.endswith("ss") or folded == "ones":
            continue
        stems = {folded[:-1], folded[:-2] if folded.endswith("es") else ""}
        if folded.endswith("ies"):
            stems.add(folded[:-3] + "y")
        if stems & single:
            found.append(word)
    return found
