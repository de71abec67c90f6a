"""The copywriter's gates and selection, as pure functions, and its failure isolation."""

from __future__ import annotations

from dataclasses import replace

import pytest

from contentfab.core.channels import CHANNELS
from contentfab.workers.copy import dedupe as copy_dedupe
from contentfab.workers.copy import gates as copy_gates
from contentfab.workers.copy import slots as copy_slots
from contentfab.workers.copy.dedupe import near_duplicate, normalised
from contentfab.workers.copy.gates import check, clean, find_term, is_title_case
from contentfab.workers.copy.messages import build_messages, response_prefixes, token_budget
from contentfab.workers.copy.slots import BrandRules, CopySlot, ProductFacts, product_text
from contentfab.workers.copy.writer import options, write_copy
from contentfab.workers.embeddings import TextEmbedder
from contentfab.workers.textgen import Generation, SamplingParams

BOTTLE = ProductFacts(
    sku="b1",
    title="Insulated Steel Bottle 750 ml",
    description="Keeps drinks cold for 24 hours or hot for 12.",
    category="Hydration",
    price="34.95",
    currency="USD",
)


def _gen(text: str, finish: str = "stop") -> Generation:
    return Generation(
        text=text, token_ids=[1] * 8, finish_reason=finish, logprob_sum=-4.0, prompt_tokens=10
    )


def test_clean_strips_labels_quotes_and_extra_lines():
    subject = CHANNELS["email_subject"]
    assert clean('Subject: "Cold drinks all day"\nMore text', subject) == "Cold drinks all day"
    description = CHANNELS["product_description"]
    assert clean("Line one.\n\n  Line two.  ", description) == "Line one.\nLine two."


def test_gates_reject_what_a_marketer_could_not_publish():
    subject = CHANNELS["email_subject"]
    assert check("Insulated Steel Bottle: cold for 24 hours", subject, BOTTLE) == []
    too_long = "Your Steel Bottle " + "keeps going " * 10
    assert any(r.startswith("length") for r in check(too_long, subject, BOTTLE))
    assert any(r.startswith("fact") for r in check("Steel Bottle now 50% off", subject, BOTTLE))
    assert any("claim" in r for r in check("The best bottle ever", subject, BOTTLE))
    assert any(r.startswith("relevance") for r in check("Hello there friend", subject, BOTTLE))
    looping = "bottle keeps cold bottle keeps cold bottle keeps cold"
    assert any(r.startswith("repetition") for r in check(looping, CHANNELS["social_post"], BOTTLE))
    assert check("", subject, BOTTLE) == ["empty"]


def test_a_truncated_text_offers_only_its_complete_clauses():
    headline = CHANNELS["search_headline"]
    found = options(_gen("Steel Bottle: cold for a day. Hot for", finish="length"), headline)
    assert found == ["Steel Bottle: cold for a day.", "Steel Bottle"]
    # Never cut at a comma: what is left is the head of a list or clause ("…provides a warm").
    found = options(_gen("Steel Bottle: cold for a day, hot for", finish="length"), headline)
    assert found == ["Steel Bottle"]
    assert options(_gen("Cold for a whole day"), headline) == ["Cold for a whole day"]


def test_prompts_and_budgets_follow_the_channel():
    slot = CopySlot(
        key=1,
        product=BOTTLE,
        channel="search_headline",
        tone="playful",
        sampling=SamplingParams(max_new_tokens=200),
    )
    messages = build_messages(slot)
    assert messages[-1]["content"].endswith("one thing from its details.")
    assert "playful tone" in messages[0]["content"]
    assert token_budget(slot) == 24  # a 30-character headline never needs 200 tokens


def test_one_poison_item_fails_alone(tiny_generator):
    """A product whose prompt overflows the model fails with the reason; its batch goes on."""
    poison = ProductFacts(
        sku="p", title="Poison", attributes={f"k{i}": "word " * 400 for i in range(12)}
    )
    slots = [
        CopySlot(
            key=i,
            product=product,
            channel="email_subject",
            tone="neutral",
            sampling=SamplingParams(temperature=0.7, max_new_tokens=8, seed=i),
            candidates=2,
        )
        for i, product in enumerate([BOTTLE, poison, BOTTLE])
    ]
    outcomes = write_copy(tiny_generator, slots, max_rounds=1)
    assert [o.key for o in outcomes] == [0, 1, 2]
    assert outcomes[1].text is None and "generation failed" in outcomes[1].error
    for outcome in (outcomes[0], outcomes[2]):  # gibberish from the tiny model, gated out
        assert outcome.meta["candidates_sampled"] == 2
        assert "generation failed" not in (outcome.error or "")


# --- brand kit gates -----------------------------------------------------------------------

KIT = BrandRules(
    name="Northwind",
    required_terms=("Northwind",),
    banned_terms=("Café", "cheap", "limited time"),
    emoji=False,
    max_exclamations=1,
    title_case_headlines=True,
    claims=("free shipping",),
)
HEADLINE = CHANNELS["search_headline"]
SUBJECT = CHANNELS["email_subject"]


def _gates(text, channel=SUBJECT, product=BOTTLE, brand=KIT):
    return [reason.split(":")[0] for reason in check(text, channel, product, brand)]


def test_banned_terms_match_whole_words_in_any_case_and_unicode_form():
    assert find_term("Café", "Northwind CAFÉ mugs") == ["café"]
    assert find_term("Café", "Northwind Cafe\u0301 mugs") == ["café"]  # decomposed é
    assert find_term("Café", "Northwind Cafés and Cafeterias") == []  # inside other words
    assert find_term("limited time", "a LIMITED   time deal") == ["limited   time"]
    assert find_term("テント", "山のテントです") == ["テント"]  # no spaces between CJK words
    # "cheap" is no word of the product data either (grounding).
    assert _gates("Insulated Steel Bottle by Northwind: Cheap") == ["grounding", "banned_term"]
    # In capitals it is shouting as well.
    assert _gates("Insulated Steel Bottle by Northwind: CHEAP") == [
        "grounding",
        "capitals",
        "banned_term",
    ]
    assert _gates("Insulated Steel Bottle by Northwind, cheaper") == ["grounding"]
    cheap = replace(BOTTLE, description="Cheaper than it looks: keeps drinks cold.")
    assert _gates("Insulated Steel Bottle by Northwind, cheaper", product=cheap) == []


def test_required_terms_must_appear():
    assert _gates("Insulated Steel Bottle, cold all day") == ["required_term"]
    assert _gates("Insulated Steel Bottle by NORTHWIND") == []


def test_style_rules_emoji_exclamations_title_case():
    assert _gates("Insulated Steel Bottle by Northwind 🧊") == ["emoji"]
    assert _gates("Insulated Steel Bottle by Northwind!") == []
    assert _gates("Insulated Steel Bottle by Northwind!!") == ["exclamation"]
    assert _gates("Insulated Steel Bottle by Northwind", channel=HEADLINE) == ["length"]
    short = ProductFacts(sku="s", title="Trail Bottle", short_names=("Trail Bottle",))
    assert _gates("Northwind Trail Bottle", HEADLINE, short) == []
    assert _gates("Northwind trail bottle", HEADLINE, short) == ["title_case"]
    assert _gates("The Trail Bottle of Northwind", HEADLINE, short) == []  # minor word "of"
    assert _gates("Northwind trail bottle", SUBJECT, short, BrandRules(name="Northwind")) == []
    assert is_title_case("山のテント Is Here")  # scripts without case pass


def test_claim_words_need_the_product_data_or_the_brand_kit():
    assert _gates("Insulated Steel Bottle by Northwind, free shipping") == []
    assert _gates("Insulated Steel Bottle by Northwind, free gift") == ["grounding", "claim"]
    assert _gates(
        "Insulated Steel Bottle by Northwind, free shipping",
        brand=BrandRules(required_terms=("Northwind",)),
    ) == ["grounding", "claim"]
    bpa = replace(BOTTLE, description="BPA-free steel. Keeps drinks cold for 24 hours.")
    assert _gates("BPA-free Insulated Steel Bottle by Northwind", product=bpa) == []
    assert _gates("Insulated Steel Bottle by Northwind: free returns", product=bpa) == [
        "grounding",
        "claim",
    ]
    assert _gates("The #1 Insulated Steel Bottle by Northwind") == ["fact", "claim"]


def test_facts_with_units_and_prices_are_checked():
    assert _gates("Insulated Steel Bottle by Northwind, $34.95") == []
    assert _gates("Insulated Steel Bottle by Northwind, €34.95") == ["fact"]
    assert _gates("Insulated Steel Bottle by Northwind holds 750 l") == ["grounding", "fact"]


def test_the_product_name_is_required_where_the_channel_says():
    assert HEADLINE.requires_name and SUBJECT.requires_name
    assert CHANNELS["product_description"].requires_name
    assert not CHANNELS["sms"].requires_name
    # A long title also gives its head noun phrase as a short name (issue #15).
    assert BOTTLE.names() == (
        "Insulated Steel Bottle 750 ml",
        "Insulated Steel Bottle",
        "Steel Bottle",
    )
    assert _gates("Bottle by Northwind, cold all day") == ["product_name"]
    nicknamed = replace(BOTTLE, short_names=("The Icebox",))
    assert _gates("The Icebox by Northwind: Steel, Cold", product=nicknamed) == []
    assert _gates("Steel bottle by Northwind.", CHANNELS["sms"], BOTTLE) == []


# --- dedupe ----------------------------------------------------------------------------------


def test_near_duplicates_by_normalised_text_and_similarity():
    first = "Insulated Steel Bottle: cold all day"
    assert near_duplicate("insulated steel bottle — COLD all day!", [first]) == first
    assert near_duplicate("Insulated Steel Bottle: cold all day long", [first]) == first
    assert near_duplicate("Hot coffee at the summit with Insulated Steel Bottle", [first]) is None
    assert normalised("Ｃｏｌｄ  ALL day!") == "cold all day"


class ScriptedGenerator:
    """Answers every prompt with the next scripted text (score given by the script)."""

    name, version, model_sha256, provider = "scripted", "1", "0" * 64, "CPUExecutionProvider"

    def __init__(self, script):
        self.script = list(script)
        self.calls = 0
        self.chats = set()

    def chat_prompt(self, messages):
        self.chats.add(messages[-1]["content"])
        return messages[-1]["content"]

    prefix_score = (0.0, 0)  # what prefix_logprobs answers for every prefix

    def prefix_logprobs(self, prompts, prefixes):
        return [self.prefix_score] * len(prompts)

    def generate(self, prompts, params):
        out = []
        for prompt in prompts:
            text, logprob = self.script[self.calls % len(self.script)]
            self.calls += 1
            # A prompt that ends with the start of the answer gets the rest of the scripted text.
            chat = max((c for c in self.chats if prompt.startswith(c)), key=len, default=prompt)
            prefix = prompt[len(chat) :]
            if prefix and text.startswith(prefix):
                text = text[len(prefix) :]
            out.append(
                Generation(
                    text=text,
                    token_ids=[1] * 4,
                    finish_reason="stop",
                    logprob_sum=logprob,
                    prompt_tokens=10,
                )
            )
        return out


def _write(generator, slots, **options):
    """The sampled candidates alone: no composed ones (tested on their own below)."""
    return write_copy(generator, slots, compose_short=False, **options)


#: The bottle with its title-without-size as a brand-kit short name, so no shorter head-noun
#: name is derived and scripted answers start with the name the candidates are prefixed with.
NAMED_BOTTLE = replace(BOTTLE, short_names=("Insulated Steel Bottle",))


def _subject_slots(n, delivered=()):
    return [
        CopySlot(
            key=i,
            product=NAMED_BOTTLE,
            channel="email_subject",
            tone="neutral",
            sampling=SamplingParams(seed=i),
            candidates=3,
            delivered=delivered,
        )
        for i in range(n)
    ]


def test_variants_of_one_slot_group_never_repeat_each_other():
    best, again, other = (
        "Insulated Steel Bottle: cold all day",
        "Insulated Steel Bottle - Cold All Day",
        "Insulated Steel Bottle, cold for 24 hours",
    )
    generator = ScriptedGenerator([(best, -1.0), (again, -2.0), (other, -3.0)])
    outcomes = _write(generator, _subject_slots(2), max_rounds=1)
    assert [o.text for o in outcomes] == [best, other]
    assert outcomes[1].meta["gate_failures"] == {"duplicate": 2}
    assert "duplicate" not in outcomes[0].meta["gate_failures"]


def test_a_duplicate_of_delivered_copy_fails_the_slot_with_its_gate():
    text = "Insulated Steel Bottle: cold all day"
    generator = ScriptedGenerator([(text, -1.0)])
    [outcome] = _write(generator, _subject_slots(1, delivered=(text,)), max_rounds=2)
    assert outcome.text is None
    assert outcome.meta["candidates_sampled"] == 6  # two rounds of three
    assert outcome.meta["tokens_sampled"] == 6 * 4
    assert outcome.error.startswith("no candidate passed") and "duplicate ×6" in outcome.error


def test_brand_rules_reach_the_prompt_and_the_gates():
    slot = replace(_subject_slots(1)[0], channel="meta_headline", brand=KIT)
    system = build_messages(slot)[0]["content"]
    assert "Northwind" in system and "Never use the words: Café" in system
    assert "No emoji." in system and "Title Case" in system
    generator = ScriptedGenerator([("Insulated Steel Bottle: cheap and cold 🧊", -1.0)])
    [outcome] = _write(generator, [slot], max_rounds=1)
    assert outcome.text is None
    assert outcome.meta["gate_failures"] == {
        "grounding": 3,  # "cheap" is no word of the product data
        "banned_term": 3,
        "required_term": 3,
        "emoji": 3,
        "title_case": 3,
    }


def test_a_labelled_headline_also_offers_what_follows_the_label():
    headline = CHANNELS["search_headline"]
    found = options(_gen("A Must-Have Product: The Harbor Tent"), headline)
    assert found == [
        "A Must-Have Product: The Harbor Tent",
        "A Must-Have Product",
        "The Harbor Tent",
    ]
    # not from a cut-off text, whose end is missing
    assert "The Harbor" not in options(_gen("Must-Have: The Harbor", finish="length"), headline)


def test_every_built_in_example_passes_the_gates_it_teaches():
    from contentfab.workers.copy.prompts import EXAMPLES
    from contentfab.workers.copy.slots import ProductFacts

    for example in EXAMPLES:
        product = ProductFacts(
            sku=example.sku,
            title=example.title,
            description=example.description,
            category=example.category,
        )
        assert set(example.answers) == {n for n in CHANNELS if n in example.answers}
        for name, answer in example.answers.items():
            assert check(answer, CHANNELS[name], product) == [], (example.sku, name)


# --- embedding dedupe and relevance ranking (random-weight tiny-bert) ------------------------
# The random encoder puts every text near every other, so each test sets the threshold between
# cosines it measures first with the same encoder.


@pytest.fixture(scope="module")
def tiny_embedder(tiny_bert_store):
    return TextEmbedder.load(tiny_bert_store.model_dir("tiny-bert"))


def _cosine(embedder, a, b):
    u, v = embedder.embed([a, b])
    return float(u @ v)


BEST = "Insulated Steel Bottle: cold all day"
REWORDED = "Insulated Steel Bottle keeps drinks cold"
OTHER = "Insulated Steel Bottle for hydration"


@pytest.fixture
def twin_threshold(tiny_embedder, monkeypatch):
    """A threshold that makes REWORDED a twin of BEST and OTHER not."""
    twin, apart = _cosine(tiny_embedder, BEST, REWORDED), _cosine(tiny_embedder, BEST, OTHER)
    assert twin > apart  # the test's premise, on this encoder
    assert near_duplicate(REWORDED, [BEST]) is None  # not a duplicate by text
    monkeypatch.setattr(copy_dedupe, "DUPLICATE_COSINE", (twin + apart) / 2)


def test_a_reworded_variant_is_a_duplicate_by_embedding(tiny_embedder, twin_threshold):
    script = [(BEST, -1.0), (REWORDED, -2.0), (OTHER, -3.0)]
    lexical = _write(ScriptedGenerator(script), _subject_slots(2), max_rounds=1)
    assert [o.text for o in lexical] == [BEST, REWORDED]
    assert lexical[1].meta["dedupe"]["methods"] == [
        "normalised_text",
        "word_jaccard",
        "char_trigram_jaccard",
    ]
    outcomes = _write(
        ScriptedGenerator(script), _subject_slots(2), embedder=tiny_embedder, max_rounds=1
    )
    assert [o.text for o in outcomes] == [BEST, OTHER]
    assert outcomes[1].meta["gate_failures"] == {"duplicate": 2}  # BEST by text, REWORDED by vector
    dedupe = outcomes[1].meta["dedupe"]
    assert dedupe["methods"][-1] == "embedding_cosine"
    assert dedupe["embedding_cosine"] == copy_dedupe.DUPLICATE_COSINE
    assert dedupe["embedding_model"]["name"] == "tiny-bert"


def test_a_rewording_of_delivered_copy_is_not_delivered_again(tiny_embedder, twin_threshold):
    generator = ScriptedGenerator([(REWORDED, -1.0)])
    slots = _subject_slots(1, delivered=(BEST,))
    [outcome] = _write(generator, slots, embedder=tiny_embedder, max_rounds=1)
    assert outcome.text is None and "duplicate ×3" in outcome.error
    [lexical] = _write(ScriptedGenerator([(REWORDED, -1.0)]), slots, max_rounds=1)
    assert lexical.text == REWORDED


def test_relevance_to_the_product_outranks_a_slightly_likelier_text(tiny_embedder):
    about = product_text(BOTTLE)
    # both say a selling point (a line that says one always beats one that does not)
    a, b = "Insulated Steel Bottle hydration: cold for 24 hours", "Insulated Steel Bottle, hot"
    relevant, other = sorted([a, b], key=lambda t: _cosine(tiny_embedder, t, about), reverse=True)
    gap = _cosine(tiny_embedder, relevant, about) - _cosine(tiny_embedder, other, about)
    assert gap > 0
    # per token (4 tokens) the other text is likelier by half of what relevance adds
    per_token = -0.5
    script = [
        (relevant, 4 * (per_token - copy_slots.RELEVANCE_WEIGHT * gap / 2)),
        (other, 4 * per_token),
    ]
    [plain] = _write(ScriptedGenerator(script), _subject_slots(1), max_rounds=1)
    assert plain.text == other
    assert plain.meta["score_details"]["relevance"] is None
    [ranked] = _write(
        ScriptedGenerator(script), _subject_slots(1), embedder=tiny_embedder, max_rounds=1
    )
    assert ranked.text == relevant
    details = ranked.meta["score_details"]
    assert details["relevance"] == pytest.approx(_cosine(tiny_embedder, relevant, about), abs=1e-4)
    assert details["relevance_weight"] == copy_slots.RELEVANCE_WEIGHT
    assert ranked.meta["score"] == pytest.approx(
        details["logprob_per_token"] + details["relevance_weight"] * details["relevance"], abs=5e-4
    )


def _slot(channel, product=BOTTLE, candidates=4):
    return CopySlot(
        key=0,
        product=product,
        channel=channel,
        tone="neutral",
        sampling=SamplingParams(seed=0),
        candidates=candidates,
    )


def test_short_and_name_bearing_fields_start_some_candidates_with_the_name():
    name = "Steel Bottle"  # the head noun phrase of the title
    assert response_prefixes(_slot("search_headline"), 0) == ["", name, "", name]
    assert response_prefixes(_slot("search_headline"), 1) == ["", name, name, name]
    assert response_prefixes(_slot("product_description"), 0) == ["", name, "", name]
    assert response_prefixes(_slot("meta_description"), 0) == ["", name, "", name]
    # A long single-line field that need not name the product is left to the model.
    assert response_prefixes(_slot("social_post"), 0) == [""] * 4
    # A name longer than the field's limit could not start any text that fits.
    long_name = replace(
        BOTTLE,
        title="Insulated Stainless Steel Trail Bottle 750 ml",
        short_names=("Insulated Stainless Steel Trail Bottle",),  # no derived head name then
    )
    assert response_prefixes(_slot("meta_description", long_name), 0) == [""] * 4


def test_a_prefixed_candidate_is_the_prefix_and_what_the_model_wrote_after_it():
    generator = ScriptedGenerator([(": cold for 24 hours", -1.0)])
    [outcome] = _write(generator, [_slot("email_subject", candidates=2)], max_rounds=1)
    # The free candidate does not name the product; the one made to start with it does.
    assert outcome.text == "Steel Bottle: cold for 24 hours"
    assert outcome.meta["response_prefix"] == "Steel Bottle"
    assert outcome.meta["name_used"] == "Steel Bottle"
    assert outcome.meta["gate_failures"] == {"product_name": 1, "relevance": 1}


def test_a_prefix_counts_in_the_score_as_if_the_model_had_written_it():
    generator = ScriptedGenerator([("Insulated Steel Bottle: cold all day", -1.0)])
    generator.prefix_score = (-50.0, 5)  # the model would hardly have started this way
    [outcome] = _write(generator, [_slot("email_subject", candidates=2)], max_rounds=1)
    # Same text both ways; the free candidate's -1.0 over 4 tokens beats (-1 - 50) / (4 + 5).
    assert outcome.meta["response_prefix"] == ""
    assert outcome.meta["score_details"]["logprob_per_token"] == -0.25


def test_a_continuation_that_runs_into_the_name_is_rejected():
    generator = ScriptedGenerator([("Sourcing", -1.0)])
    [outcome] = _write(generator, [_slot("meta_description", candidates=2)], max_rounds=1)
    # "Steel BottleSourcing" is never delivered; the free "Sourcing" names nothing (and is no
    # word of the product data).
    assert outcome.text is None
    assert outcome.meta["gate_failures"] == {"truncated": 1, "relevance": 1, "grounding": 1}


def test_a_text_of_names_alone_is_a_bare_name():
    mugs = ProductFacts(sku="m", title="Enamel Camp Mug Set (4)")
    assert copy_gates.name_only("Enamel Camp Mug Set: Camp Mug Set", mugs)
    assert copy_gates.name_only("The Camp Mug Set", mugs)
    assert not copy_gates.name_only("Camp Mug Set: four enamel mugs", mugs)


def test_a_bare_name_is_delivered_only_when_no_round_finds_more():
    bare, more = ("Insulated Steel Bottle", -0.1), ("Insulated Steel Bottle: cold all day", -2.0)
    generator = ScriptedGenerator([bare, bare, more, more])
    [outcome] = _write(generator, [_slot("email_subject", candidates=2)], max_rounds=2)
    # Round one found only the name (the likelier text); round two found copy.
    assert outcome.text == more[0]
    assert outcome.meta["candidates_sampled"] == 4
    assert outcome.meta["name_only"] is False

    generator = ScriptedGenerator([bare])
    [outcome] = _write(generator, [_slot("email_subject", candidates=2)], max_rounds=3)
    assert outcome.text == "Insulated Steel Bottle"
    assert outcome.meta["candidates_sampled"] == 6
    assert outcome.meta["name_only"] is True


def test_invented_codes_and_empty_brackets_are_refused():
    lamp = ProductFacts(
        sku="l1",
        title="Canyon Headlamp 300",
        description="A LED headlamp with USB-C charging, 300 lm.",
        category="Lighting",
    )
    rules = BrandRules()
    assert _gates("Canyon Headlamp CHEFBARKER", HEADLINE, lamp, rules) == [
        "grounding",
        "capitals",
    ]
    assert _gates("Canyon Headlamp (A)", HEADLINE, lamp, rules) == ["fragment", "fact"]
    assert _gates("Canyon Headlamp (brand)", HEADLINE, lamp, rules) == ["grounding", "fact"]
    # What the data writes in capitals, or holds in any case, passes; so do its numbers.
    assert _gates("LED Canyon Headlamp", HEADLINE, lamp, rules) == []
    assert _gates("USB-C Canyon Headlamp", HEADLINE, lamp, rules) == []
    assert _gates("CANYON HEADLAMP (300 lm)", HEADLINE, lamp, rules) == []


def test_a_selling_point_is_a_word_of_the_data_beyond_the_names_and_the_title():
    bottle = replace(
        BOTTLE, description="Keeps drinks cold for 24 hours.", attributes={"color": "Glacier Blue"}
    )
    assert copy_gates.says_a_point("Steel Bottle: Cold for 24 Hours", bottle)
    assert copy_gates.says_a_point("Steel Bottle, Glacier Blue", bottle)
    # the title's own words, a call to action, the category: nothing new
    for line in ("Steel Bottle 750 ml", "Shop the Steel Bottle today", "Hydration: Steel Bottle"):
        assert not copy_gates.says_a_point(line, bottle), line


def test_a_short_line_is_no_name_and_a_bare_data_value():
    from contentfab.workers.copy.gates import bare_value

    # the labelled round 3: a flag, a number without its unit, a code of symbols
    for line, value in {
        "Travel Neck Pillow, True": "True",
        "Teak Bath Caddy, 105": "105",
        "Tabletop Easel, D*M": "D*M",
    }.items():
        assert bare_value(line) == value
    for line in ("Trail Tent: Packs down to 1.9 kg", "Carbon Steel Wok – 36 cm", "Headlamp: IPX6"):
        assert bare_value(line) is None, line
    pillow = ProductFacts(
        sku="p",
        title="Travel Neck Pillow",
        description="Memory foam.",
        attributes={"washable": True},
    )
    failed = check("Travel Neck Pillow, True", CHANNELS["search_headline"], pillow)
    assert any(r.startswith("fragment") and "True" in r for r in failed), failed


def test_what_the_record_says_of_a_part_is_not_said_of_the_product_on_any_channel():
    fountain = ProductFacts(
        sku="f1",
        title="Cat Water Fountain",
        description="Quiet pump and a 2 l reservoir. The stainless steel bowl is dishwasher "
        "safe. The dual head fits standard tubing.",
        category="Pets",
    )
    headline = CHANNELS["email_subject"]
    for text in ("Cat Water Fountain, dishwasher safe", "Cat Water Fountain: Dishwasher safe"):
        assert any("said of the stainless steel bowl" in r for r in check(text, headline, fountain))
    # the part named, or what the product does through a part, is fine
    assert not _claims("Cat Water Fountain: dishwasher safe bowl", fountain)
    assert not _claims("Cat Water Fountain: Quiet pump", fountain)
    assert not _claims("Cat Water Fountain: Fits standard tubing", fountain)
    sms = CHANNELS["sms"]
    assert any(
        r.startswith("claim")
        for r in check("The Cat Water Fountain is dishwasher safe.", sms, fountain)
    )


def test_a_material_keeps_the_word_that_changes_what_it_is():
    necklace = ProductFacts(
        sku="n1",
        title="Gold-Plated Initial Necklace",
        description="A single letter pendant on a 45 cm chain. 18k gold plating over brass.",
        category="Watches & Jewellery",
        attributes={"chain_length_cm": 45, "plating": "18k gold", "vegan": True},
    )
    headline = CHANNELS["email_subject"]
    assert any(
        "qualifies it with" in r and "gold" in r
        for r in check("Initial Necklace, 18k gold", headline, necklace)
    )
    assert not _claims("Initial Necklace: 18k gold plating", necklace)
    assert not _claims("Gold-Plated Initial Necklace", necklace)
    # a grade may go ("gold plating" says less than "18k gold plating", nothing else), and
    # a flag attribute qualifies nothing
    assert not _claims("Initial Necklace: gold plating", necklace)
    assert not _claims("Initial Necklace: brass", necklace)


def _claims(text: str, product: ProductFacts) -> list[str]:
    return [r for r in check(text, CHANNELS["email_subject"], product) if r.startswith("claim")]
