"""Whether a sentence says its fact faithfully: the fact's words in order, its numbers with their units and qualifiers, a part's property kept with the part, lists whole, no invented compounds, codes or offers; one function per rule, :func:`sentence_failures` runs them."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from contentfab.workers.copy.text import DANGLING, fragment
from contentfab.workers.factcheck import unsupported_numbers
from contentfab.workers.grounding import gate_words

if TYPE_CHECKING:
    from contentfab.core.channels import Channel
    from contentfab.workers.copy.slots import BrandRules, ProductFacts
from contentfab.workers.copy.facts import (
    _EMPTY,
    _LIST,
    _PRICE_AFTER,
    _SENTENCE,
    _UNITS,
    _VERBS,
    FAITHFUL_SHARE,
    NEGATIONS,
    Fact,
    _content,
    _dropped_bound,
    _same_amount,
    _subject,
    _written,
    attribute_phrase,
    coverage,
    fact_sheet,
    fact_vocabulary,
)
from contentfab.workers.copy.numbers import joined_numbers, moved_numbers
from contentfab.workers.copy.points import _ITEM_SPLIT
from contentfab.workers.copy.sentence_examples import _example_echo
from contentfab.workers.copy.shapes import (
    _BARE_APPEAL,
    _COLLECTIVES,
    _NO_NOUN,
    _key_after_is,
    _one_of_many,
    _product_excluded,
    misworded,
    part_measure,
    verbless,
)
from contentfab.workers.copy.text import (
    _DETERMINERS,
    _NUMBER_WORDS,
    _TITLE_CUT,
    _adjective_like,
    _wordset,
)

#: "a great choice for your tyres": of 91 labelled texts (rounds 1-5) that said it, 49 scored 0
#: and 5 scored 2 ("a great choice for your roof" of a beehive; "for your needs"). The model's
#: sentences only: a reviewer may write it.
_FILLER = re.compile(
    r"\b(?:great|perfect|ideal|excellent|good)\s+(?:choice|option|pick|addition|way)\b",
    re.IGNORECASE,
)
#: "perfect for running around the store" (round 6, of a running vest), "it is used to make a
#: 250 ml tin of oil" (of a wood finish): a use or a benefit the model invents around true
#: words. Of the 86 labelled texts of rounds 1-6 that say one of these ("perfect/ideal/great
#: for/to", "used to/for/as/in", "lets/helps/allows you", "makes it easy"), 76 scored 0, 10
#: scored 1, none 2. Refused unless the fact says it.
_USE_FILLER = re.compile(
    r"\b(?:(?:perfect|ideal|great)\s+(?:for|to)|used\s+(?:to|for|as|in)"
    r"|(?:lets|helps|allows)\s+you|makes?\s+it\s+easy)\b",
    re.IGNORECASE,
)


def sentence_failures(
    text: str,
    fact: Fact,
    product: ProductFacts,
    brand: BrandRules,
    channel: Channel,
    *,
    alone: bool = False,
) -> list[str]:
    """Why ``text`` is no publishable sentence about ``fact`` (gate names as in
    :data:`workers.copy.slots.GATES`); empty means it is one. ``alone``: the sentence is the
    whole text (an SMS), so it must name the product rather than say "It"."""
    # cycle: workers.copy.gates imports this module at its top
    from contentfab.workers.copy.gates import brand_failures, invented_terms

    failed: list[str] = []
    cut = fragment(text, sentences=True)
    if cut is not None:
        failed.append(f"fragment: {cut}")
    ungrounded = fact_vocabulary(product, brand, fact).unsupported(text)
    if ungrounded:
        failed.append(f"grounding: not in its fact ({fact.text!r}): {', '.join(ungrounded[:6])}")
    numbers = unsupported_numbers(text, fact_sheet(product, fact))
    if numbers:
        failed.append(f"fact: numbers not in its fact: {', '.join(numbers[:3])}")
    capitals, notes = invented_terms(text, product, brand)
    if capitals or notes:
        failed.append(f"capitals: {capitals or ', '.join(notes)}")
    fact_words = {w.casefold() for w in gate_words(fact.text)}
    turned = [w for w in gate_words(text) if w.casefold() in NEGATIONS - fact_words]
    if turned:
        failed.append(f"claim: a negation its fact does not write: {', '.join(turned)}")
    bound = _dropped_bound(text, fact)
    if bound:
        failed.append(f"fact: a bound said as a plain number (its key says {bound})")
    if fact.kind not in ("close", "price"):
        share = coverage(text, fact, product)
        if share < FAITHFUL_SHARE:
            failed.append(
                f"relevance: says {share:.0%} of its fact (at least {FAITHFUL_SHARE:.0%})"
            )
        elif not _in_order(text, fact, product):
            failed.append("relevance: its fact's words out of the fact's order")
        lost = _lost_subject(text, fact, product)
        if lost:
            failed.append(f"claim: says of the product what its fact says of {' '.join(lost)}")
        partial = _cut_lists(text, fact)
        if partial:
            failed.append(
                f"claim: a list of its fact said in part (leaves out {'; '.join(partial)})"
            )
        moved = moved_numbers(text, fact, product) + joined_numbers(text, product)
        if moved:
            failed.append(
                f"fact: numbers said with other words than the record: {'; '.join(moved[:3])}"
            )
        if _PRICE_PHRASE.search(text):
            failed.append("claim: a price phrase in a sentence without the price")
    elif fact.kind == "price" and not _says(text, fact, product):
        failed.append("relevance: says nothing of its fact")
    if fact.kind != "close":
        offers = [w for w in gate_words(text) if w.casefold() in _OFFER_WORDS - fact_words]
        if offers:
            failed.append(f"claim: an offer its fact does not make: {', '.join(offers)}")
    codes = codes_outside_names(text, product)
    if codes:
        failed.append(f"claim: a model code outside the product's name: {', '.join(codes)}")
    broken = _broken_copula(text) or _copula_before_with(text) or _verb_after_has(text)
    if broken:
        failed.append(f"fragment: a fact's words pasted after 'is': {broken!r}")
    opening = text.split()[0] if text.split() else ""
    if (
        opening[:1].isupper()
        and opening.casefold() in _VERBS - {"is", "has"}
        and opening[-1:] == "s"
    ):
        # "Holds up to 120 kg and folds flat for the car." (the demo's camp chair): the
        # sentence lost its subject; the three such sentences in labelled descriptions scored 0
        failed.append(f"fragment: a sentence without its subject ({opening!r} opens it)")
    bare = _BARE_APPEAL.search(text) or _NO_NOUN.search(text)
    if bare:
        # "The Moule à Faisselle is your perfect, dishwasher safe …" (round 8): no noun
        failed.append(f"fragment: an appeal word with no noun after it: {bare.group().strip()!r}")
    excluded = _product_excluded(text, product)
    if excluded:
        failed.append(f"claim: says the product itself is not included: {excluded!r}")
    keyed = _key_after_is(text, product)
    if keyed:
        failed.append(f"fragment: an attribute's name pasted after 'is': {keyed!r}")
    of_a_part = part_measure(text, product)
    if of_a_part:
        failed.append(f"claim: a part's measure said of the product: {of_a_part!r}")
    qualities = _part_adjectives(text, product)
    if qualities:
        failed.append(f"claim: says of the product what the record says of a part: {qualities[0]}")
    if not alone and verbless(text):
        # a description's sentence with no verb reads as a pasted note (round 11: "TPU bumper
        # with polycarbonate back and built-in magnet ring compatible with MagSafe chargers.")
        failed.append("fragment: a sentence without a verb")
    agreement = _one_of_many(text, product.title)
    if agreement:
        failed.append(f"fragment: a plural said as one thing: {agreement!r}")
    # A price sentence says the product "is priced at 54.00 GBP"; its own gates check it.
    wrong = _misidentified(text, product, _subject(fact.text)) if fact.kind != "price" else None
    if wrong:
        failed.append(f"claim: calls the product a {wrong!r}")
    odd = (
        _misread_shapes(text, product)
        or _said_twice_or_left_over(text, product)
        or _round_17_shapes(text, product)
        or misworded(text, product)
    )
    if odd:
        failed.append(odd)
    took = _takes_to(text, f"{fact.text} {product.description}")
    if took:
        failed.append(f"claim: a time said of what the record does not time: {took!r}")
    itself = _has_itself(text, product) or _named_by_another(text, product)
    if itself:
        # round 15: "… and it has a pinning kit." (of the Pinning Kit), "Each 4.5 cm diameter
        # is a Lollipop Mould."
        failed.append(f"claim: the product as its own part or as something else: {itself!r}")
    stray = _stray_capitals(text, product, brand)
    if stray:
        failed.append(f"fragment: a sentence's opening pasted mid-sentence: {', '.join(stray)}")
    if fact.kind == "price" and product.price is not None:
        amount = fact.text.split(":", 1)[1].split()[0]
        said = [q for q in re.findall(r"\d+(?:[.,]\d+)?", text) if _same_amount(q, amount)]
        if len(said) != 1:
            failed.append(f"fact: a price sentence says the price once ({len(said)} times)")
        elif not _PRICE_AFTER.search(text):
            failed.append("claim: the price is not said as a price (costs, for, at, the price is)")
    filler = _FILLER.search(text) or _USE_FILLER.search(text)
    if filler and filler.group().casefold() in fact.text.casefold():
        filler = None  # "Ideal for small kitchens." says what its fact says
    if filler:
        failed.append(f"claim: generic filler ({filler.group()!r})")
    if ":" in text:
        failed.append("prompt_label: a colon (an attribute's label written out)")
    echoed = _example_echo(text, product)
    if echoed:
        failed.append(f"prompt_label: the worked example's words: {', '.join(echoed)}")
    glued = new_compounds(text, product, fact.text)
    if glued:
        failed.append(f"grounding: compounds the record does not write: {', '.join(glued)}")
    # cycle: workers.copy.senses builds on this module's kind_heads
    from contentfab.workers.copy.senses import fact_senses, sense_failures

    failed.extend(sense_failures(text, product))
    failed.extend(fact_senses(text, fact))
    if alone and text.split()[0].casefold() in ("it", "it's", "it’s", "this", "they"):
        failed.append("product_name: a sentence on its own opens with a pronoun")
    if alone:
        # cycle: workers.copy.gates imports this module at its top
        from contentfab.workers.copy.gates import find_term

        if not any(find_term(name, text) for name in product.names()):
            failed.append("product_name: a sentence on its own must name the product")
    failed.extend(brand_failures(text, channel, brand))
    return failed


#: "is a …", "are the …", and "is 4 mm …" (a measure is no kind of product either).
_IDENTITY = re.compile(
    r"\b(?:is|are|'s)\s+(?:(?:a|an|the|your|this)\s+|(?=\d)"
    r"|(?=(?:two|three|four|five|six|seven|eight|nine|ten|twelve)\s))((?:[^.,;:!?]|\.(?=\d))+)",
    re.IGNORECASE,
)


#: Number words that open a count ("is ten lengths of …", "are four arc sensors").
_COUNTS = _NUMBER_WORDS - {"one", "dozen"}


_PHRASE_END = frozenset(
    [
        "with",
        "that",
        "which",
        "for",
        "to",
        "in",
        "on",
        "and",
        "or",
        "from",
        "of",
        "by",
        "so",
        "who",
        "when",
        "while",
        "at",
        "as",
        "into",
        "than",
        "like",
        "you",
        "your",
        "it",
        "its",
    ]
)


def _misidentified(text: str, product: ProductFacts, part: Sequence[str] = ()) -> str | None:
    """The noun a sentence calls the product when the record never calls it that ("The Steel
    Bottle is a leak-proof lid", "It is a glacier blue"): after "is a", the noun phrase's last
    word must be the head noun of one of its names (:func:`kind_heads`: "The Bike Light Set is a
    50-lumen rear light" calls a set one of its lights), a word of its category, or a generic
    noun of the lexicon ("choice"). ``part``: the subject of the sentence's fact when that names
    a part; what follows the part's own "is" is said of the part ("the linen shade is 22 cm
    across")."""

    kinds = kind_heads(product) | _GENERIC_NOUNS
    # A set or a pair is also what it holds, said after "of" ("a set of three bamboo boards").
    held = {w.casefold() for name in product.names() for w in gate_words(name)}
    for match in _IDENTITY.finditer(text):
        before = gate_words(text[: match.start()])
        if part and before and before[-1].casefold() == part[-1] and part[-1] not in kinds:
            # "the linen shade is 22 cm across": said of the part its fact names (not "The Plug
            # Follower Set is a zipped canvas pouch" of "The set comes in …", round 24)
            continue
        words: list[str] = []
        allowed = kinds
        for word in _COMPOUND.findall(match.group(1)):
            folded = word.casefold()
            if folded == "of" and words and (words[-1] in _COLLECTIVES or words[0] in _COUNTS):
                # "ten lengths of nickel-silver track": the track is what it is
                words = []  # "a pair of blackout curtains": the curtains are what it is
                if kinds & _COLLECTIVES:
                    allowed = kinds | held
                continue
            participle = words and folded.endswith(("ed", "ing")) and "-" not in folded
            if folded in _PHRASE_END or participle:
                break
            words.append(folded)
        if not words:
            continue
        head = words[-1].rsplit("-", 1)[-1]
        if head in allowed or head.rstrip("s") in allowed:
            continue
        if f"{head}s" in allowed or (len(words) == 1 and _adjective_like(head)):
            continue
        if len(head) >= 4 and any(k.endswith(head) or k.endswith(head.rstrip("s")) for k in kinds):
            continue  # "balls" of "Pickleballs", "board" of "Skateboard"
        counted = words[0] in _COUNTS or words[0][:1].isdigit()
        if counted and kinds & _COLLECTIVES and head.endswith("s") and head.rstrip("s") in held:
            continue  # "The Coaster Mould Set is four silicone moulds" (round 16: no SMS)
        return " ".join(words)
    for match in _BARE_PLURAL.finditer(text):
        # "The Trekking Poles are EVA foam grips.", "The Kit is pre-cut balsa fins." (a part
        # said as what the product is, with no article: 7 labelled texts scored 0, 4 scored 1)
        words = match.group(1).casefold().split()
        if (
            words[0] in _NOT_A_KIND
            or words[0] in _DETERMINERS | _NUMBER_WORDS
            or words[0][:1].isdigit()
            or any(w in _PHRASE_END or (w.endswith(("ed", "ing")) and "-" not in w) for w in words)
        ):
            continue
        head = words[-1].rsplit("-", 1)[-1]
        if head.endswith(("ss", "us", "is")) or _adjective_like(head):
            continue
        if any(form in kinds for form in (head, head[:-1], head[:-2])):
            continue
        return " ".join(words)
    return None


#: "is …s" with no article before a plural noun that ends the phrase.
_BARE_PLURAL = re.compile(
    r"\b(?:is|are)\s+((?:[\w-]+\s+){0,3}?[\w-]+s)\b"
    r"(?=\s*(?:[.,;!?]|$|\s+(?:with|for|in|on|and|that|from|of|to)\b))",
    re.IGNORECASE,
)
#: First words of such a phrase that make it no kind ("is yours for", "are best before",
#: "are size XS to XXL", "are also …").
_NOT_A_KIND = _wordset(
    "yours best size sizes also not now still available great ideal perfect easy designed made "
    "built sold supplied included compatible suitable"
)


_COMPOUND = re.compile(r"[^\W_]+(?:(?:[-'’]|\.(?=\d))[^\W_]+)*")


#: Words after a product's head noun that name a model, not a kind ("Speaker Mini X2").
_MODEL_WORDS = frozenset(
    [
        "mini",
        "pro",
        "max",
        "plus",
        "lite",
        "ultra",
        "air",
        "classic",
        "compact",
        "original",
        "junior",
        "kids",
        "xl",
        "xs",
        "duo",
        "trio",
    ]
)


def kind_heads(product: ProductFacts) -> set[str]:
    """What the product is: the head noun of each of its names, cut at a "with", "for",
    bracket or comma ("Garden Hose 15 m with Spray Gun" is a hose, "Bike Light Set" a set,
    never a light), and its category's head nouns. A name without a plain head word gives
    all its words."""

    heads: set[str] = set()
    for name in product.names():
        words = [w for w in gate_words(_TITLE_CUT.split(name, maxsplit=1)[0]) if not w.isdigit()]
        plain = [
            w.casefold()
            for w in words
            if w.isalpha() and not w.isupper() and w.casefold() not in _UNITS
        ]
        while len(plain) > 1 and plain[-1] in _MODEL_WORDS:
            plain.pop()
        if plain:
            heads.add(plain[-1])
        else:
            heads.update(w.casefold() for w in words if w.casefold() not in _UNITS)
    # The category's words, but not an activity's ("Metal Detecting": a detector is no metal;
    # round 7: "The Metal Detector is a motion all-metal and discrimination mode.")
    for part in re.split(r"\s*(?:&|,|/|\band\b)\s*", product.category or ""):
        words = [w.casefold() for w in gate_words(part)]
        if words and not words[-1].endswith("ing"):
            # its head noun only: "Cigar Accessories" names accessories (round 10: "The Cigar
            # Humidor is a 28 x 21 x 10 cm cigar.")
            heads.add(words[-1])
    # What the record's description says the product is, where it opens "<Form> of …": "Paste
    # of beeswax, carnauba wax and orange oil" is a paste (round 6: every sentence that said so
    # was refused, and the finish's SMS and ad text failed).
    opening = _FORM_OF.match(product.description.strip())
    if opening is not None:
        form = opening.group(1).casefold().split()
        if not set(form) & (_NOT_A_FORM | _UNITS) and not form[-1].endswith(("ing", "ed")):
            heads.add(form[-1])
    return heads


#: A description's opening "<one or two words> of": the form the product comes in.
_FORM_OF = re.compile(r"([^\W\d_][\w-]*(?: [^\W\d_][\w-]*)?) of\s", re.IGNORECASE)
#: Openings of "… of" that are no form: counts, amounts, determiners ("Fifteen metres of
#: cable", "Made of", "One of").
_NOT_A_FORM = frozenset({
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "fifteen", "twenty", "thirty", "dozen", "pair", "set", "pack", "made", "each",
    "all", "both", "most", "some", "any", "the", "a", "an", "its", "this", "our", "your",
    "metres", "meters", "litres", "liters", "grams", "inches", "feet", "yards", "hours", "minutes",
})  # fmt: skip


def _stray_capitals(text: str, product: ProductFacts, brand: BrandRules) -> list[str]:
    """Capitalised words inside a sentence that no name writes capitalised: the opening of a
    record sentence pasted mid-sentence ("The Camp Pillow is in the Inflates in three
    breaths", "is a Divided plate"). Names, the category, the brand and words the record
    capitalises mid-sentence ("Shimano", "Wi-Fi") pass."""
    proper = set(
        _COMPOUND.findall(
            " ".join(
                [*product.names(), product.category or "", brand.name or "", *brand.vocabulary]
            )
        )
    )
    for sentence in _SENTENCE.findall(product.description):
        proper.update(_COMPOUND.findall(sentence.strip())[1:])
    for value in product.attributes.values():
        proper.update(_COMPOUND.findall(str(value)))
    proper |= {re.sub(r"['’]s$", "", w) for w in proper}  # "Men's Wetsuit" writes "Men"
    found = []
    for word in _COMPOUND.findall(text)[1:]:
        word = re.sub(r"['’]s$", "", word)  # "The Wall Lamp's shade": a name's possessive
        if word[:1].isupper() and word[1:].islower() and word not in proper:
            found.append(word)
    return found


def new_compounds(text: str, product: ProductFacts, also: str = "") -> list[str]:
    """Hyphenated words the record (and ``also``, a fact's text) does not write
    ("season-seasoned" from "3-season"): pieces of allowed words glued into a new one
    ("Like-Like", "bamboo-finished"). "go-to" and "must-have" pass."""
    written = {w.casefold() for w in _COMPOUND.findall(f"{product.corpus()} {also}")}
    found = []
    for word in _COMPOUND.findall(text):
        folded = word.casefold()
        if "-" not in folded or folded in written or folded in _GENERIC_NOUNS:
            continue
        found.append(word)
    return found


def _lost_subject(text: str, fact: Fact, product: ProductFacts) -> list[str]:
    """The fact's subject words the sentence drops: "The Cat Water Fountain is dishwasher
    safe" from "The stainless steel bowl is dishwasher safe" says it of the whole product."""
    names = {w.casefold() for name in product.names() for w in gate_words(name)}
    subject = [w for w in _subject(fact.text) if w not in names and w not in DANGLING]
    opening = [w.casefold() for w in gate_words(fact.text)[:2]]
    if not subject and len(opening) == 2 and opening[0] == "the" and _one_of_several(opening[1]):
        # "the smaller 40 × 32 × 38 cm" (a clause of "the larger is …, the smaller …"): the
        # measure is one table's, not the set's
        subject = [opening[1]]
    written = {w.casefold() for w in gate_words(text)}
    return [w for w in subject if not _written(w, written)]


def _one_of_several(word: str) -> bool:
    """ "smaller", "larger", "other", "second": a word that picks one of a product's pieces."""
    return word in ("other", "first", "second", "third", "last") or (
        len(word) > 4 and word.isalpha() and word.endswith(("er", "est")) and word != "other"
    )


#: Verbs whose object a part gives the whole product: "the dual head fits Presta and
#: Schrader valves" (so does the pump); "the shade takes one E27 bulb" (so does the lamp).
_THROUGH_A_PART = frozenset({"fits", "fit", "takes", "take", "connects", "connect"})


def part_properties(text: str, product: ProductFacts) -> list[str]:
    """What the record says of a part that ``text`` says without the part: "Cat Water
    Fountain, dishwasher safe" when only "the stainless steel bowl is dishwasher safe". A
    property is its predicate's words (two in a row, or the one word a short predicate has);
    one the record also says elsewhere (of the product, in an attribute) is the product's too.
    """
    # the title's own words name the product only where no shorter name is derived: a title
    # that lists a part ("…, 1010 x 540 x 30 mm, Aluminium Frame") does not make the part the
    # product (round 19's "The Solar Panel is anodised aluminium" of its frame)
    shorter = [name for name in product.names() if name != product.title] or [product.title]
    names = {w.casefold() for name in shorter for w in gate_words(name)}
    parts: list[tuple[list[str], list[str]]] = []  # (the part's words, what is said of it)
    elsewhere: list[str] = [product.title, *(str(v) for v in product.attributes.values())]
    for sentence in _SENTENCE.findall(" ".join(product.description.split())):
        for clause in re.split(r";\s+", sentence.strip()):
            if clause[:1].islower():
                # "…; handle can be reused" (round 17's hoof rasp): a clause after a
                # semicolon names its part without an article
                clause = f"The {clause}"
            subject = [w for w in _subject(clause) if w not in names and w not in DANGLING]
            if not subject:
                elsewhere.append(clause)
                continue
            words = [w.casefold() for w in gate_words(clause)]
            verb = next(k for k in range(2, len(words)) if words[k] in _VERBS)
            if words[verb] in _THROUGH_A_PART:
                elsewhere.append(clause)  # what the part fits, the product fits
                continue
            parts.append((subject, words[verb + 1 :]))
    if not parts:
        return []
    said = [w.casefold() for w in gate_words(text)]
    said_pairs = set(itertools.pairwise(said))
    other = [w.casefold() for w in gate_words(" ".join(elsewhere))]
    other_pairs = set(itertools.pairwise(other))
    found: list[str] = []
    for subject, predicate in parts:
        if any(_written(w, set(said)) for w in subject[-1:]):
            continue  # the text names the part
        content = [w for w in predicate if w not in DANGLING and w not in _EMPTY]
        pairs = [p for p in itertools.pairwise(predicate) if p[0] in content and p[1] in content]
        if len(content) == 1 and not pairs:
            hits = [c for c in content if c in said and c not in other]
        else:
            hits = [" ".join(p) for p in pairs if p in said_pairs and p not in other_pairs]
        found.extend(f"{hit} (said of the {' '.join(subject)})" for hit in hits)
    found.extend(_part_adjectives(text, product))
    return list(dict.fromkeys(found))


#: "It is lead-free" of a crock whose record says "a lead-free glaze" (round 17): a word the
#: product is said to be, which the record writes only before another noun than the product's.
_SAID_TO_BE = re.compile(
    r"(?:^|[.!?]\s+|,\s+(?:and|but)\s+)(?:(it|they|the\s+[\w'’ -]+?)\s+(?:is|are)"
    r"|(it[’']s|they[’']re))\s+(?:also\s+)?([^\W\d_][\w-]*(?:\s+[^\W\d_][\w-]*)?)"
    r"\s*(?=[.,;!?]|$|\band\b)",
    re.IGNORECASE,
)
_NOT_A_QUALITY = frozenset(
    "a an the not made supplied designed for used ideal great perfect easy".split()  # noqa: SIM905
)


def _part_adjectives(text: str, product: ProductFacts) -> list[str]:
    """:func:`part_properties` for a quality written before a part's noun."""
    names = [name.casefold() for name in product.names()]
    heads = kind_heads(product)
    record = " ".join(
        [product.title, product.description]
        + [attribute_phrase(k, v) for k, v in product.attributes.items()]
    )
    words = [w.casefold() for w in re.findall(r"[\w'’-]+|[.,;:()]", record)]
    found = []
    for match in _SAID_TO_BE.finditer(text):
        subject = (match.group(1) or match.group(2)).casefold()
        quality = match.group(3).casefold().split()
        if subject.startswith("the") and not any(name in subject for name in names):
            continue
        if quality[0] in DANGLING or quality[0] in _NOT_A_QUALITY or match.group(3)[0].isupper():
            continue
        at = [i for i in range(len(words) - len(quality)) if words[i : i + len(quality)] == quality]
        nouns = [words[i + len(quality)] for i in at]
        if at and all(
            noun[:1].isalpha() and noun not in DANGLING and not {noun, noun.rstrip("s")} & heads
            for noun in nouns
        ):
            found.append(f"{' '.join(quality)} (said of the {nouns[0]})")
    return found


def _cut_lists(text: str, fact: Fact) -> list[str]:
    """A list of the fact said in part ("a flat base for gas" from "for gas, electric and
    induction hobs"): a sentence that names one item names them all."""
    written = {w.casefold() for w in _COMPOUND.findall(text)} | {
        w.casefold() for w in gate_words(text)
    }
    cut = []
    for match in _LIST.finditer(fact.text):
        if not match.group(2):
            continue  # "fold to 38 cm and weigh 290 g" joins clauses, not a list's items
        items = [match.group(1), *re.findall(r"[\w-]+", match.group(2)), match.group(3)]
        items = [i.casefold() for i in items if i.casefold() not in DANGLING]
        if len(items) < 2:
            continue
        said = [i for i in items if _written(i, written)]
        if said and len(said) < len(items):
            cut.append(", ".join(i for i in items if i not in said))
    return cut


_BROKEN_IS = re.compile(r"\b(?:is|are)\s+((?:[^\W\d_]+\s+){1,2})([^\W\d_]+s)\b", re.IGNORECASE)


#: "It is with a continuity lamp.", "It is clean up with press wash …" (rounds 11-14: the four
#: labelled descriptions that wrote "is with" and the two that wrote an instruction's verb
#: after "is" scored 1).
_IS_WITH = re.compile(
    r"\b(?:is|are|it's|it’s)\s+(?:also\s+)?(?:with\b|(?!\w+ed\b)\w+\s+(?:up|down|out|off)\s+with\b)"
    # "It is fixings are not included" (round 15): a clause's own subject and verb after "is"
    r"|\b(?:is|are)\s+(?!(?:also|not|now|still|all|both|each)\b)[\w-]+\s+(?:is|are)\b",
    re.IGNORECASE,
)


_HAS_THEN = re.compile(r"\b(?:has|have)\s+(?:each\s+)?([\w-]+)", re.IGNORECASE)
#: "It blades should be dried …" (round 13): a pronoun and a noun before a verb.
_PRONOUN_NOUN = re.compile(
    r"\b(?:It|They)\s+([a-z]+s)\s+(?:should|must|can|are|is|will|have|has)\b"
)


def _verb_after_has(text: str) -> str | None:
    """ "It has each holds a 75 m spool", "The Mason
    Jars have plus 12 lids" (rounds 12-13, each labelled ungrammatical): a fact's own verb
    pasted after "has"; and a pronoun before a noun ("It blades should be dried")."""
    # cycle: workers.copy.senses imports this module
    from contentfab.workers.copy.senses import INSTRUCTIONS

    for match in _HAS_THEN.finditer(text):
        word = match.group(1).casefold()
        if word == "plus" or (word in _VERBS and word.endswith("s") and word not in _HAS_OK):
            return match.group()
        if word in INSTRUCTIONS and word not in _HAS_NOUNS:
            return match.group()  # "It has mix equal volumes just before coating." (round 16)
    noun = _PRONOUN_NOUN.search(text)
    if noun and noun.group(1) not in _PRONOUN_OK:
        return noun.group()
    return None


#: Instruction verbs that are nouns after "has" too ("has a hook", "has hold").
_HAS_NOUNS = frozenset("hold stand press place turn check lift pull push take have".split())  # noqa: SIM905
_HAS_OK = frozenset({"is", "has", "was", "covers", "charges", "locks", "stands", "runs"})
_PRONOUN_OK = frozenset({"always", "sometimes", "themselves", "perhaps"})


_HAS_A = re.compile(
    r"\b(?:has|have|includes?|contains?|comes\s+with)\s+(?:a|an|the|one)\s+"
    r"((?:[\w-]+\s+){0,3}?([\w-]+))(?=\s*(?:[.,;!?]|$|\s+(?:and|with|for|in|that)\b))",
    re.IGNORECASE,
)


def _misread_shapes(text: str, product: ProductFacts) -> str | None:
    """Shapes of round 16's false or broken sentences, each refused in every labelled text
    of rounds 1-16 that has it but one or two scored 1 (none scored 2):

    - the product as the reader's own thing: "so you can use it to paddle your pickleball
      paddle", "a rope that you can climb with your climbing ropes";
    - a warning said as what the product does: "It does not mix with acids." of "Do not mix
      with acids", "It does not soak." of "do not soak";
    - "the only", "your only" where the record says no "only" ("your only option for
      ascending" of "for ascending only");
    - a bare number after its verb ("It has 5.");
    - the product's own noun, capitalised, pasted after "is" ("They are Balls stored below
      freezing become hard …"), or a proper name after "is the" that is none of its names
      ("The Synthetic Pipe Bag is the Great Highland Bagpipes.")."""
    # cycle: workers.copy.gates imports this module at its top
    from contentfab.workers.copy.gates import find_term

    # the product's own noun: the last word of its plain names ("Wood Burning Stove", not
    # "… Stove 8 kW, Ecodesign")
    plain = [n for n in product.names() if not re.search(r"[\d,(]", n)] or list(product.names())
    cut = [_TITLE_CUT.split(n, maxsplit=1)[0].split() for n in plain]
    heads = {words[-1].casefold() for words in cut if words}
    heads |= {h.rstrip("s") for h in heads}
    for match in re.finditer(r"\byour\s+(?:[\w-]+\s+){0,3}?([\w-]+)\b", text, re.IGNORECASE):
        word = match.group(1).casefold()
        if word in heads or word.rstrip("s") in heads:
            return f"claim: the product as the reader's own: {match.group()!r}"
    record = f"{product.title} {product.description}"
    for verb in re.findall(r"\b(?:do not|don't|never)\s+(\w+)", record, re.IGNORECASE):
        said = re.search(
            rf"\b(?:[Ii]t|[Tt]hey|[A-Z][\w-]*)\s+(?:does\s+not|doesn't|do\s+not|don't|will\s+not"
            rf"|won't)\s+{re.escape(verb)}\b",
            text,
        )
        if said and not said.group().startswith(("Do ", "Don't", "Never")):
            return f"claim: a warning said as what the product does: {said.group()!r}"
    only = re.search(r"\b(?:your|the|its)\s+only\b", text, re.IGNORECASE)
    if only and not re.search(r"\bonly\b", record, re.IGNORECASE):
        return f"claim: an 'only' the record does not say: {only.group()!r}"
    bare = re.search(r"\b(?:has|have|is|are)\s+\d[\d.,]*\s*[.!]?$", text.strip())
    if bare:
        return f"fragment: a number with nothing after it: {bare.group()!r}"
    for match in re.finditer(r"\b(?:is|are)\s+([A-Z][\w-]*)\b", text):
        if match.group(1).casefold() in heads:
            return f"fragment: the product's noun pasted after 'is': {match.group()!r}"
    for match in re.finditer(r"\b(?:is|are)\s+the\s+((?:[A-Z][\w-]*\s*)+)", text):
        phrase = match.group(1).strip()
        if not any(find_term(phrase, name) or find_term(name, phrase) for name in product.names()):
            return f"claim: calls the product {phrase!r}"
    return None


_MEASURE_SAID = re.compile(
    r"(?<![x×\d.,])(\d+(?:[.,]\d+)?)\s*(mm|cm|m|g|kg|ml|l|h|min|w|v|lm|oz|lb)\b(?!\s*[x×])",
    re.IGNORECASE,
)
_MODAL = re.compile(r"\b(?:can|will|may|must|should|could)\s+(\w+)", re.IGNORECASE)
_APPEAL_AFTER_NUMBER = re.compile(
    r"\d\s*[^\W\d_]{0,3}\s+(?:perfect|great|ideal|good|nice|best)\W*$", re.IGNORECASE
)


def _said_twice_or_left_over(text: str, product: ProductFacts) -> str | None:
    """The demo lantern's "It has a runtime of 12.5 h, and it can runtime up to 12.5 h
    perfect.": a measure said twice in one sentence (five labelled texts, none scored 2), an
    attribute's key used as a verb after "can", and an appeal word left after a number."""
    # cycle: workers.copy.senses imports this module
    from contentfab.workers.copy.senses import INSTRUCTIONS

    seen: set[tuple[str, str]] = set()
    for match in _MEASURE_SAID.finditer(text):
        measure = (match.group(1), match.group(2).casefold())
        if measure in seen:
            return f"repetition: a measure said twice: {' '.join(measure)!r}"
        seen.add(measure)
    keys = {w for key in product.attributes for w in str(key).casefold().split("_") if len(w) > 3}
    for match in _MODAL.finditer(text):
        word = match.group(1).casefold()
        if word in keys and word not in _VERBS and word not in INSTRUCTIONS:
            return f"fragment: an attribute's name used as a verb: {match.group()!r}"
    appeal = _APPEAL_AFTER_NUMBER.search(text.strip())
    if appeal:
        return f"fragment: an appeal word left after a number: {appeal.group()!r}"
    return None


_CLAUSE_AFTER = re.compile(
    r"\b(?:is|are|has|have)\s+(?!(?:a|an|the|not|also|no|your|its|their|this)\b)"
    r"(?:(?!(?:and|or|but|so|that|which|where|what|how|when|one|who|you)\b)[\w-]+\s+){1,3}"
    r"(?:can|will|may|might|must|should|voids)\b",
    re.IGNORECASE,
)
_DENIED = re.compile(
    r"(?:^|[.;:]\s*)([^.;:]*?)\s+(?:are\s+|is\s+)?(?:not\s+included|sold\s+separately|not\s+supplied)",
    re.IGNORECASE,
)
_INCLUDES = re.compile(r"\b(?:includes?|comes?\s+with|supplied\s+with)\s+([^.;]*)", re.IGNORECASE)


def _item_heads(phrase: str) -> set[str]:
    """The last word of each item of a list ("coax, mast and ropes" -> coax, mast, rope)."""
    heads = set()
    for item in _ITEM_SPLIT.split(phrase):
        words = re.findall(r"[^\W\d_]{3,}", item)
        if words:
            heads.add(words[-1].casefold().rstrip("s"))
    return heads - {"the", "and"}


def _round_17_shapes(text: str, product: ProductFacts) -> str | None:
    """Round 17's false or broken sentences (each refused in every labelled text of rounds
    1-17 that has it; none scored 2): a clause with its own subject and verb pasted after "is"
    or "has" ("The point chisel is stone chips can fly several metres.", "It has solvents will
    cloud the surface."); a list cut after "and" and a bare number ("… at 1/8 in intervals and
    30."); what the record says is not included said as included ("It includes coax, mast and
    ropes." of "Coax, mast and ropes not included")."""
    pasted = _CLAUSE_AFTER.search(text)
    if pasted:
        return f"fragment: a clause's subject and verb pasted after 'is': {pasted.group()!r}"
    # … and "They are one each with a 0.4.", "… holds the ball at 4." (round 19)
    cut = re.search(r"\b(?:and|a|an|at|the|with)\s+\d+(?:[.,]\d+)?\s*[.!]?$", text.strip())
    if cut:
        return f"fragment: a list cut at a bare number: {cut.group()!r}"
    denied: set[str] = set()
    for match in _DENIED.finditer(product.description):
        denied |= _item_heads(match.group(1))
    for match in _INCLUDES.finditer(text):
        before = text[max(0, match.start() - 12) : match.start()].casefold()
        if denied and "not" not in before and "n't" not in before:
            said = _item_heads(match.group(1)) & denied
            if said:
                return f"claim: says included what the record does not include: {match.group()!r}"
    return None


_TAKES_TO = re.compile(
    r"\btakes?\s+(?:about\s+|around\s+|up\s+to\s+|only\s+|just\s+)?\d[\d.,]*\s*[^\W\d_]*"
    r"\s+to\s+([^\W\d_]+)",
    re.IGNORECASE,
)


def _takes_to(text: str, record: str) -> str | None:
    """ "It takes about 5 minutes to make." of "Assembly takes about 5 minutes" (round 15): a
    time said of an action the record does not time; the action's verb or its noun must be
    the record's ("to assemble" of "assembly", "to steep" of "steep for 1 minute")."""
    match = _TAKES_TO.search(text)
    if match is None:
        return None
    verb = match.group(1).casefold()
    stem = verb[: max(4, min(5, len(verb) - 1))]
    return None if stem in record.casefold() else match.group()


def _has_itself(text: str, product: ProductFacts) -> str | None:
    """ "The Pinning Kit is stored in a zip case, and it has a pinning kit.": what the product
    is, said as something it has."""
    heads = kind_heads(product)
    for match in _HAS_A.finditer(text):
        head = match.group(2).casefold()
        if head in heads or head.rstrip("s") in heads:
            return match.group().strip()
    return None


def _named_by_another(text: str, product: ProductFacts) -> str | None:
    """ "Each 4.5 cm diameter is a Lollipop Mould.": the product's name said of a subject that
    is neither the product nor a pronoun for it."""
    # cycle: workers.copy.gates imports this module at its top
    from contentfab.workers.copy.gates import find_term

    opening = text.split()[0].casefold() if text.split() else ""
    if opening in ("it", "they", "this", "it's", "they're", "these"):
        return None
    for name in sorted(product.names(), key=len, reverse=True):
        match = re.search(rf"\b(?:is|are)\s+(?:a|an|the)\s+{re.escape(name)}\W*$", text, re.I)
        if match is None:
            continue
        if any(find_term(other, text[: match.start()]) for other in product.names()):
            return None
        return match.group().strip()
    return None


def _copula_before_with(text: str) -> str | None:
    match = _IS_WITH.search(text)
    return match.group() if match else None


def _broken_copula(text: str) -> str | None:
    """ "It is length adjusts from 110 to 130 cm": a fact's own subject and verb pasted after
    "is"."""
    for match in _BROKEN_IS.finditer(text):
        between = match.group(1).casefold().split()
        verb = match.group(2).casefold()
        if (
            verb in _VERBS
            and verb not in ("is", "has")
            and not set(between)
            & {
                "and",
                "that",
                "which",
                "who",
                "so",
                "it",
                "also",
            }
        ):
            return match.group().strip()
    return None


#: Words that make an offer: a sentence may use one only where its fact does (the closing
#: line invites; "You can buy a light blanket" sells something the record does not).
_OFFER_WORDS = frozenset({"buy", "choose", "order", "shop", "pick", "grab", "purchase"})


_PRICE_PHRASE = re.compile(r"\byours\s+for\b|\bfor\s+only\b|\bjust\s+for\b", re.IGNORECASE)


def codes_outside_names(text: str, product: ProductFacts) -> list[str]:
    """A name's model code ("G2", "AQ-3") put anywhere but in the name ("Shimano G2")."""
    # cycle: workers.copy.gates imports this module at its top
    from contentfab.workers.copy.gates import find_term

    record = [product.description, *(f"{k} {v}" for k, v in product.attributes.items())]
    described = {w.casefold() for w in _COMPOUND.findall(" ".join(record))}
    codes = {
        w.casefold()
        for name in product.names()
        for w in _COMPOUND.findall(name)
        if w[:1].isalpha() and any(c.isdigit() for c in w)
    } - described
    if not codes:
        return []
    rest = " ".join(text.split())
    for name in sorted(product.names(), key=len, reverse=True):
        if find_term(name, rest):
            pattern = r"\s+".join(re.escape(part) for part in name.split())
            rest = re.sub(pattern, " ", rest, flags=re.IGNORECASE)
    return [w for w in _COMPOUND.findall(rest) if w.casefold() in codes]


_GENERIC_NOUNS = frozenset(
    [
        "choice",
        "pick",
        "companion",
        "option",
        "way",
        "design",
        "feature",
        "moment",
        "routine",
        "day",
        "time",
        "price",
        "must-have",
        "go-to",
    ]
)


def _in_order(text: str, fact: Fact, product: ProductFacts) -> bool:
    """Whether the fact's words come in the fact's order ("rainfly is waterproof" kept as
    such, not turned into "waterproof ... rainfly")."""
    content = _content(fact, product)
    # every place a word has ("530 ml and 830 ml": "ml" twice; round 12's "… 530 ml and 830
    # ml, …" was refused as out of order when a word's last place stood for all of them)
    places: dict[str, list[int]] = {}
    for i, w in enumerate(content):
        for form in dict.fromkeys((w, f"{w}s", w.rstrip("s"))):
            places.setdefault(form, []).append(i)
    # The product's names are no part of the fact's order: "The Watercolour Set has
    # twenty-four artist-grade watercolours" says the fact in its order.
    rest = text
    for name in sorted(product.names(), key=len, reverse=True):
        rest = re.sub(
            r"(?<!\w)" + r"\s+".join(re.escape(p) for p in name.split()) + r"(?!\w)",
            " ",
            rest,
            flags=re.IGNORECASE,
        )
    at, said = -1, set()
    for word in gate_words(rest):
        folded = word.casefold()
        ahead = [i for i in places.get(folded, []) if i >= at]
        if ahead:
            at = ahead[0]
            said.add(folded)
        elif folded in places and folded not in said:
            return False  # a word of the fact said after one the fact writes later
    return True


def _says(text: str, fact: Fact, product: ProductFacts) -> bool:
    """Whether the sentence carries a word of its fact beyond the names and the lexicon."""
    return coverage(text, fact, product) > 0
