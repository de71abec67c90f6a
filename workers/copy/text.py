"""Reading copy as text: whether it ends complete, a short name, articles that fit.

* :func:`fragment` — a delivered text ends where a sentence or a complete phrase ends: no
  trailing article, preposition, conjunction or auxiliary, no dangling punctuation, no
  unclosed bracket or quote, no one-word sentence after another sentence.
* :func:`head_name` — a short name from a long title's head noun phrase
  ("The Extremely Long-Named Professional Chef's Knife Set With Wooden Block" ->
  "Chef's Knife Set"), for short channels the full title cannot fit.
* :func:`fix_articles` — "a"/"an" as the next word sounds ("an 18/10 kettle").

The phrases a product's data offers for short channels: :mod:`workers.copy.points`.

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

#: Abbreviations whose full stop ends no sentence when a lower-case word, a number or a
#: bracket follows ("Weight approx. 1.5 kg per oar", "44 x 60 in. (112 x 152 cm)"; round 12's
#: records were cut there into "Weight approx", delivered as a subject line).
_ABBREVIATIONS = "".join(
    rf"(?<!\b{a})"
    for a in [
        "approx",
        "incl",
        "excl",
        "ca",
        "no",
        "nr",
        "in",
        "ft",
        "oz",
        "lb",
        "max",
        "min",
        "dia",
        "vs",
        "pcs",
        "pc",
        "qty",
        "ref",
        "e.g",
        "i.e",
    ]
)
#: A sentence's end: "!", "?", or a full stop that is no abbreviation's before more of it.
SENTENCE_END = rf"(?:[!?]|\.(?!\s+[a-z0-9(])|{_ABBREVIATIONS}\.)"
_SENTENCE = re.compile(rf".+?(?:{SENTENCE_END}[.!?]*(?=\s|$)|$)", re.DOTALL)
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
_COLOURS = _wordset("black white red blue green yellow grey gray brown orange pink purple")
_MEASURE_WORD = re.compile(r"^(?:\d.*|mm|cm|m|g|kg|ml|l|oz|lb|in|ft|w|v|pcs)$", re.IGNORECASE)
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
    # "… 74 mm diameter and 26 g each." ends complete (round 16's pickleballs had no SMS)
    each = last == "each" and len(words) >= 2 and bool(_MEASURE_WORD.match(words[-2]))
    if last in DANGLING and not each and not stripped.rstrip(_CLOSERS).endswith(("!", "?")):
        return f"ends with {words[-1]!r}"
    if (
        len(words) >= 2
        and words[-2].casefold() in _DETERMINERS
        and _adjective_like(last)
        and not stripped.rstrip(_CLOSERS).endswith(_FULL_STOP)
    ):
        return f"ends with a modifier ({words[-2]} {words[-1]!r})"
    if len(words) >= 2 and words[-2].casefold() == "with" and last in _COLOURS:
        # "Acrylic Quilting Ruler: 3 mm thick, with black" (round 17): a colour of a list cut
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
_CHANGES_BEFORE = _wordset("faux imitation simulated artificial laminate laminated vegan some")
#: Words that change a natural material into another ("composite leather": round 25's
#: "Leather Basketball" was read as genuine leather) but leave other nouns be ("Synthetic
#: Pipe Bag" is a pipe bag).
_CHANGES_MATERIAL = _wordset("composite synthetic bonded reconstituted engineered")
_NATURAL = _wordset(
    "leather suede fur wool silk down feather wood rattan wicker marble stone granite diamond "
    "pearl gold silver ivory sheepskin cashmere horn bamboo cork"
)
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
    changers = _CHANGES_AFTER | _CHANGES_BEFORE | _CHANGES_MATERIAL
    for i, word in enumerate(record_words):
        if not word.isalpha() or word in DANGLING or word in changers:
            continue
        after = record_words[i + 1] if i + 1 < len(record_words) else ""
        before = record_words[i - 1] if i else ""
        natural = before in _CHANGES_MATERIAL and word in _NATURAL
        if after in _CHANGES_AFTER or before in _CHANGES_BEFORE or natural:
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
    r"\s+(?:with|for|in|featuring|incl\.?|including)\s+|\s+[-–—|:/]\s+|:\s+|[,(\[]", re.IGNORECASE
)
_SPEC = re.compile(r"^(?:[+±-]?\d[\w.,/×x'′–-]*[\"″'′]?|[IVX]+|\d+\s*%)$")  # "+2.0" too
#: A model code: letters and digits in one word ("KS-500", "AQ-3", "H9", "VG1", "CX-9").
_CODE = re.compile(r"^(?=[\w-]*\d)(?=[\w-]*[^\W\d_])[\w]+(?:-[\w]+)*$")
_LEADING = _wordset("the a an new")
_BARE_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?\+?$")


#: A word that ranks the product when a number follows it ("Skill Level 1", "Size 42", "Age 5",
#: "Grade 3"): the rank and what follows are no part of the product's name (round 14 named a
#: "Model Rocket Kit Skill Level 1" "Kit Skill Level" and wrote "The Kit Skill Level is …").
_RANK = _wordset(
    "level size age ages grade stage step class type no nr number version series mark mk gen "
    "generation vol volume part book tier"
)
#: Words that say which rank ("Skill Level", "Shoe Size", "Reading Age").
_RANK_QUALIFIERS = _wordset("skill difficulty shoe ring cup power resistance reading age")


def before_rank(title: str) -> str:
    """``title`` up to a rank and its number: "Model Rocket Kit Skill Level 1" -> "Model Rocket
    Kit", "Hiking Boots Size 42 Waterproof" -> "Hiking Boots"; the title itself where no rank
    follows a word."""
    tokens = title.split()
    for k in range(1, len(tokens) - 1):
        if tokens[k].casefold().rstrip(".") in _RANK and _SPEC.match(tokens[k + 1].rstrip(",;")):
            j = k
            while j > 1 and tokens[j - 1].casefold() in _RANK_QUALIFIERS:
                j -= 1
            return " ".join(tokens[:j]).rstrip(",;")
    return title


def head_name(title: str, *, max_chars: int = 18, context: str = "") -> str | None:
    """A short name for ``title`` from its head noun phrase: the part before a "with", "for",
    dash or bracket, without sizes, units and model codes, two or more of its words up to
    ``max_chars`` (or its last word alone). Where a title ends in a word and a plain number
    and ``context`` (the product's description) names the word before them but not that word,
    the word is the model's name: "Figure Skates Glide 200" -> "Figure Skates", not "Skates
    Glide". None when the title is already that short, or no such phrase fits."""
    if len(title) <= max_chars:
        return None
    base = before_rank(_TITLE_CUT.split(title, maxsplit=1)[0].strip())
    tokens = base.split()
    words: list[str] = []
    after_number = False
    named_model = False  # the last word kept stands before a model number or code
    before_size: list[str] | None = None  # the words before the first size with a unit
    for k, word in enumerate(tokens):
        following = tokens[k + 1] if k + 1 < len(tokens) else ""
        if _SPEC.match(word) or (_CODE.match(word) and not _SPEC.match(following)):
            unit = following and (len(following) <= 3 or not following.isalpha())
            if unit and before_size is None and _SPEC.match(word):
                before_size = list(words)
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
    if before_size and len(before_size) >= 2 and len(words) > len(before_size):
        # "Mini Keg Growler 3.6 L Double-Wall Stainless Steel", "Cornelius Keg 19 L Ball Lock":
        # the words after a size describe the thing named before it (round 14 named them
        # "Stainless Steel" and "Keg Ball Lock")
        words = before_size
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


def _plain(word: str) -> str:
    """ "skates" -> "skate", "batteries" -> "battery": enough to match a title's word."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


_NUMBER_WORDS = _wordset("one two three four five six seven eight nine ten twelve dozen")


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

    # "The Berry Picker Rake is A hand rake …" (round 20; round 19's flask too): a record
    # sentence's capitalised article after the frame's verb is written small
    text = _CAPITAL_ARTICLE.sub(lambda m: f"{m.group(1)} {m.group(2).lower()} ", text)
    return _ARTICLE_BEFORE.sub(choose, text)


_CAPITAL_ARTICLE = re.compile(r"\b(is|are|has|have|with|for|of)\s+(A|An|The)\s+(?=[a-z0-9])")
