"""Grounded copy: the words a text about one product may use, checked and enforced while decoding.

A small model invents: materials, places, technologies, people, health claims, numbers written
in words. No gate that looks for particular inventions catches them all, so copy is held to a
closed vocabulary instead. A text may use a word only if

* the product record writes it (title, description, category, attribute keys and values, price
  and currency), in any case and in a simple inflection ("keeps" -> "keep", "keeping");
* the brand kit writes it (name, required terms, claims, short names, its own ``vocabulary``);
* or it is in the vetted lexicon of non-factual words (``lexicon.txt`` beside this module:
  function words, generic appeal words, calls to action; reviewed by hand, no materials,
  places, technologies, certifications, body or health terms, people or number words).

:class:`Vocabulary` is that set for one product, and :meth:`Vocabulary.unsupported` the gate
that names every word outside it. :class:`WordMask` enforces the same set inside the decoder as
an allowed-token mask over the logits. It works on whole words, not tokens: a mask of the
tokens of allowed words alone glues sub-word pieces into new words ("crémours") and digits into
new numbers, so the mask tracks the word being written through a trie of the allowed words'
byte strings, and a word may only end (a space, punctuation or the end of the text follows)
where an allowed word ends. Pure functions and numpy; no model, no I/O beyond the lexicon file.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from contentfab.workers.factcheck import currency_signs

if TYPE_CHECKING:
    from tokenizers import Tokenizer

BoolArray = npt.NDArray[np.bool_]

LEXICON_FILE = Path(__file__).with_name("lexicon.txt")

#: A word as the gate reads it: a run of letters and digits in any script.
_GATE_WORD = re.compile(r"[^\W_]+")

#: Punctuation that is written with non-ASCII characters, which the mask treats as word bytes
#: (see :func:`_runs`): allowed as "words" of their own, and inside the contractions.
_UNICODE_PUNCTUATION = ("—", "–", "’", "‘", "“", "”", "…", "•", "·", "°", "™", "®")
_CONTRACTIONS = ("s", "t", "re", "ve", "ll", "d", "m")


@cache
def load_lexicon(path: Path = LEXICON_FILE) -> frozenset[str]:
    """The vetted non-factual words: one a line, ``#`` starts a comment."""
    words: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            words.update(_fold(w) for w in entry.split())
    return frozenset(words)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def gate_words(text: str) -> list[str]:
    """The words of ``text`` the grounding gate checks, as written."""
    return _GATE_WORD.findall(unicodedata.normalize("NFC", text))


def inflections(word: str) -> set[str]:
    """``word`` and its simple English inflections, both ways ("keeps" -> "keep", "keeping",
    "kept" is not derived: irregular forms need the lexicon). Lower-case input."""
    if not word.isascii() or not word.isalpha() or len(word) < 3:
        return {word}
    bases = {word}
    for suffix, replacement in (
        ("ies", "y"),
        ("ied", "y"),
        ("es", ""),
        ("s", ""),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
        ("ly", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            bases.add(word[: len(word) - len(suffix)] + replacement)
    forms = set(bases)
    for base in bases:
        if base.endswith(("ing", "ly")) and len(base) >= 5:
            # "welding" gives "weldings", never "weldingly" (round 12 delivered "It is a
            # weldingly helmet"), "inged" or "inging"
            forms.add(base + "s")
            continue
        forms.update({base + "s", base + "es", base + "ed", base + "ing", base + "ly"})
        if base.endswith("e"):
            forms.update({base + "d", base[:-1] + "ing"})
        if base.endswith("y"):
            forms.update({base[:-1] + "ies", base[:-1] + "ied"})
    return forms


@dataclass(frozen=True)
class Vocabulary:
    """The words copy about one product may use (case-folded), and their sources."""

    words: frozenset[str]
    """Case-folded words the gate accepts."""
    surface: frozenset[str]
    """The same words as the decoder may write them: as the data writes them, in lower case and
    capitalised (see :meth:`decoder_runs`)."""

    @classmethod
    def of(
        cls,
        record_texts: Iterable[str],
        brand_texts: Iterable[str] = (),
        *,
        price: str | None = None,
        currency: str | None = None,
        lexicon: Iterable[str] | None = None,
    ) -> Vocabulary:
        """The vocabulary of a product record's texts (title, description, category, attribute
        keys and values), the brand kit's texts and the lexicon."""
        lexicon = load_lexicon() if lexicon is None else frozenset(_fold(w) for w in lexicon)
        record = [unicodedata.normalize("NFC", t) for t in record_texts if t]
        brand = [unicodedata.normalize("NFC", t) for t in brand_texts if t]
        written: set[str] = set()
        for text in [*record, *brand]:
            written.update(_GATE_WORD.findall(text))
            # Attribute keys are written with underscores ("water_resistance").
            written.update(_GATE_WORD.findall(text.replace("_", " ")))
        if price is not None:
            written.update(_GATE_WORD.findall(price))
        words: set[str] = set(lexicon) | set(_CONTRACTIONS)
        for word in written:
            folded = _fold(word)
            # A function word is no stem: "and" + "es" would allow "Andes" (a place).
            words.update({folded} if folded in lexicon else inflections(folded))
        surface: set[str] = set()
        for word in words:
            surface.update({word, word[:1].upper() + word[1:]})
        for word in written:
            surface.add(word)  # "USB", "LED", "iPhone" as the data writes them
        for text in [*record, *brand]:
            surface.update(_runs(text))
        surface.update(_UNICODE_PUNCTUATION)
        surface.update(f"’{c}" for c in _CONTRACTIONS)
        if price is not None and currency is not None:
            whole = price.split(".")[0]
            for symbol in currency_signs(currency):
                if not symbol.isascii():  # "$" and "kr" are punctuation or words already
                    surface.add(f"{symbol}{whole}")
                    surface.add(symbol)
        words.update(_fold(s) for s in _UNICODE_PUNCTUATION)
        return cls(frozenset(words), frozenset(s for s in surface if s))

    def allows(self, word: str) -> bool:
        return _fold(word) in self.words

    def unsupported(self, text: str) -> list[str]:
        """Every word of ``text`` (once, as written) that the vocabulary does not hold; numbers
        are left to the fact gate, which knows units and prices."""
        # Numbers are the fact gate's (units, prices, conversions: workers.factcheck).
        found = [w for w in gate_words(text) if not w.isdigit() and not self.allows(w)]
        return list(dict.fromkeys(found))

    def decoder_runs(self) -> list[bytes]:
        """The allowed word runs as UTF-8 bytes, sorted (the decoder's trie)."""
        runs = {r.encode("utf-8") for s in self.surface for r in _runs(s)}
        return sorted(r for r in runs if r)


def _runs(text: str) -> list[str]:
    """``text`` cut into what the decoder treats as words: runs of ASCII letters and digits and
    of non-ASCII characters (a byte-level tokenizer splits a non-ASCII character across
    tokens, so the mask cannot tell a non-ASCII letter from non-ASCII punctuation)."""
    return re.findall(r"(?:[A-Za-z0-9]|[^\x00-\x7f])+", text)


def _is_word_byte(byte: int) -> bool:
    return byte >= 0x80 or chr(byte).isalnum()


# -- the decoder's side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenTable:
    """Every token of a vocabulary as bytes, sorted into the kinds the word mask needs."""

    vocab_size: int
    other: BoolArray
    """Tokens without a word byte (spaces, punctuation, newlines): they end the current word."""
    continuing: dict[bytes, list[int]]
    """Tokens made only of word bytes: they extend the current word (or start one after a
    space or punctuation)."""
    starting: dict[bytes, list[int]]
    """Tokens of non-word bytes then word bytes (" warm", "'s"): end the word, start another."""
    stop: frozenset[int]

    @classmethod
    def of(cls, token_bytes: Sequence[bytes], stop_ids: Iterable[int]) -> TokenTable:
        """The table of every token's bytes (``b""`` for special tokens, never offered)."""
        vocab_size = len(token_bytes)
        other = np.zeros(vocab_size, dtype=np.bool_)
        continuing: dict[bytes, list[int]] = {}
        starting: dict[bytes, list[int]] = {}
        for token_id, raw in enumerate(token_bytes):
            if not raw:
                continue
            kinds = [_is_word_byte(b) for b in raw]
            if not any(kinds):
                other[token_id] = True
            elif all(kinds):
                continuing.setdefault(raw, []).append(token_id)
            else:
                first_word = kinds.index(True)
                if all(kinds[first_word:]):
                    starting.setdefault(raw[first_word:], []).append(token_id)
                # Word bytes then other bytes ("s." in some vocabularies): never offered.
        stop = frozenset(int(i) for i in stop_ids if 0 <= int(i) < vocab_size)
        return cls(vocab_size, other, continuing, starting, stop)


def _special_ids(tokenizer: Tokenizer) -> list[int]:
    decoder = getattr(tokenizer, "get_added_tokens_decoder", None)
    if decoder is None:
        return []
    return [i for i, token in decoder().items() if getattr(token, "special", True)]


@cache
def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-to-unicode table, inverted: how a byte-level BPE writes raw bytes."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return {char: byte for byte, char in table.items()}


_HEX_BYTE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


def _token_bytes(tokenizer: Tokenizer, vocab_size: int) -> Iterable[tuple[int, bytes]]:
    """Each token id with the bytes it writes: byte-level BPE (GPT-2, Llama 3, SmolLM, Qwen2)
    through its byte table; SentencePiece-style vocabularies (``▁`` for a space, ``<0x0A>``
    byte tokens) as they spell it."""
    vocab = tokenizer.get_vocab()
    byte_level = type(tokenizer.decoder).__name__ == "ByteLevel"
    decoder = _byte_decoder()
    for token, token_id in vocab.items():
        if not 0 <= token_id < vocab_size:
            continue
        if byte_level:
            try:
                yield token_id, bytes(decoder[c] for c in token)
            except KeyError:
                continue
        else:
            hexed = _HEX_BYTE.match(token)
            if hexed:
                yield token_id, bytes([int(hexed.group(1), 16)])
            else:
                yield token_id, token.replace("▁", " ").encode("utf-8")


@dataclass
class WordMask:
    """The allowed-token mask of one vocabulary over one tokenizer's tokens.

    The state of a row being generated is the word it is in the middle of (bytes; empty after
    a space or punctuation). :meth:`allowed` is the mask for the next token in that state,
    computed once per state and kept.
    """

    table: TokenTable
    runs: list[bytes]
    _words: frozenset[bytes] = field(init=False)
    _prefixes: frozenset[bytes] = field(init=False)
    _masks: dict[bytes, BoolArray] = field(init=False, default_factory=dict)
    _root_starting: BoolArray | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._words = frozenset(self.runs)
        self._prefixes = frozenset(w[:k] for w in self.runs for k in range(1, len(w) + 1))

    def complete(self, state: bytes) -> bool:
        """Whether a word may end here (nothing written yet counts as complete)."""
        return not state or state in self._words

    def _continuations(self, state: bytes) -> list[int]:
        """Tokens that extend ``state`` into a prefix of an allowed word."""
        found: list[int] = []
        start = bisect.bisect_left(self.runs, state)
        seen: set[bytes] = set()
        for word in self.runs[start:]:
            if not word.startswith(state):
                break
            for k in range(len(state) + 1, len(word) + 1):
                piece = word[len(state) : k]
                if piece not in seen:
                    seen.add(piece)
                    found.extend(self.table.continuing.get(piece, ()))
        return found

    def allowed(self, state: bytes) -> BoolArray:
        mask = self._masks.get(state)
        if mask is not None:
            return mask
        mask = np.zeros(self.table.vocab_size, dtype=np.bool_)
        mask[self._continuations(state)] = True
        if self.complete(state):
            mask |= self.table.other
            if self._root_starting is None:
                starts = np.zeros(self.table.vocab_size, dtype=np.bool_)
                for piece, ids in self.table.starting.items():
                    if piece in self._prefixes:
                        starts[ids] = True
                self._root_starting = starts
            mask |= self._root_starting
            mask[list(self.table.stop)] = True
        if not mask.any():
            # No allowed word goes on from here (a prefix no token sequence completes): end the
            # word, and let the gate name it, rather than let the row write freely.
            mask = self.table.other.copy()
            mask[list(self.table.stop)] = True
        self._masks[state] = mask
        return mask

    def advance(self, state: bytes, raw: bytes) -> bytes:
        """The state after writing ``raw`` (a token's bytes)."""
        if not raw:
            return state
        if _is_word_byte(raw[-1]):
            cut = len(raw)
            while cut > 0 and _is_word_byte(raw[cut - 1]):
                cut -= 1
            return (state + raw) if cut == 0 else raw[cut:]
        return b""


@dataclass
class WordConstraint:
    """One row's grounded decoding: a :class:`WordMask` and the word it is writing."""

    mask: WordMask
    token_bytes: Sequence[bytes]
    state: bytes = b""

    def allowed(self) -> BoolArray:
        return self.mask.allowed(self.state)

    def update(self, token_id: int) -> None:
        if token_id < len(self.token_bytes):
            self.state = self.mask.advance(self.state, self.token_bytes[token_id])


class Grounding:
    """Builds word masks for one tokenizer (its token table is made once)."""

    def __init__(self, tokenizer: Tokenizer, vocab_size: int, stop_ids: Iterable[int]) -> None:
        raw: list[bytes] = [b""] * vocab_size
        for token_id, data in _token_bytes(tokenizer, vocab_size):
            raw[token_id] = data
        for token_id in _special_ids(tokenizer):
            if 0 <= token_id < vocab_size:
                raw[token_id] = b""  # special tokens write nothing and are never offered
        self.token_bytes: list[bytes] = raw
        self.table = TokenTable.of(raw, stop_ids)
        self._masks: dict[frozenset[str], WordMask] = {}

    def mask(self, vocabulary: Vocabulary) -> WordMask:
        key = vocabulary.surface
        found = self._masks.get(key)
        if found is None:
            if len(self._masks) > 256:  # a long-lived worker sees many products
                self._masks.clear()
            found = self._masks[key] = WordMask(self.table, vocabulary.decoder_runs())
        return found

    def constraint(self, vocabulary: Vocabulary, written: str = "") -> WordConstraint:
        """A row's constraint; ``written`` is what the answer already starts with (a prefix
        written into the prompt), whose last word the row may still be in."""
        constraint = WordConstraint(self.mask(vocabulary), self.token_bytes)
        if written:
            constraint.state = constraint.mask.advance(b"", written.encode("utf-8"))
        return constraint
