"""A fact the model could not say faithfully, said with the record's own clause in a frame the model chooses (the likeliest of a few), so it is grounded by construction and still meets every gate."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from contentfab.core.errors import GenerationError
from contentfab.workers.copy.text import _COLOURS, _NUMBER_WORDS, DANGLING, _adjective_like
from contentfab.workers.grounding import gate_words

if TYPE_CHECKING:
    from contentfab.workers.copy.slots import ProductFacts
    from contentfab.workers.textgen import TextGenerator
from contentfab.workers.copy.facts import (
    _SENTENCE,
    _VERBS,
    MULTI_SENTENCE,
    Fact,
    Plan,
    SentenceCandidate,
    _named,
    _subject,
    coverage,
)
from contentfab.workers.copy.faithful import _COMPOUND, kind_heads
from contentfab.workers.copy.plan import _admit, _lead, _messages, _open_facts, _usable
from contentfab.workers.copy.senses import _ALSO_NOUNS, plural_name
from contentfab.workers.copy.senses import INSTRUCTIONS as _INSTRUCTIONS
from contentfab.workers.copy.shapes import _UNIT_KEYS

#: How many facts of a one-sentence channel, from its own first fact on, get composed
#: sentences when the model wrote none that passed.
COMPOSE_FACTS = 4


#: Attribute keys whose value is the product's size ("size: 130x170 cm").
_SIZE_KEYS = frozenset({"size", "dimensions", "measurements"})

#: Attribute keys whose value is what the product comes in ("comes in Glacier Blue").
_COMES_IN = frozenset({"colour", "color", "colourway", "colorway", "finish", "pattern"})


def framed_sentences(
    fact: Fact, product: ProductFacts, name: str, *, alone: bool
) -> dict[str, list[str]]:
    """Sentences that say ``fact`` in the record's own words: its clause copied as written,
    put in frames ("The Steel Bottle keeps …", "… is a …", "… has …"), per frame its
    sentences (opening with the product's name, then, where the sentence need not name the
    product, with "It"). Grounded by construction; the model picks the frame
    (:func:`_compose_open`) and the sentence gates judge the result like any other.
    An empty dict when no frame fits (the closing line: the model writes it or nobody does)."""
    named = _named(name)
    plural = plural_name(name, product)
    owner = f"{named}'" if plural else f"{named}'s"  # "The Sewing Scissors' handles"
    be, have, come = ("are", "have", "come") if plural else ("is", "has", "comes")
    subjects = [named] if alone else [named, "They" if plural else "It"]
    frames: dict[str, list[str]] = {}

    def add(shape: str, body: str, *, verb_s: bool = False) -> None:
        # ``verb_s``: the body opens with a verb of the third person singular ("packs"),
        # which a plural name cannot take.
        if verb_s and plural:
            return
        frames[shape] = [f"{subject} {body}." for subject in subjects]

    if fact.kind == "price":
        amount = fact.text.split(":", 1)[1].strip()
        add("priced", f"{be} priced at {amount}")
        add("costs", f"{'cost' if plural else 'costs'} {amount}")
        return frames
    if fact.kind == "attribute":
        key, value = (part.strip() for part in fact.text.split(":", 1))
        if key.casefold() in ("size", "sizes") and not re.search(r"\d\s*(?:mm|cm|m|in)\b", value):
            # "sizes: 36 to 47" is what it comes in ("The Ski Socks are size 36 to 47" was
            # labelled awkward twice)
            add("comes in", f"{come} in sizes {value}")
            return frames
        if key.casefold() in _COMES_IN:
            add("comes in", f"{come} in {value}")
        if key.endswith("ed") or key in _SIZE_KEYS:
            # "folded: 92x60x8 cm", "size: 130x170 cm": a size, said as one ("The Folding
            # Chair has a 92x60x8 cm folded." was delivered)
            if any(c.isdigit() for c in value):
                add("measures", f"{'measure' if plural else 'measures'} {value} {key}".rstrip())
                if key in _SIZE_KEYS:
                    frames["measures"] = [t.replace(f" {key}.", ".") for t in frames["measures"]]
            return frames
        if key.casefold() in value.casefold():
            # "season: 3-season": a kind of the product ("The Backpacking Tent is a 3-season
            # tent"), not "has a 3-season season" (delivered) or "a season of 3-season"
            kind = name.split()[-1].casefold()
            add("is a value kind", f"{be} {'' if plural else _article(value) + ' '}{value} {kind}")
            return frames
        if not any(c.isdigit() for c in value):
            add("is", f"{be} {value}")
        if key.endswith("s") and not key.endswith("ss") and value.split()[0].isdigit():
            # "pockets: 7" is had as a count ("has a pockets of 7" was delivered)
            add("has value keys", f"{have} {value} {key}")
            return frames
        add("has a key of", f"{have} a {key} of {value}")
        add("has a value key", f"{have} {_article(value)} {value} {key}")
        return frames
    if fact.kind != "description":
        return frames
    clause = fact.text.strip().rstrip(".!?;,").strip()
    words = clause.split()
    if len(words) < 2:
        return frames
    first = words[0].casefold()
    as_written = [] if alone else [f"{clause[0].upper()}{clause[1:]}."]
    rest = " ".join(words[1:])
    if first in ("it", "they") or (first in ("its", "their") and not _subject(clause)):
        # The record's own subject is the product: its name takes the pronoun's place.
        own = f"{owner} {rest}." if first in ("its", "their") else f"{named} {rest}."
        frames["own subject"] = [own, *as_written]
        return frames
    if _subject(clause):
        # "The stainless steel bowl is dishwasher safe": the part stays the subject.
        if first in ("the", "its"):
            its = [] if alone else [f"{'Their' if plural else 'Its'} {rest}."]
            frames["possessive"] = [f"{owner} {rest}.", *its]
        if as_written:
            frames["as written"] = as_written
        return frames
    if _own_verb(words):
        # "Two to five players work together …": a clause with its own subject and verb is
        # no body for a frame ("The Game is two to five players work …"); as written only
        if as_written:
            frames["as written"] = as_written
        return frames
    if first in _INSTRUCTIONS and (clause[:1].isupper() or first not in _ALSO_NOUNS):
        # "Apply in the shade on a cool, clean surface": an instruction is said as written
        # ("The Spray Coating is apply in the shade …" and "It is apply …" were delivered)
        if as_written:
            frames["as written"] = as_written
        return frames
    if first in _RANGE_NOUNS:
        # "Sizes from 5'6" to 7'0"": what the product comes in, not a verb ("The Turnout Rug
        # Sizes from …" was delivered)
        add("comes in", f"{come} in {_lowered(clause, product)}")
        return frames
    if (first in _VERBS or first.endswith(("ates", "izes", "ises", "ifies"))) and words[
        1
    ].casefold() in _AFTER_A_VERB:
        # "vibrates when it locks onto the flag": the record's own verb, said of the product
        # ("It is vibrates when …" was delivered); no "is"/"has" frame around a verb
        add("verb", _lowered(clause, product), verb_s=first.endswith("s"))
        return frames
    body = _lowered(clause, product)
    restating = _restating(body, name, product)
    if restating is not None:
        # "Roll-top dry bag in 500D PVC tarpaulin …" of the Roll-Top Dry Bag: the noun phrase
        # is only its name, which the gates refuse to repeat ("is a roll-top dry bag"); what
        # follows it is said of the product, so a short record still has a sentence
        preposition, rest = restating
        if preposition == "with":
            add("comes", f"{come} with {rest}")
            add("has", f"{have} {rest}")
        elif preposition == "in":
            add("comes", f"{come} in {rest}")
        else:
            add("is for", f"{be} for {rest}")
        return frames
    if first == "with":
        # "with three trays …": the product has them ("It is with three trays" was delivered)
        add("comes", f"{come} {body}")
        add("has", f"{have} {' '.join(body.split()[1:])}")
        return frames
    determined = first in ("a", "an", "the") or first[:1].isdigit() or first in _NUMBER_WORDS
    second = words[1].casefold().strip(",;:")
    if (
        not determined
        and first.isalpha()
        and first not in _VERBS
        and not first.endswith("ly")  # "Fully adjustable …"
        and _adjective_like(second)
    ):
        # "Handles adjustable from 80 to 95 cm": a noun and what it is, no verb ("The Rollator
        # Walker handles adjustable from …" was delivered, round 11): the product has them
        add("has", f"{have} {body}")
        return frames
    if not determined:  # "The Scissors the carbon steel blades …" is no sentence
        add("verb", body, verb_s=first.endswith("s") and not first.endswith("ss"))
    if first.endswith("ing") and len(first) > 5 and first.isalpha() and not plural:
        # "holding 36 l" -> "holds 36 l" (or "-es"; the model picks the form it knows): the
        # record's verb, said of the product rather than "is holding"
        stem, tail = first[:-3], " ".join(body.split()[1:])
        add("verb from -ing", f"{stem}s {tail}")
        add("verb from -ing, e", f"{stem}es {tail}")
    # What a noun phrase headed by the product's own kind names is the product, not a part
    # it has ("The Swimming Goggles have a silicone seal goggles with …").
    head = [
        w.casefold()
        for w in gate_words(re.split(r"\b(?:with|that|which|for|at)\b|,", body, maxsplit=1)[0])
    ]
    itself = bool(head) and (
        head[-1] in kind_heads(product) or head[-1].rstrip("s") in kind_heads(product)
    )
    collective = re.match(r"(?:set|pair|pack|kit|box|bundle)s?\s+of\b", body, re.IGNORECASE)
    if collective and not determined:
        # "The Skateboard Wheels are a set of four …", not "are set of four" (round 9)
        add("is a", f"{be} {_article(body)} {body}")
    elif not (itself and not determined and not plural):
        # a singular noun of the product's kind takes its article ("is Helmet with …" was
        # delivered): only "is a" below
        add("is", f"{be} {body}")
    add("is for", f"{be} for {body}")  # "ages 10+"
    if not itself:
        add("has", f"{have} {body}")
    if not determined and not plural:  # not "The Goggles are a silicone seal goggles"
        add("is a", f"{be} {_article(body)} {body}")
    counted = first[:1].isdigit() and bool(head) and not head[-1].endswith("s")
    if (not determined or counted) and not itself:
        # "has a 150 mm handle with foam grip" (not "has 150 mm handle …")
        add("has a", f"{have} {_article(body)} {body}")
        if counted:
            frames.pop("has", None)
    if first in ("with", "in"):
        add("comes", f"{come} {body}")
    return frames


_AFTER_NAME = re.compile(r"(?P<np>.+?)\s+(?P<prep>with|in|for)\s+(?P<rest>\S.*)")


def _restating(body: str, name: str, product: ProductFacts) -> tuple[str, str] | None:
    """(preposition, rest) where ``body`` opens with a noun phrase of only the name's words,
    headed by the product's kind ("roll-top dry bag" of the Roll-Top Dry Bag), then "with",
    "in" or "for"; else None."""
    match = _AFTER_NAME.match(body)
    if match is None:
        return None
    words = [w.casefold().rstrip("s") for w in gate_words(match["np"])]
    # the words of the name the sentence says, as the gate reads them ("The Wall Lamp is a
    # brass wall lamp" says "brass", which only the full title has)
    named = {w.casefold().rstrip("s") for w in gate_words(name)}
    kinds = {k.rstrip("s") for k in kind_heads(product)}
    words = [w for w in words if w not in ("a", "an", "the")]
    if not words or words[-1] not in kinds or not set(words) <= named:
        return None
    return match["prep"], match["rest"]


#: Plural nouns of a range a product comes in ("Sizes from 5'6" to 7'0"", "lengths from …").
_RANGE_NOUNS = frozenset(
    "sizes colours colors lengths widths shades finishes patterns flavours flavors scents".split()  # noqa: SIM905
)

_MODALS = frozenset({"should", "must", "may", "might", "could", "would", "shall"})


#: Words that follow a verb rather than a noun ("vibrates when …", "measures from …").
_AFTER_A_VERB = frozenset(
    """when while from to up down in on at with about over under into onto for by as a an the
    its their it them one two three four five six seven eight nine ten and""".split()  # noqa: SIM905
)


def _own_verb(words: list[str]) -> bool:
    """Whether a clause has a verb of its own after its first word, before any relative
    clause ("players work together" yes; "lamp with an arm that folds flat" no)."""
    for k, word in enumerate(words[1:-1], start=1):  # the last word is a noun ("white glow")
        folded = word.casefold().strip(",;:")
        if folded in ("that", "which", "who", "whose", "where", "when") or word.endswith(","):
            return False
        if (folded in _VERBS or folded in _MODALS) and k >= 2:
            return True
        if k == 1 and folded in _VERBS and _plain_noun(words[0].casefold()):
            return True  # "Assembly takes about two hours …"
    return False


def _plain_noun(word: str) -> bool:
    """Whether a clause's first word can only be its subject, not a verb or modifier of the
    product ("assembly" yes; "folds", "rolling", "heated", "with" no)."""
    return (
        word.isalpha()
        and word not in _VERBS
        and word not in DANGLING
        and not word.endswith(("s", "ing", "ed"))
    )


def _article(phrase: str) -> str:
    return "an" if phrase[:1].casefold() in "aeiou" else "a"


def _lowered(clause: str, product: ProductFacts) -> str:
    """A clause as it reads mid-sentence: its first word lower-cased unless the record writes
    it capitalised elsewhere (a name: "Aquila nylon strings")."""
    first = clause.split()[0]
    if not (first[:1].isupper() and first[1:].islower()):
        return clause
    # names, not the title's subtitle: "Sizes" of "Turnout Rug 200 g, Sizes 5'6" to 7'0""
    # is no name
    proper = {w for n in product.names() if n != product.title for w in _COMPOUND.findall(n)}
    for sentence in _SENTENCE.findall(product.description):
        proper.update(_COMPOUND.findall(sentence.strip())[1:])
    word = _COMPOUND.findall(first)
    if word and word[0] in proper:
        return clause
    return first[:1].lower() + clause[1:]


def _compose_open(
    generator: TextGenerator,
    plans: dict[int, Plan],
    variant_of: dict[int, int],
    batch_size: int,
) -> None:
    """For each fact the model did not say faithfully in any round, the record's own clause in
    the frame the model finds likeliest (:func:`framed_sentences`; one teacher-forced pass per
    frame over the fact's own prompt). Only the likeliest frame is offered to the gates: where
    the model reads a noun phrase as what the product is ("is a hard-shell carry-on"), a frame
    that would make it a part ("has a hard-shell carry-on") is never the fallback, unless the
    title or an attribute's key names that noun as a part (:func:`part_words`: "Conductor's
    Baton, …, Cork Pear Grip": "has a pear-shaped cork grip …" where "is a pear-shaped cork
    grip …" was refused; round 21's SMS and ad texts failed for 5 of 20 products that way)."""
    rows: list[tuple[Plan, int, list[str], str, str]] = []
    for plan in plans.values():
        slot = plan.slot
        alone = slot.channel not in MULTI_SENTENCE
        if alone:
            if any(plan.passed.values()) or not plan.facts:
                continue
            usable = _usable(plan)
            start = usable.index(_lead(plan, variant_of.get(slot.key, 0)))
            count = min(COMPOSE_FACTS, len(usable))
            indices = [usable[(start + k) % len(usable)] for k in range(count)]
        else:
            indices = [i for i in _open_facts(plan, 0) if plan.facts[i].kind != "close"]
        name = min(slot.product.names(), key=len)
        for index in indices:
            fact = plan.facts[index]
            framed = framed_sentences(fact, slot.product, name, alone=alone)
            if not framed:
                continue
            prompt = generator.chat_prompt(_messages(slot, fact, name))
            rows.extend((plan, index, texts, prompt, shape) for shape, texts in framed.items())
    scores: list[tuple[float, int] | None] = []
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        try:
            scores.extend(
                generator.prefix_logprobs([r[3] for r in batch], [r[2][0] for r in batch])
            )
        except GenerationError:
            scores.extend([None] * len(batch))
    ranked: dict[tuple[int, int], list[tuple[float, int, list[str], str]]] = {}
    for (plan, index, texts, _prompt, shape), score in zip(rows, scores, strict=True):
        if score is None:
            plan.fail("generation: scoring a composed sentence failed")
            continue
        total, tokens = score
        ranked.setdefault((plan.slot.key, index), []).append((total, tokens, texts, shape))
    for plan in plans.values():
        for index in range(len(plan.facts)):
            frames = sorted(
                ranked.get((plan.slot.key, index), []),
                key=lambda frame: frame[0] / max(1, frame[1]),
                reverse=True,
            )
            if not frames:
                continue
            fact = plan.facts[index]
            _offer(plan, index, frames[0])
            if plan.passed.get(index) or not _names_a_part(fact, plan.slot.product):
                continue
            has = [frame for frame in frames[1:] if frame[3].startswith("has")]
            if has:
                _offer(plan, index, has[0])


def _offer(plan: Plan, index: int, frame: tuple[float, int, list[str], str]) -> None:
    total, tokens, texts, _shape = frame
    fact = plan.facts[index]
    for text in texts:
        plan.composed += 1
        _admit(
            plan,
            SentenceCandidate(
                index,
                text,
                total,
                max(1, tokens),
                -1,
                coverage(text, fact, plan.slot.product),
                composed=True,
            ),
        )


_NOUN_PHRASE_CUT = re.compile(r"\b(?:with|that|which|for|at)\b|,")


def _names_a_part(fact: Fact, product: ProductFacts) -> bool:
    """Whether a description clause's noun phrase is headed by a part of the product
    (:func:`part_words`): "pear-shaped cork grip that balances …" of a baton whose title
    lists a "Cork Pear Grip"."""
    if fact.kind != "description":
        return False
    words: list[str] = []
    for word in gate_words(_NOUN_PHRASE_CUT.split(fact.text, maxsplit=1)[0]):
        folded = word.casefold()
        if words and (folded.endswith(("ed", "ing")) or folded in _VERBS or folded in DANGLING):
            break  # "pan moulded in green polypropylene": the pan is the noun
        words.append(folded)
    return bool(words) and _singular(words[-1]) in part_words(product)


_NOT_PARTS = frozenset(
    [
        "max",
        "min",
        "overall",
        "total",
        "net",
        "pack",
        "count",
        "size",
        "colour",
        "color",
        "weight",
        "length",
        "width",
        "height",
        "depth",
        "diameter",
        "capacity",
        "volume",
        "model",
        "type",
        "style",
        "material",
        "finish",
        "pieces",
        "number",
    ]
)


def part_words(product: ProductFacts) -> set[str]:
    """Nouns the record names parts of the product with, lower-cased and singular: the head
    words of the title's segments after its first comma or "with" ("…, White Birch Shaft, Cork
    Pear Grip, with Case": shaft, grip, case) and the first word of an attribute key of two or
    more words ("handle_detachable": handle), less the product's own kind."""
    found: set[str] = set()
    for segment in re.split(r",|\bwith\b", product.title)[1:]:
        words = [w for w in gate_words(segment) if w.isalpha() and not w.isupper()]
        if words:
            found.add(_singular(words[-1].casefold()))
    for key in product.attributes:
        named = [w for w in re.split(r"[_\-\s]+", str(key).casefold()) if w not in _UNIT_KEYS]
        if len(named) >= 2 and named[0].isalpha() and named[-1] in _ASPECTS_OF_A_PART:
            found.add(_singular(named[0]))
    kinds = {_singular(k) for k in kind_heads(product)}
    return {
        w
        for w in found
        if len(w) > 2
        and w not in _NOT_PARTS
        and w not in kinds
        and w not in _COLOURS
        and not _adjective_like(w)
        and not w.endswith(("ed", "ing", "ent", "ant"))
    }


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


#: What an attribute key says of a part named before it ("handle_detachable", "board_size_mm",
#: "case_included"), not of the product ("machine_suitable").
_ASPECTS_OF_A_PART = frozenset(
    [
        "included",
        "detachable",
        "removable",
        "material",
        "size",
        "length",
        "width",
        "diameter",
        "thickness",
        "type",
        "types",
        "finish",
        "colour",
        "color",
        "count",
    ]
)
