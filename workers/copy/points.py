"""Selling points: short phrases of a product's own data worth saying beside its name in a
headline, a subject line or an SMS ("keeps drinks hot for 12 hours", "Double-edged",
"Reusable"), and the ways a name and a point are put together (:func:`compose`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from contentfab.workers.copy.facts import _SUBJECT_OPENERS
from contentfab.workers.copy.text import (
    _NUMBER_WORDS,
    _SENTENCE,
    _TITLE_CUT,
    _WORDS,
    DANGLING,
    SENTENCE_END,
    _adjective_like,
    _wordset,
    fragment,
)


def _whole_lists(sentence: str, clauses: list[str]) -> list[str]:
    """``clauses`` with a list kept whole: a clause and the short items after it ("Sizes M",
    "L and XL" -> "Sizes M, L and XL"; "tiles in squares", "triangles", "arches" -> "tiles in
    squares, triangles and arches"), as ``sentence`` writes them."""
    merged: list[str] = []
    k = 0
    while k < len(clauses):
        end = k
        while end + 1 < len(clauses) and 1 <= len(_list_words(clauses[end + 1])) <= 2:
            end += 1
        start = sentence.find(clauses[k])
        stop = sentence.find(clauses[end], start) + len(clauses[end]) if end > k else -1
        if end > k and start >= 0 and stop > start:
            merged.append(sentence[start:stop])
        else:
            merged.extend(clauses[k : end + 1])
        k = end + 1
    return merged


#: "A blend of red radish (60%) and pak choi (40%)": what a blend, a set or a mix holds is one
#: list (round 15's subject line "Seed Mix: Untreated seed blend of red radish (60%)").
_HOLDS_OF = re.compile(
    r"\b(?:blend|mix|mixture|set|pair|assortment|selection|combination)\s+of\s+[^,;:]+$",
    re.IGNORECASE,
)


def _held_lists(sentence: str, clauses: list[str]) -> list[str]:
    """``clauses`` with a clause ending in "<blend> of A" joined to the "and B" after it."""
    merged: list[str] = []
    for clause in clauses:
        if merged and _HOLDS_OF.search(merged[-1]):
            joined = f"{merged[-1]} and {clause}"
            if joined in sentence:
                merged[-1] = joined
                continue
        merged.append(clause)
    return merged


def _list_words(clause: str) -> list[str]:
    """A clause's words but "and" and "or": "L and XL" is a list's two items."""
    return [w for w in _WORDS.findall(clause) if w.casefold() not in ("and", "or")]


#: A clause that opens with a participle and its agent: said of the noun before it.
_BY_WHOM = re.compile(
    r"^(?:[^\W\d_]+(?:ed|en)|held|made|built|sold|kept|run|set|cut|hung|spun|wound)\s+by\b",
    re.IGNORECASE,
)
#: A quantifier and a singular word that ends a list's first item: its noun comes after the
#: last item ("most ball and air-mattress pumps").
_ELIDED_HEAD = re.compile(
    r"\b(?:most|many|all|both|several|various)\s+[^\W\d_]+(?<![sS])\s*$", re.IGNORECASE
)
_CLAUSE = re.compile(rf"(?:;|{SENTENCE_END})\s+|,\s+(?:and\s+)?|\s+and\s+(?=[a-z])|\s+[-–—]\s+")
#: What the record says the product comes with ("comes with a padded cloth bag", "includes
#: a tuning hammer", "supplied with …"), and what it says is included ("mop heads included").
_WITH = re.compile(
    r"^(?:(?:comes|supplied|sold|delivered|shipped)\s+with|includes?)\s+"
    r"(?:a|an|the|its|their|two|three|four)?\s*(?P<what>[^,;:()]+?)$",
    re.IGNORECASE,
)
_INCLUDED = re.compile(r"^(?P<what>[^,;:()]+?)\s+(?:included|supplied)$", re.IGNORECASE)
_RELATIVE = re.compile(r"^(?:.*?\b(?:that|which|who)\s+)", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:a|an|the|it|its|this|our)\s+", re.IGNORECASE)
_THE_OTHER = re.compile(r"\bthe others?\b", re.IGNORECASE)
_ONE = re.compile(r"\bone\b", re.IGNORECASE)


def _noun_head(phrase: str) -> str:
    """A phrase's noun: its last word before a "with", "for", "that" or comma."""
    words = re.split(r"[,;:]|\s(?:with|for|that|which|in|on|from|to)\s", phrase)[0].split()
    return words[-1].casefold().strip(".") if words else ""


def _capability(word: str) -> bool:
    """What the product can do or does without ("Reusable", "Cordless", "Foldable"), said of
    it alone; not a material's first word ("Natural" rubber, "Stainless" steel)."""
    folded = word.casefold()
    return folded.endswith(("able", "ible", "less")) and folded != "stainless"


def selling_points(
    title: str, description: str, attributes: Mapping[str, Any], *, max_words: int = 7
) -> list[str]:
    """Short phrases of the product's own data worth saying beside its name, best first:
    clauses of the description ("keeps drinks hot for 12 hours", "pitches in under five
    minutes") and attribute values that read as phrases ("merino wool", "IP67"). Each ends
    complete (:func:`fragment`) and repeats nothing the title says."""
    found: list[str] = []
    title_words = {w.casefold() for w in _WORDS.findall(title)}
    # What the product is: its title before a "with", "for" or comma (a wok "with Birch
    # Helper Handle" is a wok; what the handle does, the handle does).
    kind_words = {w.casefold() for w in _WORDS.findall(_TITLE_CUT.split(title, maxsplit=1)[0])}
    # the product's own noun: the last plain word of that ("station" of "SD-60 Temperature-
    # Controlled Soldering Station 60 W")
    plain = [
        w.casefold()
        for w in _WORDS.findall(_TITLE_CUT.split(title, maxsplit=1)[0])
        if w.isalpha() and not w.isupper() and w.casefold() not in _UNIT_WORDS  # not "TKL"
    ]
    itself = {plain[-1], f"{plain[-1]}s", plain[-1].rstrip("s")} if plain else set()
    # cycle: workers.copy.compose imports the writer's modules, which import this one
    from contentfab.workers.copy.compose import part_words
    from contentfab.workers.copy.senses import INSTRUCTIONS
    from contentfab.workers.copy.slots import ProductFacts

    record = ProductFacts(sku="", title=title, description=description, attributes=dict(attributes))
    parts = part_words(record)
    for sentence in _SENTENCE.findall(description):
        clauses = _whole_lists(sentence.strip(), _CLAUSE.split(sentence.strip()))
        clauses = _held_lists(sentence.strip(), clauses)
        # "The supplied cartridge combines …, and lasts about 150 litres or four weeks" (round
        # 23's water jug: "Water Filter Jug – lasts about 150 litres …"): the sentence's
        # subject is a part, so a clause that goes on with its verb is the part's too
        part_subject = _part_subject(sentence, kind_words, parts)
        part_before = False  # the clause before said something of a part
        for k, clause in enumerate(clauses):
            clause = clause.strip(" .!?")
            if _THE_OTHER.search(clause) and not _ONE.search(clause):
                part_before = False
                continue  # "rip teeth on the other": the other of what the clause before says
            after_part, part_before = (
                part_before,
                _about_a_part(_ARTICLE.sub("", clause), kind_words),
            )
            if k + 1 < len(clauses) and len(_list_words(clauses[k + 1])) <= 2:
                # the head of a list ("tiles in squares, triangles and arches"; "Sizes M, L
                # and XL" gave the headline "Falconry Glove: Sizes M" in round 8)
                continue
            if k and len(_list_words(clause)) <= 2 and len(_WORDS.findall(clauses[k - 1])) > 2:
                continue  # the tail of a list ("… with a hammer and wood glue")
            if (k + 1 < len(clauses) and _ELIDED_HEAD.search(clause)) or (
                k and _ELIDED_HEAD.search(clauses[k - 1])
            ):
                # "a standard valve for most ball and air-mattress pumps": the ball's noun is
                # the pumps (round 25's "Snow Tube: Air-mattress pumps" and "…: Has a standard
                # valve for most ball")
                continue
            opening = _WORDS.findall(clause)[:1]
            if k and part_subject and opening and opening[0].casefold() in _PART_VERBS:
                continue
            told = [w.casefold() for w in _WORDS.findall(clauses[k - 1])[:2]] if k else []
            if told and (
                told[0] in INSTRUCTIONS
                or (told[0] == "so" and told[1:] and told[1] in INSTRUCTIONS)
            ):
                # "so keep cats and dogs out of the room" (round 24's "Pig Cage Kit: Out of the
                # room"): the rest of an instruction's clause
                continue
            if after_part and opening and opening[0].casefold() in _PART_VERBS:
                # "the receiver has a 200 m range and charges by USB": the receiver charges
                part_before = True
                continue
            if (
                k
                and _BARE_MEASURE.match(clause)
                and _of_a_part(
                    clauses[k - 1],
                    attributes,
                    kind_words,
                    each=clause.casefold().startswith("each"),
                )
            ):
                # "Stainless probe, 20 cm long", "Includes 50 paper sticks, 10 cm long": the
                # measure is the probe's, the sticks' (round 15: "Candy Thermometer: 20 cm long")
                continue
            at = sentence.find(clause)
            if "," in clause and at >= 0 and _denies(sentence[at + len(clause) :].split(";")[0]):
                # "Cement, pigment and chips not included": a list the sentence denies (round
                # 16's headline "Mould Set: Cement, pigment")
                continue
            if k and _MEASURE_LIST.match(clause) and _ENDS_IN_MEASURE.search(clauses[k - 1]):
                # "base diameters 25 mm, 45 mm and 70 mm": the list's tail (round 15's "Cone
                # Set: 45 mm and 70 mm" left out the 25 mm cone)
                continue
            if k and _BY_WHOM.match(clause):
                # "… for real trees up to 2.4 m tall with trunks up to 12 cm across, held by 4
                # thumbscrews": the trunk is held (round 25's "Tree Stand: Held by 4
                # thumbscrews"); "…, powered by two AA batteries" after the product's own clause
                earlier = [c for c in clauses[:k] if not _measure_only(_WORDS.findall(c))]
                if earlier and not _about_product(earlier[-1], kind_words):
                    continue
            relative = _RELATIVE.match(clause)
            if relative is not None and not _about_product(relative.group(), kind_words):
                continue  # "a chest pocket that doubles as a stuff sack": the pocket does
            if relative is not None and k and not _content(relative.group()):
                # "Avoid silicone-based floatants, which mat the fibres": the clause before
                # names what "which" is (round 14's headline "CDC Feathers: Mat the fibres");
                # a measure between them names nothing ("mesh bag, 45 × 35 cm, that lets …")
                earlier = [c for c in clauses[:k] if not _measure_only(_WORDS.findall(c))]
                if earlier and not _about_product(earlier[-1], kind_words):
                    continue
            phrase = _ARTICLE.sub("", _RELATIVE.sub("", clause)).strip()
            words = _WORDS.findall(phrase)
            if not 2 <= len(words) <= max_words or fragment(phrase, sentences=False):
                continue
            if {w.casefold() for w in words} <= title_words or _about_a_part(phrase, kind_words):
                continue
            if _count_cut_short(words):
                continue  # "Six double-ended loop" of "six double-ended loop and ribbon tools"
            found.append(phrase[0].lower() + phrase[1:] if _lower_ok(phrase) else phrase)
            had = _WITH.match(phrase) or _INCLUDED.match(phrase)
            if had is not None and 1 <= len(_WORDS.findall(had["what"])) <= 4:
                found.append(f"with {had['what']}")
    # Shorter pieces of those clauses for the shortest channels: their endings of two to four
    # words ("dome tent", "under five minutes"), and a clause's first word where it describes
    # ("Freestanding").
    pieces: list[str] = []
    for phrase in list(found):
        words = phrase.split()
        for size in range(min(4, len(words) - 1), 1, -1):
            piece = " ".join(words[len(words) - size :])
            if words[len(words) - size - 1].endswith(","):
                continue  # "triangles and arches" of "squares, triangles and arches": a cut list
            before = words[len(words) - size - 1].casefold().strip(",;:")
            first = words[len(words) - size].casefold().strip(",;:")
            if (
                before in DANGLING
                or before in _SAYS_OF
                or before[:1].isdigit()
                or not first[:1].isalpha()
                or first in _NUMBER_WORDS
                or first in _PART_VERBS
                or first.endswith(("ed", "ing"))
                or first in _UNIT_WORDS
                or before in _UNIT_WORDS  # "maximum output" of "5 W maximum output"
                or _adjective_like(before)  # "water feed" of "a continuous water feed"
                or (first in _MEASURE_NOUNS and before not in DANGLING)  # "cable length 1.6 m"
                or _cut_compound(before, first, words[len(words) - size + 1 :])
            ):
                # "cuts branches up to 20 mm thick", "will not crack in frost", "clearance
                # for 45 mm tyres": the piece means something else without what comes first.
                continue
            content = [w for w in _WORDS.findall(piece) if w.casefold() not in DANGLING]
            if not content or {w.casefold() for w in content} <= title_words:
                continue
            if _measure_only(content):
                continue  # "20 mm", "up to 6 months": a number that says of what is gone
            if fragment(piece, sentences=False) is None and not _starts_dangling(piece):
                pieces.append(piece)
        # Not a verb form alone: "Weighing", "Tasting" need what follows them.
        first = words[0].strip(",;:")
        head = _noun_head(phrase)
        if (
            len(words) > 1
            and first.isalpha()
            and len(first) >= 6
            and _adjective_like(first.casefold())
            and head in itself
            and (words[1].casefold().strip(",;:") in title_words or _capability(first))
            and first.casefold() not in title_words
        ):
            # "Freestanding dome tent", "Reusable plastic snap traps with …" (the tent, the
            # traps are the product), never "adjustable footrest" (only the footrest is) nor
            # "adjustable temperature" of a station whose title names its temperature (round
            # 13: "Soldering Station: Adjustable" read as cut off, scored 0 twice).
            pieces.append(first)
    # A sentence's own first word where it describes the product and its clause is too long
    # to be a phrase above: "Double-edged pull saw with a 240 mm blade: …" -> "Double-edged",
    # "Chest-mounted light with …" -> "Chest-mounted" (round 6's headlines were the bare name)
    for sentence in _SENTENCE.findall(description):
        words = sentence.split()
        first = words[0].strip(",;:") if words else ""
        if (
            len(words) > 2
            and "-" in first
            and first.replace("-", "").isalpha()
            # "Double-edged", "Chest-mounted"; not "Hot-dip" (galvanised) or "Single-barrel"
            and first.casefold().endswith(("ed", "proof", "resistant", "safe", "tight"))
            and not set(first.casefold().split("-")) <= title_words  # "Roll-top" of a Roll-Top …
            and words[1].casefold().strip(",;:") in title_words
        ):
            pieces.append(first)
        head = _noun_head(sentence)
        if (
            len(words) > 2
            and first.isalpha()
            and len(first) >= 6
            and _capability(first)
            and head in itself
            and first.casefold() not in title_words  # "Adjustable Aquarium Heater"
        ):
            pieces.append(first)  # "Reusable plastic snap traps with removable bait cup."
    found.extend(sorted(dict.fromkeys(pieces), key=len, reverse=True))
    for key, value in attributes.items():
        named = [w.casefold() for w in re.split(r"[_\-\s]+", str(key)) if w]
        if len(named) >= 2 and named[0] not in itself and named[0] not in _OWN_ASPECTS:
            # "rosin_type": "crushed pine" is the rosin's, not the rosin box's ("Dance Rosin
            # Box: Crushed pine" was read as a box of crushed pine, round 20)
            continue
        words = _WORDS.findall(value) if isinstance(value, str) else []
        if not 2 <= len(words) <= 4 or {w.casefold() for w in words} <= title_words:
            continue
        # A phrase of words ("merino wool", "USB-C rechargeable"), not a measure ("92x60x8").
        if sum(any(c.isdigit() for c in w) for w in words) <= 1 and not _MEASURE.search(value):
            found.append(value)
    return list(
        dict.fromkeys(
            p
            for p in found
            if p and not _weak_opening(p) and not _denies(p) and not _warned_of(p, description)
        )
    )


#: What opens a clause that warns or forbids ("Never leave it charging unattended, and do not
#: use a battery that is swollen or damaged").
_WARNING = re.compile(r"^\s*(?:and\s+)?(?:never|do\s+not|don['’]t|avoid)\b", re.IGNORECASE)
#: A point's first word that leaves it without its subject or its verb ("is swollen or
#: damaged", "it charging unattended", "straight away": round 21's "Battery: Is swollen or
#: damaged" and "Trowel: Straight away" passed the gates).
_NO_POINT_OPENING = frozenset(
    "is are was were be been it they them its their straight away right other some".split()  # noqa: SIM905
)


def _warned_of(point: str, description: str) -> bool:
    """Whether a point opens without its subject or verb, or comes out of a clause that warns
    or forbids (what a warning names is no selling point)."""
    first = point.split()[0].casefold() if point.split() else ""
    if first in _NO_POINT_OPENING:
        return True
    at = description.casefold().find(point.casefold())
    if at < 0:
        return False
    start = max(description.rfind(mark, 0, at) for mark in ".;,:")
    before = description[start + 1 : at]
    # "Gold Pan, rivers need a permit" of "…, as many rivers need a permit" (round 21): the
    # reason a warning gives is no more a point than the warning
    return bool(_WARNING.match(before) or _REASON_BEFORE.search(before))


_REASON_BEFORE = re.compile(r"\b(?:as|because|since)\s+(?:[\w-]+\s+)?$", re.IGNORECASE)


#: An attribute key's first word that is an aspect of the product itself, not a part of it
#: ("frame_material" names the frame; "fill_power" and "main_colour" are the product's).
_OWN_ASPECTS = frozenset(
    "main overall total outer shell fill fabric material colour color finish style shape type "  # noqa: SIM905
    "fit weight size max min net".split()
)


#: What a product's own clause says it has: "… with a 50 cm laser-cut blade and 18 mm tooth
#: spacing", "includes a 2-inch Crayford focuser".
_HAS_WHAT = re.compile(
    r"\b(?:with|includes?|has|have|features?)\s+(?P<what>[^;:()]+)", re.IGNORECASE
)
_ITEM_SPLIT = re.compile(r",\s*(?:and\s+)?|\s+and\s+|\s+or\s+")
_LEADING_MEASURE = re.compile(
    r"^(?:(?:a|an|the|its|two|three|four|five|six|eight|ten)\s+)?"
    r"(?:\d+(?:[.,]\d+)?(?:[-\s]?(?:mm|cm|m|in|inch|g|kg|ml|l|w|v|mah)\b\.?)?\s+)?",
    re.IGNORECASE,
)


def feature_points(title: str, description: str) -> list[str]:
    """Short features a product's own clause says it has ("laser-cut blade" of "18 V hedge
    trimmer with a 50 cm laser-cut blade and 18 mm tooth spacing", "Crayford focuser"): two or
    three words that end in a noun, a measure before them left out. For a short headline whose
    title leaves no room for a longer point (round 12: a third of the benchmark products had
    no headline point that fits 30 characters, and their headlines were the bare name)."""
    title_words = {w.casefold() for w in _WORDS.findall(title)}
    kind_words = {w.casefold() for w in _WORDS.findall(_TITLE_CUT.split(title, maxsplit=1)[0])}
    from contentfab.workers.copy.senses import instruction_clauses  # cycle, as above

    found: list[str] = []
    told = set(instruction_clauses(description))
    for sentence in _SENTENCE.findall(description):
        for clause in re.split(r";\s+|\.\s+", sentence.strip()):
            match = _HAS_WHAT.search(clause)
            if match is None or clause.strip(" .!?").casefold() in told:
                continue  # "Cut it with sharp fabric scissors": what the reader uses
            head = clause[: match.start()]
            if head.strip() and not _about_product(head, kind_words | _PRONOUNS):
                continue  # "the receiver has …": said of a part
            what = _FEATURE_END.split(match["what"])[0]
            for item in _ITEM_SPLIT.split(what.strip(" .")):
                item = _LEADING_MEASURE.sub("", item.strip()).strip()
                words = _WORDS.findall(item)
                # two or three words: "removable tray", "hydraulic disc brakes" ("towers",
                # "motors" alone say little)
                if not 2 <= len(words) <= 3 or len(item) > 24 or not item[:1].isalpha():
                    continue
                last = words[-1].casefold()
                if (
                    last in DANGLING
                    or last in _UNIT_WORDS
                    or last in _MEASURE_NOUNS
                    or words[0].casefold() in DANGLING | _WITH_WORDS
                    or _denies(item)
                    or _adjective_like(last)
                    or last.endswith(("ed", "ing", "ly", "wise"))
                    or any(c.isdigit() for c in item)
                    or {w.casefold() for w in words} <= title_words
                ):
                    continue
                found.append(item)  # as the clause writes it ("Crayford focuser")
    return list(dict.fromkeys(found))


_PRONOUNS = frozenset({"it", "they"})
#: A counted plural noun: "12 round cavities", "six loop and ribbon tools".
_COUNTED = re.compile(
    r"\b(?:\d+|two|three|four|five|six|seven|eight|nine|ten|twelve)\s+(?:[\w-]+\s+){0,3}?"
    r"([^\W\d_]+s)\b",
    re.IGNORECASE,
)
_MEASURE_LIST = re.compile(
    r"^\d[\d.,]*\s*[^\W\d_]{0,3}(?:\s*,\s*\d[\d.,]*\s*[^\W\d_]{0,3})*\s+(?:and|or)\s+"
    r"\d[\d.,]*\s*[^\W\d_]{0,3}$"
)
_ENDS_IN_MEASURE = re.compile(r"\d[\d.,]*\s*[^\W\d_]{0,3}\s*$")
#: A clause that is only a measure: "20 cm long", "each 4.5 cm diameter", "10 x 15 cm".
_BARE_MEASURE = re.compile(
    r"^(?:each\s+|about\s+|approx\.?\s+)?\d[\d.,]*(?:\s*[x×]\s*\d[\d.,]*)*\s*[^\W\d_]{0,3}\.?"
    r"(?:\s+(?:long|wide|tall|high|deep|thick|across|diameter|in\s+diameter))?$",
    re.IGNORECASE,
)
#: Where what a product has ends: "… with a 50 cm blade, weighing 2.4 kg without battery".
_FEATURE_END = re.compile(
    r"\s+(?:that|which|for|to|from|on|in|at|via|through|without|weighing|except)\s+",
    re.IGNORECASE,
)
_WITH_WORDS = _wordset("including includes include with featuring")


def _cut_compound(before: str, first: str, rest: list[str]) -> bool:
    """Whether a piece opens with a noun cut from the noun before it and goes on with its
    purpose: "top for ventilation" of "mesh top for ventilation", "glue to assemble" of "wood
    glue to assemble" (round 14: "Terrarium: Top for ventilation", "Rocket Kit: Glue to
    assemble" read as the product's top, its glue)."""
    return (
        bool(rest)
        and rest[0].casefold() in ("for", "to")
        and before.isalpha()
        and before not in DANGLING
        and before not in _PART_VERBS
        and not before.endswith(("s", "ed", "ing"))
        and not _adjective_like(before)
        and first.isalpha()
    )


def _denies(phrase: str) -> bool:
    """A point is something the product has or does: "Target Boss: Face not included" and
    "Waders – boots (not included)" (round 5's composed candidates) say what it lacks."""
    return bool(_DENIALS & {w.casefold() for w in _WORDS.findall(phrase)})


_DENIALS = frozenset(
    {"not", "no", "without", "never", "separately", "excluded"}
    # a warning's words: "Lollipop Mould: Serious burns" (round 15) of "hot sugar syrup causes
    # serious burns"
    | {"serious", "injury", "injuries", "hazard", "danger", "dangerous", "choking"}
)


def _count_cut_short(words: list[str]) -> bool:
    """A count above one before a singular noun with nothing between them but modifiers: the
    phrase stopped at the first of two nouns that share the count ("six double-ended loop
    [and ribbon tools]"). "twelve to a tube" and "2 kg bag" say something complete."""
    if len(words) < 2 or any(w.casefold() in DANGLING for w in words):
        return False
    first, last = words[0].casefold(), words[-1].casefold()
    if first.isdigit():  # "2 kg bag": a measure, not a count
        many = int(first) > 1 and words[1].casefold() not in _UNIT_WORDS
    else:
        many = first in _NUMBER_WORDS and first != "one"
    return many and not last.endswith("s")


#: Words a selling point does not open with: what follows them is said of something the
#: phrase has lost ("Wall Lamp: Against the wall", "Side Tables: Once a year", "Goggles: So
#: rinse", "Cloths: One for the bathroom").
_WEAK_OPENERS = _wordset("against once twice so then also too one inside outside after before")


def _weak_opening(phrase: str) -> bool:
    first = _WORDS.findall(phrase)[:1]
    return bool(first) and first[0].casefold() in _WEAK_OPENERS


_UNIT_WORDS = _wordset("mm cm m km g kg mg ml l w v mah h min s lm psi bar x")
#: A measure's noun: after another noun it is that noun's measure ("cable length 1.6 m").
_MEASURE_NOUNS = _wordset(
    "length width height depth weight diameter thickness size capacity spacing profile range"
)
#: Words after which the rest of a clause is no claim of its own ("will not crack").
_SAYS_OF = _wordset("not no never will would cannot can't won't clearance room space")


def _content(head: str) -> list[str]:
    """A clause's words before its "that"/"which", less function words."""
    return [
        w.casefold()
        for w in _WORDS.findall(head)
        if w.casefold() not in DANGLING and w.casefold() not in ("that", "which", "who")
    ]


def _of_a_part(
    clause: str, attributes: Mapping[str, Any], kind_words: set[str], *, each: bool = False
) -> bool:
    """Whether a clause names a part, so that a measure after it is the part's: what the
    product includes ("Includes 50 paper sticks, 10 cm long"), or a noun an attribute's key
    gives a measure of ("Stainless probe, 20 cm long" with ``probe_length_cm``). Not "French
    rolling pin without handles, 50 cm long" or "Walnut veneer box …, 28 x 21 x 10 cm" (a
    clause's last noun is not always what a measure after it measures)."""
    if _WITH.match(clause.strip()):
        return True
    if each:
        # "mould with 12 round cavities, each 4.5 cm diameter": each of what was counted (not
        # "six loop and ribbon tools with beech handles, each 20 cm long")
        counted = list(_COUNTED.finditer(clause))
        if not counted or re.match(r"\s+of\b", clause[counted[-1].end() :]):
            return False  # "ten lengths of flexible track, each 91 cm long": the track's
        last = counted[-1].group(1).casefold()
        return not {last, last.rstrip("s")} & kind_words
    head = _noun_head(_ARTICLE.sub("", clause.strip())).rstrip("s")
    if {head, f"{head}s"} & kind_words:
        return False  # "Ash and birch logs, 25 cm long" of "Hardwood Logs"
    keys = [str(key).casefold().split("_") for key in attributes]
    return bool(head) and any(
        len(words) >= 2 and words[0].rstrip("s") == head and words[1] in _MEASURE_NOUNS
        for words in keys
    )


def _about_product(head: str, title_words: set[str]) -> bool:
    """Whether the part of a clause before its "that"/"which" names the product itself (or
    nothing): "Bypass secateurs that …" yes, "a chest pocket that …" no."""
    content = _content(head)
    return not content or content[-1] in title_words or content[-1].rstrip("s") in title_words


def _part_subject(sentence: str, kind_words: set[str], parts: set[str]) -> bool:
    """Whether a sentence opens with a part as its subject: an article, a part the title or
    an attribute key names (:func:`workers.copy.compose.part_words`), and a verb in -s ("The
    supplied cartridge combines …", "Each cartridge lasts …"), before any comma."""
    words = [w.casefold() for w in _WORDS.findall(sentence.split(",", 1)[0])]
    if len(words) < 3 or words[0] not in _SUBJECT_OPENERS:
        return False
    for k in range(2, min(6, len(words))):
        word = words[k]
        if word in _PART_VERBS or (
            len(word) > 3 and word.endswith("s") and not word.endswith("ss")
        ):
            head = words[k - 1]
            return head.rstrip("s") in parts and head not in kind_words
    return False


def _about_a_part(phrase: str, title_words: set[str]) -> bool:
    """Whether a clause says something of a named part ("the lid doubles as a cup" after
    its article is gone: "lid doubles as a cup", "birch helper handle stays cool"): words
    that are not the product's name, then a verb."""
    words = [w.casefold() for w in _WORDS.findall(phrase)]
    for k in range(1, min(4, len(words) - 1) + 1):
        # "ramp joins the two levels" (round 24's "Rabbit Hutch: Joins the two levels"): a verb
        # in -s before its object's article, though no list of verbs has it
        verb_s = (
            k + 1 < len(words)
            and words[k].endswith("s")
            and not words[k].endswith("ss")
            and words[k + 1] in ("the", "a", "an", "its", "your", "their")
        )
        if words[k] in _PART_VERBS or verb_s:
            subject = words[:k]
            return not all(w in title_words or w.rstrip("s") in title_words for w in subject)
        if words[k - 1] in _PART_VERBS:
            return False  # the clause opens with its verb: it is said of the product
    return False


_PART_VERBS = _wordset(
    "is are has have doubles stays keeps fits folds turns holds packs lasts runs works "
    "returns locks opens closes clips attaches converts connects covers lifts stores shows "
    "sold comes last charges takes measures weighs includes glows rotates adjusts slides "
    "zips snaps can could will may must"
)


def _measure_only(words: list[str]) -> bool:
    """Whether a piece's words are only numbers and units ("2.4 kg", "6 months", "20 mm")."""
    return all(w[:1].isdigit() or len(w) <= 3 or w.casefold() in _TIME_UNITS for w in words)


_TIME_UNITS = _wordset("hours minutes seconds months years weeks days litres liters metres meters")


def _starts_dangling(piece: str) -> bool:
    first = _WORDS.findall(piece)[:1]
    return bool(first) and first[0].casefold() in DANGLING


def _lower_ok(phrase: str) -> bool:
    first = phrase.split()[0]
    return first[:1].isupper() and first[1:].islower()


_MEASURE = re.compile(r"\d\s*[x×]\s*\d")


def compose(name: str, point: str) -> Iterable[str]:
    """Ways to put a name and a selling point together in a short line. A point the record
    says with its own "with" ("comes with a padded cloth bag", "mop heads included") follows
    the name as it is ("Spinning Rod with padded cloth bag"), where "Spinning Rod: Cloth bag"
    reads as if the rod were a bag."""
    if point.casefold().startswith("with "):
        yield f"{name} {point}"
        return
    yield f"{name}: {point[0].upper()}{point[1:]}"
    yield f"{name} – {point}"
    yield f"{name}, {point}"


# "an" before a vowel sound: vowel letters, less the "you"/"wun" sounds; numbers said "eight",
# "eleven", "eighteen", "eighty…" ("a 18/10 stainless steel kettle" was labelled an error)
