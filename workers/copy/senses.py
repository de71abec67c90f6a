"""Gates for true words in a false sense, one function per rule, run by :func:`sense_failures` on every delivered text, sentence candidate and reviewer edit: a word the record only denies said as a claim ("Refilled Balloons" from "cannot be refilled"), a number moved onto another noun ("500 sprays" from "500 ml"), "your" before the product's own words, a plural name with "is", a sentence that only restates the name, a measuring verb with no size or weight, a verb right after "is"."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from contentfab.workers.copy.facts import (
    _SENTENCE,
    _VERBS,
    NEGATIONS,
    Fact,
    _subject,
    attribute_phrase,
)
from contentfab.workers.copy.faithful import kind_heads
from contentfab.workers.copy.text import _TITLE_CUT, DANGLING, SENTENCE_END
from contentfab.workers.factcheck import quantities
from contentfab.workers.grounding import gate_words, inflections

if TYPE_CHECKING:
    from contentfab.workers.copy.slots import ProductFacts

#: Words that deny what follows them, up to :data:`_SCOPE` words or the next punctuation:
#: the sentence gates' negations and their contractions.
_NEGATORS = NEGATIONS | frozenset(
    "cannot can't non isn't aren't doesn't don't won't wasn't weren't".split()  # noqa: SIM905
)
_SCOPE = 4
#: Words that end a negation's reach ("not included, but the case is").
_SCOPE_END = frozenset({"but", "yet", "while", "although", "though", "instead", "which", "that"})
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*(?:-[^\W_]+)*|[.,;:!?()\[\]]")


def _tokens(text: str) -> list[str]:
    return [t.casefold().replace("’", "'") for t in _TOKEN.findall(text)]


def _scoped(text: str) -> tuple[set[str], set[str]]:
    """The content words ``text`` says plainly and those it says only under a negation."""
    plain: set[str] = set()
    denied: set[str] = set()
    reach, opener = 0, ""
    tokens = _tokens(text)
    elided = _elided_denials(tokens)
    for index, token in enumerate(tokens):
        if not token[:1].isalnum():
            reach = 0
            continue
        if index in elided:
            if token not in DANGLING:
                denied.add(token)
            continue
        if token in _NEGATORS:
            reach, opener = _SCOPE, token
            continue
        if token in _SCOPE_END or (opener == "without" and token in ("and",)):
            # "lies flat without clamps and rolls up for storage": the mat rolls up (round 12:
            # every sentence that said so was refused as a denied claim)
            reach = 0
        if token in DANGLING:
            continue
        if reach:
            denied.add(token)
            reach -= 1
        else:
            plain.add(token)
    return plain, denied


_ELIDED = ("is not", "are not", "isn't", "aren't", "is not included", "are not included")


def _elided_denials(tokens: list[str]) -> set[int]:
    """Indexes of the tokens of a clause that ends in a denial with its predicate left out
    ("A USB-C cable is included; the wall charger is not."): that clause denies its words
    ("It includes … the wall charger" was delivered and labelled unsupported)."""
    found: set[int] = set()
    start = 0
    for end in [*(i for i, t in enumerate(tokens) if not t[:1].isalnum()), len(tokens)]:
        clause = tokens[start:end]
        tail = " ".join(clause[-3:]).casefold()
        if any(tail.endswith(denial) for denial in _ELIDED):
            found.update(range(start, end))
        start = end + 1
    return found


def _forms(words: set[str]) -> set[str]:
    return {form for word in words for form in inflections(word)}


def denied_words(text: str, product: ProductFacts) -> list[str]:
    """Words ``text`` says plainly that the record only ever denies: "Refilled Balloons"
    when the record's only "refilled" is "cannot be refilled", "includes wading boots" when
    it writes "(not included)". A key whose value is ``false`` (``boots_included: false``)
    denies its words too."""
    plain: set[str] = set()
    denied: set[str] = set()
    for record in (product.title, product.description, product.category or ""):
        said, no = _scoped(record)
        plain |= said
        denied |= no
    for key, value in product.attributes.items():
        key_words = {w.casefold() for w in gate_words(str(key).replace("_", " "))}
        if value is False:
            denied |= key_words
        else:
            plain |= key_words
            for item in value if isinstance(value, list) else [value]:
                said, no = _scoped(str(item))
                plain |= said
                denied |= no
    only_denied = _forms(denied) - _forms(plain)
    said, _no = _scoped(text)
    return sorted(w for w in said if w in only_denied)


def renumbered(text: str, product: ProductFacts) -> list[str]:
    """Numbers ``text`` puts before a noun the record never writes them with, where every
    number the record writes that way carries a unit: "one of the 500 sprays" from
    "500 ml" (or ``volume_ml: 500``)."""
    written = [product.title, product.description]
    for key, value in product.attributes.items():
        if not isinstance(value, bool) and isinstance(value, (int, float, str)):
            written.append(attribute_phrase(key, value))  # volume_ml: 500 -> "volume: 500 ml"
    record = " ; ".join(written)
    with_unit: dict[str, bool] = {}
    for q in quantities(record):
        key = str(q.value.normalize())
        with_unit[key] = with_unit.get(key, True) and q.unit is not None
    found: list[str] = []
    cursor = 0
    for q in quantities(text):
        start = text.find(q.text, cursor)
        end = cursor = start + len(q.text)
        key = str(q.value.normalize())
        if q.unit is not None or q.currencies or not with_unit.get(key, False):
            continue
        after = _tokens(text[end:])[:1]
        if not after or not after[0][:1].isalpha() or after[0] in DANGLING:
            continue
        found.append(f"{q.text} {after[0]}")
    return found


def _own_words(product: ProductFacts) -> set[str]:
    """What the product is (its names' head nouns) and the parts its record names (the
    subject of "the roof is galvanised steel")."""
    words = set(kind_heads(product)) - {w.casefold() for w in gate_words(product.category or "")}
    for sentence in _SENTENCE.findall(" ".join(product.description.split())):
        for clause in re.split(r";\s+|,\s+", sentence.strip()):
            words.update(_subject(clause)[-1:])
    return words - DANGLING


def your_own(text: str, product: ProductFacts) -> list[str]:
    """ "your" before what the product is, a part of it, or two words of its name: "a great
    choice for your swaddles" (Muslin Swaddles), "for your roof" (the kit's roof), "your
    trekking pole". A word of the name that is not its head is the customer's own ("a great
    choice for your car" of a Car Vacuum), and so is a whole name ("keep your Steel Bottle in
    the freezer")."""
    own = _own_words(product)
    named = {w.casefold() for name in product.names() for w in gate_words(name)}
    names = sorted((n.casefold() for n in product.names()), key=len, reverse=True)
    found: list[str] = []
    folded = text.casefold()
    for match in re.finditer(r"\byour\s+([^\W_][\w'’-]*)(?:\s+([^\W_][\w'’-]*))?", folded):
        rest = folded[match.start(1) :]
        if any(rest.startswith(name) for name in names):
            continue
        word, following = match.group(1), match.group(2) or ""
        if word[:1].isdigit() or word in own or word.rstrip("s") in own:
            # a number is nobody's ("a great choice for your 300 × 50 cm" was delivered)
            found.append(f"your {word}")
        elif word in named and (following in named or following.rstrip("s") in named):
            found.append(f"your {word} {following}")
    return found


#: Verbs of the third person singular a plural subject cannot take.
_SINGULAR = frozenset({"is", "has", "was", "does", "comes", "includes", "features", "offers"})


def plural_name(name: str, product: ProductFacts) -> bool:
    """Whether ``name`` reads as plural ("Carbon Arrows", "Chest Waders", "Skis Vento 84"):
    the head word of its part before a "with"/"for"/comma is a plural noun. The head is the
    last plain word; a capitalised word the record's text never writes in lower case, right
    before a number or code in the title ("Vento 84"), is a model name and not the head."""
    base = _TITLE_CUT.split(name, maxsplit=1)[0]
    words = [w for w in base.split() if w.isalpha() and not w.isupper()]
    lower = set(re.findall(r"\b[a-z][a-z'-]+\b", f"{product.title} {product.description}"))
    if len(words) > 1:
        last = words[-1]
        coded = re.search(rf"\b{re.escape(last)}\s+\S*\d", product.title) is not None
        if coded and last.casefold() not in lower and words[-2].casefold() in lower:
            words.pop()
    if not words:
        return False
    head = words[-1].casefold()
    # "skis" and "kiwis" are plural; "tennis", "chassis", "axis", "physics", "thermos" not
    return (
        head.endswith("s")
        and not head.endswith(("ss", "us", "sis", "xis", "nis", "ics"))
        and head not in _SINGULAR_S
    )


#: Singular nouns ending in a plain "s" that products are named with.
_SINGULAR_S = frozenset(
    """thermos lens canvas atlas gas bus chaos cosmos bias iris trellis series species news
    pilates christmas alias kudos""".split()  # noqa: SIM905
)


def disagreeing(text: str, product: ProductFacts) -> list[str]:
    """A plural name said with a singular verb: "The Carbon Arrows is a pure carbon arrow",
    "The Tane Koji Spores is made by …"."""
    found: list[str] = []
    for name in product.names():
        if not plural_name(name, product):
            continue
        for match in re.finditer(rf"{re.escape(name)}\s+([a-z']+)", text, re.IGNORECASE):
            if match.group(1).casefold() in _SINGULAR:
                found.append(f"{name} {match.group(1)}")
        # "Each 20 cm long is a Trimming Tools." (labelled nonsense)
        for match in re.finditer(rf"\b(?:is|was)\s+an?\s+{re.escape(name)}\b", text, re.I):
            found.append(match.group())
    # "The Merino Ski Socks are … It has extra padding" (labelled clumsy each time): "It" of a
    # product whose name is plural, where a sentence opens with it
    if product.names() and plural_name(min(product.names(), key=len), product):
        for match in _IT_VERB.finditer(text):
            verb = match.group("verb")
            if verb is None or verb.casefold() in _SINGULAR or verb.endswith("s"):
                found.append(match.group().strip(" .!?"))
    return found


_IT_VERB = re.compile(r"(?:^|[.!?]\s+)It(?:'s|’s|\s+(?:also\s+)?(?P<verb>[a-z]+))")


#: What a measuring verb's number must measure.
_MEASURES = {"measure": ("length", "area"), "weigh": ("mass",)}
#: Words a measure may end on ("measures 58 cm wide", "… 70 × 50 cm").
_DIMENSION_WORDS = frozenset(
    """wide long tall deep high thick across diameter folded unfolded open closed overall
    cm mm m km inches ft""".split()  # noqa: SIM905
)
_MEASURING = re.compile(
    r"\b(?P<verb>measure|weigh)s?\s+(?:about\s+|up to\s+|just\s+|only\s+)?"
    r"(?P<rest>\d(?:[^.;!?]|\.(?=\d))*)"
)


def mismeasured(text: str) -> list[str]:
    """A measuring verb with a number it cannot measure: "It measures 4.1 kg" (a mass),
    "It measures 3 sensors" (a count), "It measures 25 mm and 10 mm eyepieces" (the
    eyepieces are things it includes, not its size)."""
    found: list[str] = []
    for match in _MEASURING.finditer(text):
        allowed = _MEASURES[match["verb"]]
        rest = re.sub(r"(\d)\s*([x×])\s*(?=\d)", r"\1 \2 ", match["rest"])  # "92x60x8 cm"
        said = quantities(rest)
        dims = {q.dimension for q in said} - {None}
        tokens = rest.split()
        # the first word after the numbers and their units ("eyepieces", "thickness")
        after = ""
        for token in tokens:
            word = token.strip(",:()").casefold()
            if not word or word[:1].isdigit() or word in ("x", "×", "by", "and", "to", '"'):
                continue
            if any(word == q.unit for q in said) or word in _DIMENSION_WORDS:
                continue
            after = word
            break
        if not dims or not dims <= set(allowed) or (after and after not in DANGLING):
            found.append(f"{match['verb']}s {match['rest'].strip()}"[:60])
    return found


#: Verbs a record's instructions open with ("Apply in the shade …", "Store dry …").
INSTRUCTIONS = frozenset(
    """apply store wipe rinse use wash keep remove clean dry charge avoid fill add mix insert
    attach hang place follow read allow let soak spray shake refill replace check tighten
    assemble mount install pair press twist do pour stir empty rub treat move turn oil wax
    sharpen scrub stand have wear take push pull hold lift leave protect dilute boil cook
    unscrew lubricate grease descale wrap tie sow loosen stretch inspect inflate deflate lock
    unlock seal""".split()  # noqa: SIM905
)

#: Instruction verbs that are adjectives too ("is clean", "is dry", "is open").
_ALSO_ADJECTIVES = frozenset(
    {"clean", "dry", "open", "close", "last", "double", "let", "do", "empty"}
)
_COPULA = re.compile(r"\b(?:is|are)\s+([a-z]+)\b(?!-)(?:\s+([a-z]+))?")  # not "is pour-over"
#: Words after which a word in -s is a verb ("is rolls up", "is vibrates when").
_AFTER_A_VERB_S = frozenset("up down when while into onto out off away back".split())  # noqa: SIM905


def verb_after_is(text: str) -> list[str]:
    """A verb right after "is"/"are": "The Putting Mat is rolls up for storage", "It is
    wash at up to 60 °C", "It is apply in the shade" (a record clause put in a frame, or the
    model's own)."""
    found: list[str] = []
    for match in _COPULA.finditer(text):
        word = match.group(1)
        base = word[:-1] if word.endswith("s") else word
        after = match.group(2) or ""
        verb = (word in _VERBS and word not in _LINKING | _ALSO_ADJECTIVES) or (
            # "is fits the socket", not "are pairs of socks" (a verb's noun in the plural)
            word.endswith("s") and (base in _VERBS or base in INSTRUCTIONS) and after != "of"
        )
        plural_noun = word.endswith(("ss", "us", "is")) or not word.endswith("s")
        verb = verb or (not plural_noun and after in _AFTER_A_VERB_S)
        if verb or (word in INSTRUCTIONS and word not in _ALSO_ADJECTIVES):
            found.append(f"{match.group().split()[0]} {word}")
    # "The Beakers are so use a cylinder …" of "…, so use a cylinder" (round 19)
    for match in re.finditer(r"\b(?:is|are)\s+so\s+([a-z]+)", text):
        if match.group(1) in INSTRUCTIONS - _ALSO_ADJECTIVES:
            found.append(match.group())
    return found


#: Verbs that may follow "is" ("is made", "is kept" are not in :data:`_VERBS`).
_LINKING = frozenset({"is", "are", "was", "were", "has", "have", "can", "will"})


_PREDICATE_END = re.compile(r"\b(?:with|that|which|for|in|on|and|from|to|by|at)\b|[,.;:!?]")


def restated(text: str, product: ProductFacts) -> list[str]:
    """A sentence that calls the product what its name already says, and nothing more:
    "The Hoof Pick is a Hoof Pick with a stiff brush", "The Carbon Arrows are carbon
    arrows.", "It is a Fireside Tool Set" (what follows the "with" the record's clause says
    better on its own)."""
    kinds = kind_heads(product)
    found: list[str] = []
    every = {w.casefold() for name in product.names() for w in gate_words(name)}
    for name in [*sorted(product.names(), key=len, reverse=True), "it", "they", "this"]:
        # "The Cycling Helmet is a road helmet" says "road" (of the title, not of that name)
        named = (
            every
            if " " not in name and name.islower()
            else {w.casefold() for w in gate_words(name)}
        )
        pattern = rf"\b{re.escape(name)}\s+(?:is|are)\s+(?:(?:a|an|the)\s+)?(?P<rest>.*)"
        for match in re.finditer(pattern, text, re.IGNORECASE):
            head = _PREDICATE_END.split(match["rest"], maxsplit=1)[0]
            words = [w.casefold() for w in gate_words(head)]
            if not words or not (words[-1] in kinds or words[-1].rstrip("s") in kinds):
                continue
            if all(w in named or w.rstrip("s") in named for w in words):
                found.append(f"{name} is {head.strip()}")
        if found:
            break
    return found


#: The rules :func:`sense_failures` runs, each with its gate's name and what it found.
_SIZE_AS_BEING = re.compile(r"\b(?:is|are)\s+sizes?\s+\w*\d", re.IGNORECASE)


def sized_as_being(text: str) -> list[str]:
    """ "The Merino Ski Socks are size 36 to 47": a range of sizes said as what the product is
    (labelled awkward twice); it comes in them."""
    return [match.group() for match in _SIZE_AS_BEING.finditer(text)]


_RULES: tuple[tuple[Callable[[str, ProductFacts], list[str]], str], ...] = (
    (denied_words, "claim: says what the record denies"),
    (renumbered, "fact: a number of the record put to another noun"),
    (your_own, "claim: 'your' before the product's own words"),
    (lambda text, _product: mismeasured(text), "claim: a measure of something else"),
    (restated, "repetition: calls the product what its name says"),
    (disagreeing, "fragment: a plural name with a singular verb"),
    (lambda text, _product: verb_after_is(text), "fragment: a verb right after 'is'"),
    (lambda text, _product: sized_as_being(text), "fragment: a size said as what it is"),
    (lambda text, _product: verb_after_has(text), "fragment: a verb right after 'has'"),
)


_HAS = re.compile(r"\b(?:has|have)\s+([a-z]+)\b")
#: A verb in -s a record clause opens with that :data:`_VERBS` does not list (no noun too:
#: "has clips", "has packs" say what it has).
_MORE_VERBS_S = frozenset({"pitches"})


def verb_after_has(text: str) -> list[str]:
    """A verb right after "has": "It has pitches in under five minutes." (the demo: a record
    clause that opens with its verb, put after "It has")."""
    verbs = (_VERBS | _MORE_VERBS_S) - _LINKING
    return [f"has {m.group(1)}" for m in _HAS.finditer(text) if m.group(1) in verbs]


#: Attribute keys that are a measure of the product itself ("weight: 2.1 kg" may be said
#: "It weighs 2.1 kg"); any other key names a part ("speaker: 28 x 15 mm").
_OWN_MEASURES = frozenset(
    """size dimensions measurements length width height depth weight diameter thickness
    folded packed assembled overall capacity volume area""".split()  # noqa: SIM905
)
_ALSO_NOUNS = _ALSO_ADJECTIVES | frozenset(
    "charge spray mix fill press check place read add hang wash dry".split()  # noqa: SIM905
)
_MEASURE_VERB = re.compile(r"\b(?:measur|weigh)\w*", re.IGNORECASE)


def fact_senses(text: str, fact: Fact) -> list[str]:
    """Rules that need the sentence's own fact: an instruction said without its verb
    ("Drying Towel is up to 60 °C without fabric softener." of "Wash at up to 60 °C …"; "the
    hops are in the fridge" of "keep the hops in the fridge": both labelled nonsense), and a
    part's measure said of the product ("It measures 28 x 15 mm." of "speaker: 28 x 15 mm")."""
    found: list[str] = []
    words = {w.casefold() for w in re.findall(r"[^\W\d_]+", text)}
    if fact.kind == "description":
        clause = fact.text.strip()
        first = clause.split()[0] if clause.split() else ""
        verb = first.casefold()
        # lower case after a semicolon ("…; keep the hops in the fridge") where the verb is
        # no noun or adjective too ("charge lasts …", "dry bag …")
        if verb in INSTRUCTIONS and (first[:1].isupper() or verb not in _ALSO_NOUNS):
            stem = verb[:-1] if verb.endswith("e") and len(verb) > 3 else verb
            if not any(w.startswith(stem) for w in words):
                found.append(f"claim: an instruction said without its verb ({verb!r})")
            elif re.search(rf"\b(?:is|are|'s|'re)\s+{verb}\b", text, re.IGNORECASE):
                # "It is empty after each use." of "Empty after each use …" (round 7); "It is
                # treat with leather balm …", "It is move regularly …" (round 8)
                found.append(f"claim: an instruction said as a state ('is {verb}')")
            elif _done_by_product(text, verb):
                # "The Vitamin Softgels take one softgel daily" of "Take one softgel daily",
                # "They wear gloves …" (round 11): the reader's instruction said as what the
                # product does
                found.append(f"claim: an instruction said as what the product does ({verb!r})")
    elif fact.kind == "attribute" and ":" in fact.text:
        key = fact.text.split(":", 1)[0].casefold().split()
        own = not key or set(key) & _OWN_MEASURES
        said = any(k in words or f"{k}s" in words for k in key)
        if not own and not said and _MEASURE_VERB.search(text):
            found.append(f"claim: a measure of the {' '.join(key)} said of the product")
    return found


_OBJECT_OPENINGS = frozenset("your the it them this that these those".split())  # noqa: SIM905
_INSTRUCTION_OPENING = re.compile(r"(?:do\s+not|never|always|not\s+suitable|not\s+for)\b", re.I)


def instruction_clauses(description: str) -> list[str]:
    """The record's instructions to the reader, lower-cased: its sentences and semicolon
    clauses that open with an instruction's verb ("Store in a cool, dry place", "wear gloves
    when setting and emptying") or a warning ("Do not use solvents", "not for children")."""
    found = []
    for clause in re.split(rf"(?<={SENTENCE_END})\s+|;\s*", description):
        clause = clause.strip(" .!?")
        words = clause.split()
        if not words:
            continue
        if words[-1].casefold() in ("included", "supplied"):
            continue  # "Dry bag included": what comes with it
        if _instructs(clause):
            found.append(clause.casefold())
            continue
        # "The box is not waterproof, so keep it off basement floors" (round 25's "Storage Box:
        # Off basement floors"): an instruction after a comma and "so", "and", "then"
        for joint in re.finditer(r",\s+(so|and|then|or)\s+", clause):
            rest = clause[joint.end() :]
            first = rest.split()[0].casefold() if rest.split() else ""
            # after "and", a plural subject's verb too ("…, and have hand holes")
            either = joint.group(1) in ("and", "or") and first in _SUBJECTS_VERBS_TOO
            if (_instructs(rest) and not either) or imperative(rest, lower=True):
                found.append(rest.casefold())
                break
        else:
            # "Brush loose debris off the pad after each end and let it dry at room
            # temperature": a verb and its object after a plain "and"
            for joint in re.finditer(r"\s+and\s+", clause):
                rest = clause[joint.end() :]
                if imperative(rest, lower=True):
                    found.append(rest.casefold())
                    break
    return found


#: Instruction verbs that go on a plural subject after "and" as often ("…, and hold 300
#: comics", "…, and have hand holes on two sides").
_SUBJECTS_VERBS_TOO = frozenset(
    "have hold stand fit take use keep fill pair mount lock seal charge turn move lift push pull "  # noqa: SIM905
    "protect let allow attach hang".split()
)


def _instructs(clause: str) -> bool:
    """Whether a sentence or semicolon clause opens with an instruction or a warning."""
    words = clause.split()
    first = words[0].casefold().strip(",:")
    # "check your league's rules" after a semicolon: a verb with its object, not the noun
    # ("spray nozzle"); "check and top it up daily" (round 25): two verbs
    objected = len(words) > 1 and words[1].casefold() in _OBJECT_OPENINGS
    joined = len(words) > 2 and words[1] == "and" and imperative(" ".join(words[2:]), lower=True)
    return bool(
        (
            first in INSTRUCTIONS
            and (words[0][:1].isupper() or first not in _ALSO_NOUNS or objected or joined)
        )
        or _INSTRUCTION_OPENING.match(clause)
        or imperative(clause)
    )


def imperative(sentence: str, *, lower: bool = False) -> bool:
    """Whether ``sentence`` opens with a verb the reader is told to do, one no list here
    names: a capitalised plain word and its object ("Cut it with sharp fabric scissors",
    "Season the interior with distilled water", "Measure your old cartridge"). Round 24's
    headline "Tufting Cloth, fabric scissors" was the scissors of such a sentence. ``lower``:
    inside a sentence, a lower-case verb before "it", "them" or "your" ("…, so keep it off
    basement floors", "top it up daily")."""
    words = sentence.split()
    if len(words) < 2:
        return False
    first, then = words[0], words[1].casefold().strip(",:")
    objects = {"it", "them", "your"} if lower else _OBJECT_OPENINGS | {"each", "both"}
    return (
        first.isalpha()
        and (first[:1].isupper() or lower)
        and first[1:].islower()
        and then in objects
        and first.casefold() not in _NOT_VERBS
        and not first.casefold().endswith(("s", "ed", "ing", "ly"))
    )


#: Capitalised words that open a sentence and are no verb: what may stand before "the", "it".
_NOT_VERBS = frozenset(
    """a an the each every this that these those it they its their our your my his her for
    with in on at all both one two three four five six only once after before when if unlike
    from of to like between under over inside outside along around through behind near until
    while during per by about above below beside across against within without as plus even
    just also then here there what which where why how no not any some most many more less
    unit item""".split()  # noqa: SIM905
)


#: Words after which an instruction's verb is still the reader's ("and mix", "to take").
_BEFORE_AN_INSTRUCTION = frozenset(
    "and or then to please always never not do a an the your its their this".split()  # noqa: SIM905
)


def _done_by_product(text: str, verb: str) -> bool:
    """Whether ``verb`` (an instruction's, "take") follows a subject in ``text`` rather than
    opening a sentence or clause ("The Softgels take one …", not "Take one …; mix …")."""
    for match in re.finditer(rf"(\S+)\s+({verb}(?:e?s)?)\b", text, re.IGNORECASE):
        before = match.group(1)
        if before[-1:] in ",;:.!?" or before.casefold() in _BEFORE_AN_INSTRUCTION:
            continue  # its own clause, or a noun ("a pair of")
        if match.group(2)[:1].isupper():
            continue  # a name's word ("Salmon Dry Cat Food")
        return True
    return False


def sense_failures(text: str, product: ProductFacts) -> list[str]:
    """Why ``text`` says true words in a false sense (gate names as in ``GATES``)."""
    failed: list[str] = []
    for rule, reason in _RULES:
        found = rule(text, product)
        if found:
            failed.append(f"{reason}: {', '.join(found)}")
    return failed
