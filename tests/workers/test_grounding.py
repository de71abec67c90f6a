"""Grounded copy: the vocabulary gate, and the word mask enforced inside the decoder."""

from __future__ import annotations

import re

import numpy as np
import pytest

from contentfab.workers.grounding import Vocabulary, inflections, load_lexicon
from contentfab.workers.textgen import SamplingParams, TextGenerator
from tests.workers.test_textgen import PROMPTS, bound, with_manifest

PLUG = Vocabulary.of(
    [
        "Harbor Smart Plug Mini",
        "A Wi-Fi smart plug that switches lamps and fans from your phone. Set schedules.",
        "Smart home",
        "connectivity",
        "Wi-Fi 2.4 GHz",
    ],
    ["Northwind"],
    price="19.99",
    currency="EUR",
)


def test_the_gate_names_every_word_the_data_the_brand_and_the_lexicon_do_not_hold():
    # The issue's own examples: a made-up technology, place, health claim and testimonial.
    assert PLUG.unsupported("Seamlessly integrates with your smartphone via Bluetooth") == [
        "Seamlessly",
        "integrates",
        "smartphone",
        "Bluetooth",
    ]
    assert PLUG.unsupported("Made in Bordeaux, loved by Santa") == [
        "Made",
        "Bordeaux",
        "loved",
        "Santa",
    ]
    # Numbers written in words are words the data does not write.
    assert PLUG.unsupported("Cuts your bill by half, two ways") == ["Cuts", "bill", "half", "two"]
    # The data's words in any case and simple inflections, the brand, the lexicon: all pass.
    assert PLUG.unsupported("Switch lamps from your phone with the Northwind smart plug!") == []
    assert PLUG.unsupported("HARBOR switching, schedules set, plugs") == []
    # The data's function words are not inflected into new words ("and" -> "Andes").
    assert PLUG.unsupported("From the Andes") == ["Andes"]
    # Numbers are the fact gate's business (units, prices), not this gate's.
    assert PLUG.unsupported("Set 12 schedules for 9.99") == []


def test_inflections_go_both_ways_and_stay_simple():
    assert {"keep", "keeps", "keeping"} <= inflections("keeps")
    assert {"switch", "switches", "switched", "switching"} <= inflections("switches")
    assert {"battery", "batteries"} <= inflections("batteries")
    assert "kept" not in inflections("keeps")  # irregular forms need the lexicon
    assert inflections("ok") == {"ok"}


def test_the_lexicon_holds_no_claim_place_material_or_number_word():
    lexicon = load_lexicon()
    forbidden = {
        "free", "best", "new", "guaranteed", "exclusive", "premium", "organic", "natural",
        "durable", "waterproof", "lightweight", "cotton", "wool", "steel", "paris", "bluetooth",
        "wifi", "healthy", "skin", "one", "two", "three", "half", "dozen", "double", "made",
        "always", "never", "ever", "most", "better", "faster", "everyone", "kids", "santa",
        "favourite", "favorite", "popular", "bestseller", "loved",
    }  # fmt: skip
    assert not lexicon & forbidden
    assert {"the", "and", "your", "great", "shop", "discover", "today"} <= lexicon


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text)


@pytest.fixture(scope="module")
def endless(tiny_generator: TextGenerator) -> TextGenerator:
    return with_manifest(tiny_generator, eos_token_ids=[-1])


TINY_WORDS = Vocabulary.of(["the model runs fast and the lamp is on"], lexicon=["a", "of"])


def test_every_word_the_decoder_writes_is_allowed(endless: TextGenerator):
    params = [SamplingParams(temperature=1.2, max_new_tokens=24, seed=s) for s in range(6)]
    free = endless.generate(PROMPTS * 2, params)
    grounding = endless.grounding
    constrained = endless.generate(
        PROMPTS * 2, params, [grounding.constraint(TINY_WORDS) for _ in params]
    )
    # The random-weight model writes anything when free ...
    assert any(TINY_WORDS.unsupported(g.text) for g in free)
    for generation in constrained:
        # ... and with the mask only allowed words: a word ends only where an allowed word
        # ends, so no glued sub-word pieces. The last word may be cut off by the token budget.
        complete = _words(generation.text)[:-1]
        assert all(TINY_WORDS.allows(w) for w in complete), generation.text
        assert len(generation.token_ids) == 24


def test_the_mask_is_the_same_on_the_bound_path_and_keeps_rows_independent(
    endless: TextGenerator,
):
    params = [SamplingParams(temperature=0.9, max_new_tokens=12, seed=s) for s in range(3)]

    def constraints(generator: TextGenerator) -> list:
        return [generator.grounding.constraint(TINY_WORDS) for _ in params]

    plain = endless.generate(PROMPTS, params, constraints(endless))
    on_device = bound(endless, eos_token_ids=[-1])
    assert [g.token_ids for g in on_device.generate(PROMPTS, params, constraints(on_device))] == [
        g.token_ids for g in plain
    ]
    # A constrained row writes the same alone as beside others (and beside a free row).
    [alone] = endless.generate(
        [PROMPTS[1]], [params[1]], [endless.grounding.constraint(TINY_WORDS)]
    )
    mixed = endless.generate(
        PROMPTS, params, [None, endless.grounding.constraint(TINY_WORDS), None]
    )
    assert alone.token_ids == plain[1].token_ids == mixed[1].token_ids


def test_a_stop_token_is_allowed_only_where_a_word_may_end(tiny_generator: TextGenerator):
    grounding = tiny_generator.grounding
    mask = grounding.mask(TINY_WORDS)
    stop = next(iter(tiny_generator.eos_token_ids))
    assert mask.allowed(b"")[stop]  # nothing written yet
    assert mask.allowed(b"lamp")[stop]  # a whole word
    assert not mask.allowed(b"lam")[stop]  # half a word
    # After half a word only its continuations are allowed: no space, no punctuation.
    half = mask.allowed(b"lam")
    for token_id in np.flatnonzero(half):
        piece = grounding.token_bytes[token_id]
        assert b"lamp".startswith(b"lam" + piece), piece


def test_a_prefix_written_into_the_prompt_sets_the_word_in_progress(tiny_generator):
    constraint = tiny_generator.grounding.constraint(TINY_WORDS, written="Meet the la")
    assert constraint.state == b"la"
    assert tiny_generator.grounding.constraint(TINY_WORDS, written="the lamp ").state == b""


def test_a_grounded_row_is_not_pushed_off_the_words_its_prompt_holds(tiny_generator):
    """The repetition penalty counts a grounded row's own tokens only: the prompt holds the
    product data, whose words grounded copy is meant to reuse."""
    ids = tiny_generator.encode("the lamp is on")
    assert tiny_generator._seen(ids)[ids].all()
    assert not tiny_generator._seen(ids, grounded=True).any()


def test_a_word_in_ing_takes_no_further_ending():
    from contentfab.workers.grounding import inflections

    # round 12 delivered "It is a weldingly helmet"
    assert "weldingly" not in inflections("welding")
    assert {"weld", "welds", "welded", "weldings"} <= inflections("welding")
    assert "springs" in inflections("spring")
