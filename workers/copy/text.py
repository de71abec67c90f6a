"""Reading copy as text: whether it ends complete, and the phrases a product's data offers.

* :func:`fragment` — a delivered text ends where a sentence or a complete phrase ends: no
  trailing article, preposition, conjunction or auxiliary, no dangling punctuation, no
  unclosed bracket or quote, no one-word sentence after another sentence.
* :func:`head_name` — a short name from a long title's head noun phrase
  ("The Extremely Long-Named Professional Chef's Knife Set With Wooden Block" ->
  "Chef's Knife Set"), for short channels the full title cannot fit.
* :func:`selling_points` — short phrases taken from the product's own description and
  attributes ("odour resistant", "pitches in under five minutes", "IP67"): material the
  copy for short channels may use.

Pure functions over strings; English function-word lists; no model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: Words a complete text does not end with.
DANGLING = _wordset(
    """a an the and or but nor so yet if than that which who whose whom when while because
    since until although though whether of for with to in on at by from into onto over under
    about around through across along between without within via as like per your our their
    its my his her this these those is are was were be been being am has have had do does did
    can could will would shall should may might must very more most such each every any some
    no not just also even only both either neither plus versus vs"""
)
#: Words a complete text does not start with (it would be the tail of a sentence).
TAIL_OPENERS = _wordset("and or but nor because which whose whom whereas")

_SENTENCE = re.compile(r".+?(?:[.!?]+(?=\s|$)|$)", re.DOTALL)
_WORDS = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_DANGLING_PUNCTUATION = tuple(",:;-–—(&+/")
_DETERMINERS = _wordset("a an the your its our their this that these those my")
_PREPOSITIONS = _wordset("in on at with by from into onto of to")
_ADJECTIVE_ENDINGS = ("ful", "ous", "ive", "able", "ible", "al", "ic", "less", "ish", "est")
_ADJECTIVES = _wordset(
    "warm soft great good perfect new easy simple light cool hot cold dry big small quick "
    "smooth strong gentle fresh bright quiet clean"
)


def _adjective_like(word: str) -> bool:
    return word in _ADJECTIVES or (len(word) > 4 and word.endswith(_ADJECTIVE_ENDINGS))


_CLOSERS = "\"'”’)]»"
_FULL_STOP = (".", "!", "?", "…")


def fragment(text: str, *, sentences: bool) -> str | None:
    """Why ``text`` reads cut off, or None when it ends complete. ``sentences``: the channel
    writes sentences (not a headline or a subject line), each line ending with . ! ? or …"""
    stripped = text.strip()
    if not stripped:
        return "empty"
    words = _WORDS.findall(stripped)
    if not words:
        return None
    if stripped.rstrip(_CLOSERS).endswith(_DANGLING_PUNCTUATION):
        return f"ends with {stripped.rstrip(_CLOSERS)[-1]!r}"
    last = words[-1].casefold()
    if last in DANGLING and not stripped.rstrip(_CLOSERS).endswith(("!", "?")):
        return f"ends with {words[-1]!r}"
    if (
        len(words) >= 2
        and words[-2].casefold() in _DETERMINERS
        and _adjective_like(last)
        and not stripped.rstrip(_CLOSERS).endswith(_FULL_STOP)
    ):
        return f"ends with a modifier ({words[-2]} {words[-1]!r})"
    if (
        len(words) >= 2
        and words[-2].casefold() in ("a", "an")
        and last.endswith("ed")
        and not stripped.rstrip(_CLOSERS).endswith(("!", "?"))
    ):
        # "… with a pointed tip and a rounded." (round 7): "a" and a participle, no noun
        return f"ends with a modifier ({words[-2]} {words[-1]!r})"
    if (
        words[0].casefold() in _PREPOSITIONS
        and len(words) < 6
        and not re.search(r"[:,;–—!?.]", stripped)
    ):
        return f"a phrase starting with {words[0]!r} and nothing else"
    if words[0].casefold() in TAIL_OPENERS:
        return f"starts with {words[0]!r}"
    if stripped.count("(") != stripped.count(")"):
        return "an unclosed bracket"
    if stripped.count('"') % 2 or stripped.count("“") != stripped.count("”"):
        return "an unclosed quote"
    if sentences and not stripped.rstrip(_CLOSERS).endswith(_FULL_STOP):
        return "the last sentence is unfinished"
    if sentences:
        for line in stripped.splitlines():
            if _WORDS.search(line) and not line.strip().rstrip(_CLOSERS).endswith(_FULL_STOP):
                return f"a line ends unfinished ({line.strip()[-30:]!r})"
    parts = [p.strip() for p in _SENTENCE.findall(stripped) if _WORDS.search(p)]
    if len(parts) > 1:
        for part in parts:
            if len(_WORDS.findall(part)) < 2:
                return f"a one-word sentence ({part!r})"
    return None


#: Words that change what a material is when they come after it ("gold plating" is no gold,
#: "oak veneer" no solid oak, "gold-tone", "leather look") or before it ("faux leather").
#: Not "finish" or "print": "matte black finish" is black.
#: A grade or purity ("18k", "925") is no such word: "gold" of "18k gold" says less, not
#: something else, and the number gate keeps any number that is said.
_CHANGES_AFTER = _wordset("plating plated coating coated veneer effect look tone")
_CHANGES_BEFORE = _wordset("faux imitation simulated artificial laminate laminated vegan")
_HYPHENATED = re.compile(r"[^\W_]+")


def dropped_qualifiers(
    text: str, record: Iterable[str], attributes: Mapping[str, Any] | None = None
) -> list[str]:
    """Words of ``text`` the record only ever writes beside a word that changes what they are
    (:data:`_CHANGES_AFTER`, :data:`_CHANGES_BEFORE`), said without it: "18k gold" where the
    record says "18k gold plating", "Gold-Plated" or ``plating: 18k gold``. ``record``: its
    texts (title, description, category); an attribute whose key is such a word reads as
    "value key"."""
    texts = list(record)
    for key, value in (attributes or {}).items():
        if isinstance(value, bool) or value is None:
            continue  # a flag ("vegan": true) qualifies nothing
        key_words = {w.casefold() for w in _HYPHENATED.findall(str(key))}
        pair = (value, key) if key_words & _CHANGES_AFTER else (key, value)
        texts.append(f"{pair[0]} {pair[1]}")
    record_words: list[str] = []
    for piece in texts:  # no word is beside another text's word
        record_words.extend([w.casefold() for w in _HYPHENATED.findall(str(piece))] + [""])
    qualified: dict[str, set[str]] = {}
    bare: set[str] = set()
    changers = _CHANGES_AFTER | _CHANGES_BEFORE
    for i, word in enumerate(record_words):
        if not word.isalpha() or word in DANGLING or word in changers:
            continue
        after = record_words[i + 1] if i + 1 < len(record_words) else ""
        before = record_words[i - 1] if i else ""
        if after in _CHANGES_AFTER or before in _CHANGES_BEFORE:
            qualified.setdefault(word, set()).add(_stem(after if after in changers else before))
        else:
            bare.add(word)
    words = [w.casefold() for w in _HYPHENATED.findall(text)]
    found = []
    for i, word in enumerate(words):
        if word not in qualified or word in bare:
            continue
        beside = {_stem(w) for w in words[max(0, i - 1) : i + 2]}
        if not beside & qualified[word]:
            found.append(word)
    return list(dict.fromkeys(found))


def _stem(word: str) -> str:
    """ "plating", "plated" -> "plat"; "coated", "coating" -> "coat"."""
    for suffix in ("ing", "ed", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


_TITLE_CUT = re.compile(
    r"\s+(?:with|for|in|featuring|incl\.?|including)\s+|\s+[-–—|:/]\s+|[,(\[]", re.IGNORECASE
)
_SPEC = re.compile(r"^(?:[+±-]?\d[\w.,/×x'′–-]*[\"″'′]?|[IVX]+|\d+\s*%)$")  # "+2.0" too
#: A model code: letters and digits in one word ("KS-500", "AQ-3", "H9", "VG1", "CX-9").
_CODE = re.compile(r"^(?=[\w-]*\d)(?=[\w-]*[^\W\d_])[\w]+(?:-[\w]+)*$")
_LEADING = _wordset("the a an new")
_BARE_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?\+?$")


def head_name(title: str, *, max_chars: int = 18, context: str = "") -> str | None:
    """A short name for ``title`` from its head noun phrase: the part before a "with", "for",
    dash or bracket, without sizes, units and model codes, two or more of its words up to
    ``max_chars`` (or its last word alone). Where a title ends in a word and a plain number
    and ``context`` (the product's description) names the word before them but not that word,
    the word is the model's name: "Figure Skates Glide 200" -> "Figure Skates", not "Skates
    Glide". None when the title is already that short, or no such phrase fits."""
    if len(title) <= max_chars:
        return None
    base = _TITLE_CUT.split(title, maxsplit=1)[0].strip()
    tokens = base.split()
    words: list[str] = []
    after_number = False
    named_model = False  # the last word kept stands before a model number or code
    for k, word in enumerate(tokens):
        following = tokens[k + 1] if k + 1 < len(tokens) else ""
        if _SPEC.match(word) or (_CODE.match(word) and not _SPEC.match(following)):
            unit = following and (len(following) <= 3 or not following.isalpha())
            # "Glide 200", "Vento 84": a word and a plain number at the end name a model
            named_model = (
                word.isdigit() and not unit and bool(words) and tokens[k - 1] == words[-1]
            ) and words[-1][:1].isupper()
            after_number = True
            continue
        if word.isupper() and len(word) > 1 and _BARE_NUMBER.match(following):
            continue  # "SPF 50", "SR 270": a code's letters before its number; not "SSD 1TB"
        if after_number and (len(word) <= 3 or not word[0].isalnum() or not word.isalpha()):
            continue  # the unit of a size ("750 ml", "0 °C", "200 g/m²")
        after_number = named_model = False
        words.append(word)
    while words and words[0].casefold() in _LEADING:
        words = words[1:]
    # "Cutting Board Set of 3" -> "... Set"; a title's "Can" is a noun ("Watering Can").
    while words and (
        (words[-1].casefold() in DANGLING and words[-1] != "Can")
        or not any(c.isalnum() for c in words[-1])
    ):
        words = words[:-1]
    said = {_plain(w) for w in _WORDS.findall(context.casefold())}
    if (
        named_model
        and len(words) > 2
        and _plain(words[-1].casefold()) not in said
        and _plain(words[-2].casefold()) in said
    ):
        words = words[:-1]  # "Figure Skates Glide 200": the skates' model is "Glide 200"
    name = _longest_fitting(words, max_chars)
    last = words[-1] if words else ""
    if (
        name is None
        and len(last) >= 4
        and last.isalpha()
        and last[0].isupper()
        and not _adjective_like(last.casefold())  # "Portable" names nothing
    ):
        name = last  # "Wireless Noise-Cancelling Headphones H9" -> "Headphones"
    return name


def _longest_fitting(words: list[str], max_chars: int) -> str | None:
    """The longest run of two or more of ``words`` that ends at the last and fits."""
    for start in range(len(words) - 1):
        if words[start].casefold() in DANGLING or not words[start][:1].isalnum():
            continue  # not "and Divot Tool" from "Magnetic Ball Marker and Divot Tool"
        name = " ".join(words[start:])
        if len(name) <= max_chars and _balanced(name):
            return name
    return None


def _balanced(name: str) -> bool:
    """No quote or bracket opened and left open ("à dos « Randonnée")."""
    return all(name.count(a) == name.count(b) for a, b in ("«»", "„“", "()", "[]"))


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


def _list_words(clause: str) -> list[str]:
    """A clause's words but "and" and "or": "L and XL" is a list's two items."""
    return [w for w in _WORDS.findall(clause) if w.casefold() not in ("and", "or")]


def _plain(word: str) -> str:
    """ "skates" -> "skate", "batteries" -> "battery": enough to match a title's word."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


_CLAUSE = re.compile(r"[.;!?]\s+|,\s+(?:and\s+)?|\s+and\s+(?=[a-z])|\s+[-–—]\s+")
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
    for sentence in _SENTENCE.findall(description):
        clauses = _whole_lists(sentence.strip(), _CLAUSE.split(sentence.strip()))
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
            opening = _WORDS.findall(clause)[:1]
            if after_part and opening and opening[0].casefold() in _PART_VERBS:
                # "the receiver has a 200 m range and charges by USB": the receiver charges
                part_before = True
                continue
            relative = _RELATIVE.match(clause)
            if relative is not None and not _about_product(relative.group(), kind_words):
                continue  # "a chest pocket that doubles as a stuff sack": the pocket does
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
            and (
                words[1].casefold().strip(",;:") in title_words
                or (
                    head in kind_words
                    and _capability(first)
                    and first.casefold() not in title_words
                    and head != first.casefold()
                )
            )
        ):
            # "Freestanding dome tent", "Reusable plastic snap traps with …" (the tent, the
            # traps are the product), never "adjustable footrest" (only the footrest is).
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
            and head in kind_words
            and first.casefold() not in title_words  # "Adjustable Aquarium Heater"
        ):
            pieces.append(first)  # "Reusable plastic snap traps with removable bait cup."
    found.extend(sorted(dict.fromkeys(pieces), key=len, reverse=True))
    for value in attributes.values():
        words = _WORDS.findall(value) if isinstance(value, str) else []
        if not 2 <= len(words) <= 4 or {w.casefold() for w in words} <= title_words:
            continue
        # A phrase of words ("merino wool", "USB-C rechargeable"), not a measure ("92x60x8").
        if sum(any(c.isdigit() for c in w) for w in words) <= 1 and not _MEASURE.search(value):
            found.append(value)
    return list(dict.fromkeys(p for p in found if p and not _weak_opening(p) and not _denies(p)))


def _denies(phrase: str) -> bool:
    """A point is something the product has or does: "Target Boss: Face not included" and
    "Waders – boots (not included)" (round 5's composed candidates) say what it lacks."""
    return bool(_DENIALS & {w.casefold() for w in _WORDS.findall(phrase)})


_DENIALS = frozenset({"not", "no", "without", "never", "separately", "excluded"})


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
_WEAK_OPENERS = _wordset("against once twice so then also too one inside outside")


def _weak_opening(phrase: str) -> bool:
    first = _WORDS.findall(phrase)[:1]
    return bool(first) and first[0].casefold() in _WEAK_OPENERS


_NUMBER_WORDS = _wordset("one two three four five six seven eight nine ten twelve dozen")
_UNIT_WORDS = _wordset("mm cm m km g kg mg ml l w v mah h min s lm psi bar x")
#: A measure's noun: after another noun it is that noun's measure ("cable length 1.6 m").
_MEASURE_NOUNS = _wordset("length width height depth weight diameter thickness size capacity")
#: Words after which the rest of a clause is no claim of its own ("will not crack").
_SAYS_OF = _wordset("not no never will would cannot can't won't clearance room space")


def _about_product(head: str, title_words: set[str]) -> bool:
    """Whether the part of a clause before its "that"/"which" names the product itself (or
    nothing): "Bypass secateurs that …" yes, "a chest pocket that …" no."""
    content = [
        w.casefold()
        for w in _WORDS.findall(head)
        if w.casefold() not in DANGLING and w.casefold() not in ("that", "which", "who")
    ]
    return not content or content[-1] in title_words or content[-1].rstrip("s") in title_words


def _about_a_part(phrase: str, title_words: set[str]) -> bool:
    """Whether a clause says something of a named part ("the lid doubles as a cup" after
    its article is gone: "lid doubles as a cup", "birch helper handle stays cool"): words
    that are not the product's name, then a verb."""
    words = [w.casefold() for w in _WORDS.findall(phrase)]
    for k in range(1, min(4, len(words) - 1) + 1):
        if words[k] in _PART_VERBS:
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
_AN_WORD = re.compile(r"^(?:[aio]|e(?!u|we)|u(?!ni|s[eu]|ti|ro|re|ra|k))", re.IGNORECASE)
_SAID_WITH_W = _wordset("one once ones")
_SILENT_H = re.compile(r"^(?:hour|honest|honou?r|heir)", re.IGNORECASE)
_DIGITS = re.compile(r"^\d+(?:,\d{3})*")


def _said_with_vowel(number: str) -> bool | None:
    """Whether a number is said with a vowel first ("8", "80", "800", "11", "18", "18,000"), or
    None where it depends on how it is read ("1100": "eleven hundred" or "one thousand …")."""
    digits = _DIGITS.match(number)
    if digits is None:
        return None
    whole = digits.group().replace(",", "")
    if whole.startswith("8"):
        return True
    if whole in ("11", "18") or (len(whole) == 5 and whole[:2] in ("11", "18")):
        return True
    if len(whole) == 4 and whole[:2] in ("11", "18"):
        return None
    return False


_ARTICLE_BEFORE = re.compile(r"\b(?P<a>[Aa]n?)\s+(?P<word>[^\s]+)")


def fix_articles(text: str) -> str:
    """ "a" or "an" as the next word sounds: "an 18/10 kettle", "an oval", "a USB port" stays
    (a capitalised abbreviation is said letter by letter or as a word: left as written)."""

    def choose(match: re.Match[str]) -> str:
        article, word = match.group("a"), match.group("word")
        bare = word.lstrip("\"'“‘(")
        if not bare or (bare.isupper() and len(bare) > 1):
            return match.group()
        if re.split(r"[^\w]", bare.casefold(), maxsplit=1)[0] in _SAID_WITH_W:
            wants_an = False
        elif bare[0].isdigit():
            said = _said_with_vowel(bare)
            if said is None:
                return match.group()
            wants_an = said
        elif bare[0].isalpha():
            wants_an = _AN_WORD.match(bare) is not None or _SILENT_H.match(bare) is not None
        else:
            return match.group()
        if wants_an == (article.casefold() == "an"):
            return match.group()
        fixed = "an" if wants_an else "a"
        fixed = fixed.capitalize() if article[0].isupper() else fixed
        return f"{fixed} {word}"

    return _ARTICLE_BEFORE.sub(choose, text)
