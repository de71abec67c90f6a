"""Long copy written fact by fact: the facts of a record, each sentence's gates, assembly."""

from __future__ import annotations

from dataclasses import replace

from contentfab.core.channels import CHANNELS
from contentfab.workers.copy.facts import Fact, Plan, attribute_phrase, coverage, facts
from contentfab.workers.copy.faithful import _misidentified, kind_heads, sentence_failures
from contentfab.workers.copy.gates import check
from contentfab.workers.copy.plan import _consider
from contentfab.workers.copy.sentences import _assemble, is_planned
from contentfab.workers.copy.slots import BrandRules, CopySlot, ProductFacts
from contentfab.workers.copy.writer import write_copy
from contentfab.workers.textgen import Generation, SamplingParams

TENT = ProductFacts(
    sku="t1",
    title="Trailhead 2-Person Backpacking Tent",
    description="Freestanding dome tent with two doors. Packs down to 1.9 kg, pitches in "
    "under five minutes, and keeps rain out with a 3000 mm polyester fly.",
    category="Camping",
    price="249",
    currency="USD",
    attributes={"capacity": 2, "max_load_kg": 40, "season": "3-season", "freestanding": True},
)
BOTTLE = ProductFacts(
    sku="b1",
    title="Insulated Steel Bottle 750 ml",
    description="Keeps drinks cold for 24 hours. Leak-proof lid and powder-coated grip.",
    category="Hydration",
    price="34.95",
    currency="USD",
)
SENTENCES = CHANNELS["product_description"]


def test_a_record_is_its_description_clauses_then_unsaid_attributes_then_the_price():
    found = facts(TENT)
    assert [f.text for f in found] == [
        "Freestanding dome tent with two doors.",
        # a long sentence is split into its clauses, each saying one thing
        "Packs down to 1.9 kg",
        "pitches in under five minutes",
        "keeps rain out with a 3000 mm polyester fly",
        # capacity 2 is in the title ("2-Person"): not said twice; a flag is no phrase
        "max load: 40 kg",
        "season: 3-season",
        "price: 249.00 USD",
    ]
    assert [f.kind for f in found][-2:] == ["attribute", "price"]
    # a clause that points back ("doing so") stays with the clause it points to
    racket = ProductFacts(
        sku="r",
        title="Graphite Badminton Racket",
        description="Includes a full-length cover. Do not restring above 28 lbs; doing so voids "
        "the frame warranty; grip size G5; balance point 295 mm.",
    )
    assert [f.text for f in facts(racket)][:3] == [
        "Includes a full-length cover.",
        "Do not restring above 28 lbs; doing so voids the frame warranty",
        "grip size G5",
    ]
    flask = ProductFacts(
        sku="f",
        title="Volumetric Flask, 250 ml",
        description="The base contains lead, so wash your hands after use and keep it away from "
        "children and food. The flask is calibrated to contain; do not heat it above 80 °C, as "
        "this can shift the calibration.",
    )
    assert [f.text for f in facts(flask)] == [
        "The base contains lead, so wash your hands after use and keep it away from children "
        "and food.",
        "The flask is calibrated to contain",
        "do not heat it above 80 °C, as this can shift the calibration",
    ]


def test_an_attribute_reads_as_words_with_its_unit_after_the_value():
    assert attribute_phrase("max_load_kg", 40) == "max load: 40 kg"
    assert attribute_phrase("colour", "Glacier Blue") == "colour: Glacier Blue"
    assert attribute_phrase("runtime_h", "12.5") == "runtime: 12.5 h"


def test_a_sentence_says_its_own_fact_and_nothing_else():
    cold = Fact("Keeps drinks cold for 24 hours.", "description")
    lid = Fact("Leak-proof lid and powder-coated grip.", "description")
    ok = "The Steel Bottle keeps your drinks cold for 24 hours."
    assert sentence_failures(ok, cold, BOTTLE, BrandRules(), SENTENCES) == []
    # the words of another fact are not this fact's
    other = sentence_failures(
        "The Steel Bottle keeps drinks cold with a leak-proof lid.",
        cold,
        BOTTLE,
        BrandRules(),
        SENTENCES,
    )
    assert any(r.startswith("grounding") and "lid" in r for r in other)
    # nor are the numbers of the title or another fact, nor a negation the fact does not write
    assert any(
        r.startswith("fact")
        for r in sentence_failures(
            "It keeps drinks cold for 12 hours.", cold, BOTTLE, BrandRules(), SENTENCES
        )
    )
    assert any(
        r.startswith("claim") and "negation" in r
        for r in sentence_failures(
            "Nothing keeps drinks cold for 24 hours.", cold, BOTTLE, BrandRules(), SENTENCES
        )
    )
    # true words, false identity: the bottle is not a lid
    wrong = sentence_failures(
        "The Steel Bottle is a leak-proof lid.", lid, BOTTLE, BrandRules(), SENTENCES
    )
    assert any("calls the product a 'leak-proof lid'" in r for r in wrong)
    assert (
        sentence_failures(
            "The Steel Bottle has a leak-proof lid and a powder-coated grip.",
            lid,
            BOTTLE,
            BrandRules(),
            SENTENCES,
        )
        == []
    )
    # half a fact is not the fact (the labelled runs: true words, the sentence's own claim)
    half = sentence_failures(
        "The Steel Bottle has a leak-proof lid.", lid, BOTTLE, BrandRules(), SENTENCES
    )
    assert any(r.startswith("relevance") and "50%" in r for r in half), half


def test_labels_glued_compounds_and_pronoun_openings_are_refused():
    load = Fact("max load: 40 kg", "attribute", (("max_load_kg", 40),))
    season = Fact("season: 3-season", "attribute", (("season", "3-season"),))
    gates = {
        "It has max load: 40 kg.": (load, False, "prompt_label"),
        "It is a season-seasoned tent.": (season, False, "grounding"),
        "It holds a max load of 40 kg.": (load, True, "product_name"),
    }
    for text, (fact, alone, gate) in gates.items():
        failed = sentence_failures(text, fact, TENT, BrandRules(), SENTENCES, alone=alone)
        assert any(r.startswith(gate) for r in failed), (text, failed)
    assert (
        sentence_failures(
            "The Backpacking Tent holds a max load of 40 kg.",
            load,
            TENT,
            BrandRules(),
            SENTENCES,
            alone=True,
        )
        == []
    )


def test_coverage_is_the_share_of_the_fact_a_sentence_says():
    fly = Fact("keeps rain out with a 3000 mm polyester fly", "description")
    assert coverage("It keeps rain out with a 3000 mm polyester fly.", fly, TENT) == 1.0
    assert 0 < coverage("It keeps rain out.", fly, TENT) < 1.0
    assert coverage("It is a great choice.", fly, TENT) == 0.0
    # an attribute's key says nothing: "colour" alone is no coverage of "colour: Glacier Blue"
    blue = Fact("colour: Glacier Blue", "attribute", (("colour", "Glacier Blue"),))
    assert coverage("It has a colour.", blue, BOTTLE) == 0.0


def _slot(channel: str, product: ProductFacts = BOTTLE) -> CopySlot:
    return CopySlot(
        key=1, product=product, channel=channel, tone="friendly", sampling=SamplingParams()
    )


def _generation(text: str, logprob: float = -4.0) -> Generation:
    return Generation(text, [1] * 8, "stop", logprob, 10)


def test_the_text_is_the_facts_best_sentences_in_the_records_order():
    slot = _slot("product_description")
    plan = Plan(slot, [*facts(BOTTLE), Fact("", "close")])
    said = {
        # fact 0 has a fluent sentence that says it, and a likelier one that says nothing
        0: ["It keeps drinks cold for 24 hours.", "It is a great choice for your drinks."],
        1: ["The Steel Bottle has a leak-proof lid and a powder-coated grip."],
        2: ["The Steel Bottle is yours for 34.95 USD."],
        3: ["Choose the Steel Bottle today.", "Fill it, pack it and take it with you today."],
    }
    for index, texts in said.items():
        for text in texts:
            _consider(plan, index, 0, _generation(text, -2.0 if "great" in text else -4.0))
    text, error, meta = _assemble(plan)
    assert error is None, error
    # the first sentence naming the product opens; the rest follow in the record's order;
    # "says nothing" lost to the sentence that says the fact; a description long enough
    # without the closing call to action ends on the product
    assert text == (
        "The Steel Bottle has a leak-proof lid and a powder-coated grip. It keeps drinks cold "
        "for 24 hours. The Steel Bottle is yours for 34.95 USD."
    )
    assert check(text, slot.spec, BOTTLE) == []
    assert [s["fact"] for s in meta["sentences"]][-1] == "price: 34.95 USD"
    # an e-mail body keeps its closing line: the likelier one would name the bottle a third
    # time, so the next one closes
    body = Plan(_slot("email_body"), plan.facts, passed=plan.passed)
    # (its later sentences say "It" where the description needed the name's words for length)
    said = f"{text} Fill it, pack it and take it with you today."
    assert _assemble(body)[0] == said.replace("The Steel Bottle is yours", "It is yours")


def test_a_sentence_that_repeats_an_earlier_ones_words_gives_way_to_the_next_candidate():
    slot = _slot("product_description", TENT)
    plan = Plan(slot, facts(TENT))
    _consider(
        plan, 0, 0, _generation("The Backpacking Tent is a freestanding dome tent with two doors.")
    )
    likelier = "The Backpacking Tent is easy and packs down to 1.9 kg."
    _consider(plan, 1, 0, _generation(likelier, -1.0))
    _consider(plan, 1, 1, _generation("It packs down to 1.9 kg.", -6.0))
    _consider(plan, 2, 0, _generation("It pitches in under five minutes."))
    _consider(plan, 3, 0, _generation("It keeps rain out with a 3000 mm polyester fly."))
    _consider(plan, 3, 1, _generation("It keeps rain out with a polyester fly.", -1.0))
    text, _error, _meta = _assemble(plan)
    assert plan.passed[1][0].text == likelier  # the best by itself ...
    # ... repeats "The Backpacking Tent is" of the opener; the fly sentence would open
    # "It keeps" after "It pitches": fine, different words; but a second "It pitches" would not
    assert text == (
        "The Backpacking Tent is a freestanding dome tent with two doors. It packs down to 1.9 kg. "
        "It pitches in under five minutes. It keeps rain out with a 3000 mm polyester fly."
    )


def test_a_sentence_that_adds_no_word_is_left_out():
    # Round 7: "It runs on 4 AA batteries, ... It has a 4x AA battery." labelled repetitive.
    lamp = ProductFacts(
        sku="l1",
        title="Camp Lamp",
        description="Runs on 4 AA batteries. Weighs 300 g.",
        attributes={"battery": "4x AA"},
    )
    slot = _slot("product_description", lamp)
    plan = Plan(slot, facts(lamp))
    said = [f.text for f in plan.facts]
    _consider(plan, 0, 0, _generation("The Camp Lamp runs on 4 AA batteries."))
    _consider(plan, 1, 0, _generation("It weighs 300 g."))
    battery = said.index("battery: 4x AA")
    _consider(plan, battery, 0, _generation("It has a 4x AA battery."))
    assert plan.passed[battery], plan.failures  # a true sentence on its own ...
    text, error, meta = _assemble(plan)
    written = text or meta["rejected_text"]  # too short for a description: the slot fails
    assert "4x AA" not in written, error  # ... but it says nothing new after the first
    assert written.startswith("The Camp Lamp runs on 4 AA batteries. It weighs 300 g.")


def test_a_plural_said_as_one_thing_is_refused():
    tongs = ProductFacts(
        sku="s1",
        title="Stamp Tongs",
        description="Stainless steel tongs with flat spade tips. Sizes XS to XXL.",
    )
    fact = Fact("Stainless steel tongs with flat spade tips.", "description")
    for text in (
        "The Stamp Tongs are a stainless steel tongs with flat spade tips.",
        "The Stamp Tongs is a stainless steel tongs with flat spade tips.",
    ):
        failures = sentence_failures(text, fact, tongs, BrandRules(), SENTENCES)
        assert any("a plural said as one thing" in r for r in failures), (text, failures)
    sizes = Fact("Sizes XS to XXL.", "description")
    failures = sentence_failures("They are size XS to XXL.", sizes, tongs, BrandRules(), SENTENCES)
    assert any("a plural said as one thing" in r for r in failures)
    fine = "The Stamp Tongs are stainless steel tongs with flat spade tips."
    assert sentence_failures(fine, fact, tongs, BrandRules(), SENTENCES) == []
    pair = Fact("Pair of stainless steel tongs.", "description")
    assert not any(
        "plural" in r
        for r in sentence_failures(
            "The Stamp Tongs are a pair of stainless steel tongs.",
            pair,
            replace(tongs, description="Pair of stainless steel tongs."),
            BrandRules(),
            SENTENCES,
        )
    )


def test_a_sentence_without_its_subject_is_refused():
    # The demo's camp chair: "Holds up to 120 kg and folds flat for the car."
    holds = Fact("Holds drinks for 24 hours.", "description")
    bottle = replace(BOTTLE, description="Holds drinks for 24 hours.")
    failures = sentence_failures(
        "Holds drinks for 24 hours.", holds, bottle, BrandRules(), SENTENCES
    )
    assert any("without its subject" in r for r in failures), failures
    said = "The Steel Bottle holds drinks for 24 hours."
    assert sentence_failures(said, holds, bottle, BrandRules(), SENTENCES) == []


def test_an_attribute_key_an_appeal_word_or_an_instruction_after_is_is_refused():
    battery = ProductFacts(
        sku="b",
        title="LiPo Battery",
        description="Treat the plug with care.",
        attributes={"connector": "XT60", "waterproof": True},
    )
    plug = Fact("connector: XT60", "attribute", (("connector", "XT60"),))
    said = sentence_failures(
        "The LiPo Battery is XT60 connector.", plug, battery, BrandRules(), SENTENCES
    )
    assert any("attribute's name pasted after 'is'" in r for r in said), said
    fine = "The LiPo Battery has an XT60 connector."
    assert sentence_failures(fine, plug, battery, BrandRules(), SENTENCES) == []
    dry = Fact("waterproof: yes", "attribute", (("waterproof", True),))
    assert not any(
        "pasted" in r
        for r in sentence_failures(
            "The LiPo Battery is waterproof.", dry, battery, BrandRules(), SENTENCES
        )
    )
    bare = sentence_failures(
        "The LiPo Battery is your perfect, XT60 connector.", plug, battery, BrandRules(), SENTENCES
    )
    assert any("appeal word with no noun" in r for r in bare), bare
    care = Fact("Treat the plug with care.", "description")
    state = sentence_failures(
        "It is treat the plug with care.", care, battery, BrandRules(), SENTENCES
    )
    assert any("instruction said as a state" in r for r in state), state


def test_a_set_of_takes_its_article_after_a_plural_name():
    # Round 9: "The Skateboard Wheels are set of four 54 mm street wheels …" was composed.
    from contentfab.workers.copy.compose import framed_sentences

    wheels = ProductFacts(
        sku="w",
        title="Skateboard Wheels",
        description="Set of four 54 mm street wheels in 99A urethane.",
    )
    fact = Fact("Set of four 54 mm street wheels in 99A urethane.", "description")
    said = [
        t
        for found in framed_sentences(fact, wheels, "Skateboard Wheels", alone=True).values()
        for t in found
    ]
    assert "The Skateboard Wheels are a set of four 54 mm street wheels in 99A urethane." in said
    assert not any(" are set of" in t for t in said), said


def test_what_the_record_leaves_out_is_not_the_product():
    # Round 10: "The Cigar Humidor is not included." of "Cigars not included", and "The Cigar
    # Humidor is a 28 x 21 x 10 cm cigar." (its category, "Cigar Accessories", names
    # accessories); "It has been serviced annually" of "Have it serviced annually".
    humidor = ProductFacts(
        sku="h",
        title="Cigar Humidor",
        description="Cedar humidor, 28 x 21 x 10 cm. Cigars not included. Have it serviced annually.",
        category="Cigar Accessories",
    )
    brand = BrandRules()
    cigars = Fact("Cigars not included.", "description")
    wrong = sentence_failures(
        "The Cigar Humidor is not included.", cigars, humidor, brand, SENTENCES
    )
    assert any("product itself is not included" in r for r in wrong), wrong
    right = sentence_failures("Cigars are not included.", cigars, humidor, brand, SENTENCES)
    assert not any("itself" in r for r in right), right
    size = Fact("Cedar humidor, 28 x 21 x 10 cm.", "description")
    cigar = sentence_failures(
        "The Cigar Humidor is a 28 x 21 x 10 cm cigar.", size, humidor, brand, SENTENCES
    )
    assert any("calls the product a" in r for r in cigar), cigar
    service = Fact("Have it serviced annually.", "description")
    state = sentence_failures("It has been serviced annually.", service, humidor, brand, SENTENCES)
    assert any("instruction" in r for r in state), state


def test_too_little_to_say_fails_the_slot_with_its_reason():
    slot = _slot("product_description")
    plan = Plan(slot, facts(BOTTLE))
    _consider(plan, 0, 0, _generation("The Steel Bottle keeps drinks cold for 24 hours."))
    text, error, meta = _assemble(plan)
    assert text is None
    assert error is not None and "fewer than 25" in error
    assert meta["rejected_text"] == "The Steel Bottle keeps drinks cold for 24 hours."


def test_a_one_sentence_channel_takes_the_best_named_sentence_of_its_first_facts():
    slot = _slot("sms")
    plan = Plan(slot, facts(BOTTLE))
    _consider(plan, 0, 0, _generation("It keeps drinks cold for 24 hours.", -1.0))  # pronoun
    _consider(plan, 1, 0, _generation("The Steel Bottle has a leak-proof lid.", -3.0))
    _consider(plan, 0, 1, _generation("The Steel Bottle keeps drinks cold for 24 hours.", -3.5))
    text, error, _meta = _assemble(plan)
    assert error is None
    assert text == "The Steel Bottle keeps drinks cold for 24 hours."


def test_sentence_channels_are_planned_and_custom_or_short_ones_are_not():
    assert is_planned(_slot("product_description"))
    assert is_planned(_slot("sms"))
    assert not is_planned(_slot("search_headline"))
    assert not is_planned(_slot("sms", ProductFacts(sku="x", title="Mystery Box")))


def test_nothing_a_tiny_model_writes_is_delivered_unless_every_sentence_passed(tiny_generator):
    slots = [
        CopySlot(
            key=key,
            product=product,
            channel=channel,
            tone="friendly",
            sampling=SamplingParams(temperature=0.8, top_p=0.95, max_new_tokens=32, seed=key),
            candidates=2,
        )
        for key, (product, channel) in enumerate(
            [(BOTTLE, "product_description"), (BOTTLE, "sms"), (TENT, "meta_primary_text")]
        )
    ]
    outcomes = write_copy(tiny_generator, slots, max_rounds=1)
    for slot, outcome in zip(slots, outcomes, strict=True):
        assert outcome.meta["source"] == "sentences"
        assert outcome.meta["facts"]
        if outcome.text is None:
            assert outcome.error and "sentence samples" in outcome.error
            continue
        assert check(outcome.text, slot.spec, slot.product) == []
        planned = {f.text or "(closing line)": f for f in [*facts(slot.product), Fact("", "close")]}
        for sentence in outcome.meta["sentences"]:
            fact = planned[sentence["fact"]]
            assert (
                sentence_failures(sentence["text"], fact, slot.product, BrandRules(), slot.spec)
                == []
            )


def test_the_model_is_never_asked_for_a_closing_line_or_a_price(tiny_generator):
    # Both are composed ("Order yours from … today.", "It costs 34.95 USD."): the model's own
    # closing lines were labelled nonsense ("They can choose the Sunflower Hearts.").
    asked: list[str] = []

    class Recording:
        grounding = tiny_generator.grounding

        def __getattr__(self, name):
            return getattr(tiny_generator, name)

        def generate(self, prompts, params, constraints):
            asked.extend(prompts)
            return tiny_generator.generate(prompts, params, constraints)

    slot = CopySlot(
        key=0,
        product=BOTTLE,
        channel="product_description",
        tone="friendly",
        sampling=SamplingParams(temperature=0.8, top_p=0.95, max_new_tokens=32, seed=3),
        candidates=2,
        brand=BrandRules(name="Harbor & Pine"),
    )
    outcome = write_copy(Recording(), [slot], max_rounds=2)[0]
    assert asked
    last_asks = [prompt.rsplit("<|im_start|>user", 1)[1] for prompt in asked]
    assert all("Fact: " in ask for ask in last_asks)
    assert not [ask for ask in last_asks if "closing sentence" in ask or "Fact: price" in ask]
    for sentence in outcome.meta["sentences"]:
        if sentence["fact"] == "(closing line)":
            assert sentence["text"] == "Order yours from Harbor & Pine today."
            assert sentence["source"] == "composed"


def test_a_price_sentence_says_the_price_once_and_a_weight_is_no_kind_of_product():
    price = Fact("price: 34.95 USD", "price")
    twice = "You can get 34.95 USD for a 34.95 USD Steel Bottle."
    assert any(
        "says the price once" in r
        for r in sentence_failures(twice, price, BOTTLE, BrandRules(), SENTENCES)
    )
    for once in ("The Steel Bottle is priced at 34.95 USD.", "It is yours for $34.95."):
        assert sentence_failures(once, price, BOTTLE, BrandRules(), SENTENCES) == [], once
    garbled = "It's the price of a steel bottle, with 34.95 USD."
    assert any(
        "not said as a price" in r
        for r in sentence_failures(garbled, price, BOTTLE, BrandRules(), SENTENCES)
    )
    packs = Fact("Packs down to 1.9 kg", "description")
    wrong = sentence_failures(
        "The Backpacking Tent is a 1.9 kg pack.", packs, TENT, BrandRules(), SENTENCES
    )
    assert any("calls the product a '1.9 kg pack'" in r for r in wrong), wrong


def test_a_lone_sentence_that_fails_its_channel_leaves_its_facts_open_for_another_round():
    from contentfab.workers.copy.plan import _open_facts

    bag = ProductFacts(
        sku="s1",
        title="Down Sleeping Bag",
        description="Comfort rated to 0 °C, with a draft collar.",
        category="Camping",
    )
    plan = Plan(_slot("sms", bag), facts(bag))
    # "°" is no GSM-7 character: the SMS is UCS-2, 70 characters at most
    too_long = (
        "The Down Sleeping Bag is comfort rated to 0 °C, with a draft collar, so it is ready."
    )
    _consider(plan, 0, 0, _generation(too_long))
    assert not plan.passed and plan.failures.get("length") == 1
    assert _open_facts(plan, 0) == [0]  # the next round samples it again
    said = "The Down Sleeping Bag is comfort rated to 0 °C with a draft collar."
    _consider(plan, 0, 1, _generation(said))
    assert _assemble(plan)[0] == said
    assert _open_facts(plan, 0) == []


def test_a_part_a_measure_or_a_pasted_opening_is_not_what_the_product_is():
    hose = ProductFacts(
        sku="h1",
        title="Expandable Garden Hose 15 m with 8-Pattern Spray Gun",
        description="Expands to 15 m. Includes brass fittings.",
        category="Garden",
    )
    spray = Fact("8-Pattern Spray Gun", "description")
    for wrong in (
        "The Garden Hose is a 8-pattern spray gun.",  # a part named in the title's "with"
        "It is 15 m.",  # a measure
    ):
        failed = sentence_failures(wrong, spray, hose, BrandRules(), SENTENCES)
        assert any("calls the product a" in r for r in failed), (wrong, failed)
    right = "The Garden Hose is an expandable hose with a spray gun."
    assert not any(
        "calls the product" in r
        for r in sentence_failures(right, spray, hose, BrandRules(), SENTENCES)
    )
    brass = Fact("Includes brass fittings.", "description")
    pasted = "The Garden Hose is a hose, Includes brass fittings."
    assert any(
        "pasted mid-sentence: Includes" in r
        for r in sentence_failures(pasted, brass, hose, BrandRules(), SENTENCES)
    )


def test_a_pair_of_curtains_is_curtains_and_a_pair_of_eyelets_is_not():
    curtains = ProductFacts(sku="c1", title="Triple-Weave Blackout Curtains, Pair", category="Home")
    said = "The Blackout Curtains are a pair of triple-weave blackout curtains."
    assert _misidentified(said, curtains) is None
    assert _misidentified("The Blackout Curtains are a pair of 8 eyelets.", curtains) == "8 eyelets"


def test_allowed_words_glued_into_a_name_and_the_only_claim_are_refused():
    fact = Fact("Keeps drinks cold for 24 hours.", "description")
    glued = sentence_failures(
        "The Like-Like Steel Bottle keeps drinks cold for 24 hours.",
        fact,
        BOTTLE,
        BrandRules(),
        SENTENCES,
    )
    assert any("compounds the record does not write: Like-Like" in r for r in glued)
    only = sentence_failures(
        "The only Steel Bottle that keeps drinks cold for 24 hours.",
        fact,
        BOTTLE,
        BrandRules(),
        SENTENCES,
    )
    assert any(r.startswith("grounding") and "only" in r for r in only)


def test_a_priced_text_passes_the_gates_wherever_they_run_and_only_with_a_price():
    said = (
        "The Steel Bottle keeps drinks cold for 24 hours. It has a leak-proof lid and a "
        "powder-coated grip. The Steel Bottle is priced at 34.95 USD."
    )
    # the reviewer's and the test's check, with the slot's own brand kit: no special words
    assert check(said, SENTENCES, BOTTLE) == []
    unpriced = ProductFacts(sku="u", title=BOTTLE.title, description=BOTTLE.description)
    assert any(r.startswith("grounding") for r in check(said, SENTENCES, unpriced))


def _product(title: str, description: str, **more: object) -> ProductFacts:
    return ProductFacts(sku="x", title=title, description=description, category="Test", **more)  # type: ignore[arg-type]


def _gates(text: str, fact: Fact, product: ProductFacts, *, alone: bool = False) -> list[str]:
    return sentence_failures(text, fact, product, BrandRules(), SENTENCES, alone=alone)


def test_a_number_keeps_the_words_its_fact_says_it_with():
    poles = _product("Trekking Poles", "Length adjusts from 110 to 130 cm.")
    length = facts(poles)[0]
    assert any(
        r.startswith("fact: numbers said") for r in _gates("It measures 130 cm.", length, poles)
    )
    assert _gates("Its length adjusts from 110 to 130 cm.", length, poles) == []
    monitor = _product("Video Monitor", "Range up to 300 m in open space.")
    reach = facts(monitor)[0]
    cut = _gates("It has a range of 300 m in open space.", reach, monitor)
    assert any("up to" not in r and r.startswith("fact: numbers said") for r in cut), cut
    assert _gates("It has a range of up to 300 m in open space.", reach, monitor) == []
    kit = _product("Starter Kit", "Batteries last about 2 years.")
    last = facts(kit)[0]
    moved = _gates("It comes with 2 batteries that last about 2 years.", last, kit)
    assert any("2 batteries" in r for r in moved), moved
    table = _product("Camp Table", "Holds up to 30 kg.")
    bare = _gates("The Camp Table holds up to 30.", facts(table)[0], table)
    assert any(r.startswith("fact: numbers said") for r in bare), bare


def test_what_a_fact_says_of_a_part_is_not_said_of_the_product():
    fountain = _product("Cat Water Fountain", "The stainless steel bowl is dishwasher safe.")
    bowl = facts(fountain)[0]
    whole = _gates("The Cat Water Fountain is dishwasher safe.", bowl, fountain)
    assert any("stainless steel bowl" in r for r in whole), whole
    assert _gates("Its stainless steel bowl is dishwasher safe.", bowl, fountain) == []
    # a long sentence about a part stays whole, so its later clauses keep their subject
    bed = _product(
        "Foam Dog Bed",
        "The cover is removable, zips off in one go and machine washes at 40 °C for easy care.",
    )
    assert [f.text for f in facts(bed)] == [bed.description]
    # what follows "with … and a …" is something the product has
    lantern = _product(
        "Camping Lantern",
        "500-lumen lantern with warm and cool white modes and a 5,200 mAh battery that can also "
        "charge a phone over USB-C.",
    )
    said = [f.text for f in facts(lantern)]
    assert "with a 5,200 mAh battery that can also charge a phone over USB-C" in said, said


def test_a_set_is_not_one_of_its_pieces_and_a_code_stays_in_its_name():
    lights = _product("Bike Light Set", "800-lumen front light with a 50-lumen rear light.")
    rear = Fact("with a 50-lumen rear light", "description")
    wrong = _gates("The Bike Light Set is a 50-lumen rear light.", rear, lights)
    assert any("calls the product a" in r for r in wrong), wrong
    assert _gates("The Bike Light Set comes with a 50-lumen rear light.", rear, lights) == []
    bike = _product("Gravel Bike G2", "2 × 11 Shimano GRX gearing.")
    gearing = facts(bike)[0]
    code = _gates("It has 2 × 11 Shimano G2 gearing.", gearing, bike)
    assert any("model code" in r and "G2" in r for r in code), code
    assert _gates("The Gravel Bike G2 has 2 × 11 Shimano GRX gearing.", gearing, bike) == []


def test_no_offer_or_price_phrase_outside_the_price_and_the_closing_line():
    sponge = _product("Konjac Sponge", "Replace it every 8 weeks.")
    every = facts(sponge)[0]
    priced = _gates("The Konjac Sponge is yours for every 8 weeks.", every, sponge)
    assert any("price phrase" in r for r in priced), priced
    swaddles = _product("Muslin Swaddles", "Use them as burp cloths or a light blanket.")
    use = facts(swaddles)[0]
    offer = _gates("You can buy burp cloths or a light blanket.", use, swaddles)
    assert any("an offer" in r and "buy" in r for r in offer), offer


def test_a_list_is_said_whole_and_a_facts_clause_is_not_pasted_after_is():
    wok = _product(
        "Carbon Steel Wok",
        "Hand-hammered carbon steel wok with a flat base for gas, electric and induction hobs.",
    )
    base = facts(wok)[0]
    part = _gates(
        "The Carbon Steel Wok is a hand-hammered carbon steel wok with a flat base for gas.",
        base,
        wok,
    )
    assert any("said in part" in r and "electric" in r for r in part), part
    whole = "The Carbon Steel Wok has a flat base for gas, electric and induction hobs."
    assert not any("said in part" in r for r in _gates(whole, base, wok))
    poles = _product("Trekking Poles", "Length adjusts from 110 to 130 cm.")
    pasted = _gates("It is length adjusts from 110 to 130 cm.", facts(poles)[0], poles)
    assert any("pasted after 'is'" in r for r in pasted), pasted


def test_a_one_sentence_channel_says_the_price_only_when_the_record_has_nothing_else():
    from contentfab.workers.copy.plan import _open_facts

    plan = Plan(_slot("meta_primary_text", BOTTLE), facts(BOTTLE))
    for variant in range(4):
        opened = _open_facts(plan, variant)
        assert all(plan.facts[i].kind != "price" for i in opened), opened
    bare = ProductFacts(sku="p", title="Gift Card", description="", price="25", currency="EUR")
    assert _open_facts(Plan(_slot("sms", bare), facts(bare)), 0) == [0]


def test_a_measure_is_no_model_code_a_price_is_said_as_a_price_and_a_noun_phrase_keeps_its_comma():
    tea = _product("Sencha Tea 100g", "Resealable 100 g foil pouch.", price="14.80", currency="EUR")
    pouch = facts(tea)[0]
    assert not any(
        "model code" in r for r in _gates("It is a resealable 100g foil pouch.", pouch, tea)
    )
    price = facts(tea)[-1]
    assert price.kind == "price"
    assert _gates("The Sencha Tea costs 14.80 EUR.", price, tea) == []
    # "is 14.80 EUR" reads as what the tea is: every such text was labelled clumsy or worse
    assert any("said as a price" in r for r in _gates("The Sencha Tea is 14.80 EUR.", price, tea))
    cup = _product(
        "Sencha Tea",
        "Steep for 1 minute at 70 °C for a sweet, grassy cup with a deep green colour.",
    )
    assert [f.text for f in facts(cup)] == [cup.description]


def test_a_one_sentence_channel_prefers_its_own_first_fact_so_sms_and_ad_differ():
    from contentfab.workers.copy.plan import _lead

    sms, ad = (
        Plan(_slot("sms", TENT), facts(TENT)),
        Plan(_slot("meta_primary_text", TENT), facts(TENT)),
    )
    assert _lead(sms, 0) != _lead(ad, 0)
    for plan in (sms, ad):
        plan.lead = _lead(plan, 0)
        _consider(
            plan,
            0,
            0,
            _generation("The Backpacking Tent is a freestanding dome tent with two doors.", -0.5),
        )
        _consider(plan, 1, 0, _generation("The Backpacking Tent packs down to 1.9 kg.", -2.0))
    assert _assemble(sms)[0] != _assemble(ad)[0]


def test_a_one_sentence_channel_prefers_a_sentence_that_says_something_of_the_product():
    from contentfab.workers.copy.gates import says_a_point
    from contentfab.workers.copy.plan import _lead

    sms = Plan(_slot("sms", TENT), facts(TENT))
    sms.lead = _lead(sms, 0)
    thin = "The Backpacking Tent costs 249.00 USD."  # true, but nothing of the tent itself
    more = "The Backpacking Tent packs down to 1.9 kg."
    price = next(i for i, f in enumerate(sms.facts) if f.kind == "price")
    weight = next(i for i, f in enumerate(sms.facts) if "1.9 kg" in f.text)
    sms.lead = price
    _consider(sms, price, 0, _generation(thin, -0.2))
    _consider(sms, weight, 0, _generation(more, -3.0))
    assert [c.text for c in sms.passed[price]] == [thin]  # it passes the gates, but
    assert not says_a_point(thin, TENT) and says_a_point(more, TENT)
    assert _assemble(sms)[0] == more


def test_a_sentence_does_not_borrow_the_worked_examples_words():
    stone = _product("Dragon Stone", "Rinse before use.")
    rinse = facts(stone)[0]
    echo = _gates("The Dragon Stone is great for your day pack, so rinse before use.", rinse, stone)
    assert any("worked example" in r and "day pack" in r for r in echo), echo
    # a record that writes the phrase may use it
    bag = _product("Trail Pack", "A day pack with a rain cover.")
    assert not any(
        "worked example" in r
        for r in _gates("The Trail Pack is a day pack with a rain cover.", facts(bag)[0], bag)
    )


class _FrameScorer:
    """A generator that only scores: each composed sentence's log-probability per token is
    what ``liked`` says of the first matching phrase (else -3.0), over 10 tokens."""

    def __init__(self, liked: dict[str, float]):
        self.liked = liked
        self.scored: list[str] = []

    def chat_prompt(self, messages):
        return messages[-1]["content"]

    def prefix_logprobs(self, prompts, prefixes):
        self.scored.extend(prefixes)
        found = []
        for prefix in prefixes:
            mean = next((v for k, v in self.liked.items() if k in prefix), -3.0)
            found.append((mean * 10, 10))
        return found


LAMP = ProductFacts(
    sku="l1",
    title="Brass Wall Lamp",
    description="Solid brass wall lamp with a swing arm. The linen shade is 22 cm wide. "
    "Hard-shell body at 2.6 kg.",
    category="Lighting",
)


def test_a_record_clause_is_framed_as_written_around_the_products_name():
    from contentfab.workers.copy.compose import framed_sentences

    fly = Fact("keeps rain out with a 3000 mm polyester fly", "description")
    frames = framed_sentences(fly, TENT, "Backpacking Tent", alone=False)
    assert frames["verb"] == [
        "The Backpacking Tent keeps rain out with a 3000 mm polyester fly.",
        "It keeps rain out with a 3000 mm polyester fly.",
    ]
    # a sentence on its own (an SMS) names the product: no "It"
    assert framed_sentences(fly, TENT, "Backpacking Tent", alone=True)["verb"] == [
        "The Backpacking Tent keeps rain out with a 3000 mm polyester fly."
    ]
    # a part keeps its subject: as the record writes it, or the product's part
    shade = Fact("The linen shade is 22 cm wide.", "description")
    assert framed_sentences(shade, LAMP, "Wall Lamp", alone=False) == {
        "possessive": [
            "The Wall Lamp's linen shade is 22 cm wide.",
            "Its linen shade is 22 cm wide.",
        ],
        "as written": ["The linen shade is 22 cm wide."],
    }
    # a plural name takes "are" and no verb of the third person singular
    lights = ProductFacts(sku="s", title="String Lights", description="Warm white glow.")
    glow = framed_sentences(
        Fact("Warm white glow", "description"), lights, "String Lights", alone=True
    )
    assert glow["has a"] == ["The String Lights have a warm white glow."]
    assert "is a" not in glow  # not "are a … glow"
    blades = Fact("The handles are black lacquered.", "description")
    scissors = ProductFacts(sku="s", title="Sewing Scissors", description="x")
    assert framed_sentences(blades, scissors, "Sewing Scissors", alone=True) == {
        "possessive": ["The Sewing Scissors' handles are black lacquered."]
    }
    # a body that opens with an article or a modal's clause is no verb phrase
    wiped = Fact("The carbon steel blades should be wiped dry after use", "description")
    assert framed_sentences(wiped, scissors, "Sewing Scissors", alone=True) == {}
    steel = framed_sentences(Fact("a carbon steel blade", "description"), TENT, "Tent", alone=True)
    assert "verb" not in steel and "has" in steel
    assert framed_sentences(fly, lights, "String Lights", alone=True).get("verb") is None
    load = Fact("max load: 40 kg", "attribute", (("max_load_kg", 40),))
    assert "The Backpacking Tent has a max load of 40 kg." in [
        t
        for texts in framed_sentences(load, TENT, "Backpacking Tent", alone=True).values()
        for t in texts
    ]
    assert framed_sentences(Fact("", "close"), TENT, "Backpacking Tent", alone=False) == {}
    # a clause that opens with the record's verb gets no "is"/"has" frame around it, and an
    # instruction is said as written (round 4 delivered "It is vibrates when it locks onto the
    # flag." and "It is apply in the shade …")
    vibrates = Fact("vibrates when it locks onto the flag", "description")
    finder = ProductFacts(sku="r", title="Golf Rangefinder", description="x")
    assert framed_sentences(vibrates, finder, "Golf Rangefinder", alone=False) == {
        "verb": [
            "The Golf Rangefinder vibrates when it locks onto the flag.",
            "It vibrates when it locks onto the flag.",
        ]
    }
    apply = Fact("Apply in the shade on a cool, clean surface", "description")
    assert framed_sentences(apply, finder, "Spray Coating", alone=False) == {
        "as written": ["Apply in the shade on a cool, clean surface."]
    }
    assert framed_sentences(apply, finder, "Spray Coating", alone=True) == {}


def test_frames_from_the_round_four_reading():
    """Composition faults round 4's after-run delivered, each fixed at its frame."""
    from contentfab.workers.copy.compose import framed_sentences

    rug = ProductFacts(
        sku="r",
        title="Turnout Rug 200 g, Sizes 5'6\" to 7'0\"",
        description="Waterproof rug. Sizes from 5'6\" to 7'0\".",
    )
    # a range noun is what the product comes in, never a verb ("The Turnout Rug Sizes from …")
    sizes = Fact("Sizes from 5'6\" to 7'0\"", "description")
    assert framed_sentences(sizes, rug, "Turnout Rug", alone=True) == {
        "comes in": ["The Turnout Rug comes in sizes from 5'6\" to 7'0\"."]
    }
    # "with …" is had or come with, never "is with" ("It is with three trays" was delivered)
    trays = framed_sentences(Fact("with three trays", "description"), TENT, "Tent", alone=True)
    assert trays == {
        "comes": ["The Tent comes with three trays."],
        "has": ["The Tent has three trays."],
    }
    # a clause with its own subject and verb is said as written ("is assembly takes …")
    kit = ProductFacts(sku="k", title="Beehive Kit", description="x")
    assembly = Fact("Assembly takes about two hours with a hammer", "description")
    assert framed_sentences(assembly, kit, "Beehive Kit", alone=False) == {
        "as written": ["Assembly takes about two hours with a hammer."]
    }
    # a singular noun of the product's own kind takes its article ("is Helmet with …")
    helmet = ProductFacts(sku="h", title="Kids' Ski Helmet", description="x")
    frames = framed_sentences(
        Fact("helmet with a MIPS liner", "description"), helmet, "Ski Helmet", alone=True
    )
    # ... and where the noun is only the name's own word, what follows it is said instead
    # ("The Ski Helmet is a helmet with …" repeats the name)
    assert frames == {
        "comes": ["The Ski Helmet comes with a MIPS liner."],
        "has": ["The Ski Helmet has a MIPS liner."],
    }
    frames = framed_sentences(
        Fact("road helmet with a MIPS liner", "description"), helmet, "Ski Helmet", alone=True
    )
    assert "is" not in frames and frames["is a"] == [
        "The Ski Helmet is a road helmet with a MIPS liner."
    ]
    # a plural name whose last word is a model name ("Skis Vento") takes "are"
    skis = ProductFacts(sku="s", title="Skis Vento 84", description="Wood-core skis.")
    core = framed_sentences(Fact("wood-core skis", "description"), skis, "Skis Vento", alone=True)
    assert core["is"] == ["The Skis Vento are wood-core skis."]
    # an attribute whose value names its key is a kind of the product, a folded size a size
    # ("It has a 3-season season." and "The Folding Chair has a 92x60x8 cm folded." were
    # delivered by the demo)
    season = Fact("season: 3-season", "attribute", (("season", "3-season"),))
    assert framed_sentences(season, TENT, "Backpacking Tent", alone=True) == {
        "is a value kind": ["The Backpacking Tent is a 3-season tent."]
    }
    chair = ProductFacts(
        sku="c", title="Camp Lounger Folding Chair", attributes={"folded": "92x60x8 cm"}
    )
    (folded,) = facts(chair)
    assert framed_sentences(folded, chair, "Folding Chair", alone=True) == {
        "measures": ["The Folding Chair measures 92x60x8 cm folded."]
    }
    for texts in framed_sentences(folded, chair, "Folding Chair", alone=False).values():
        for text in texts:
            assert sentence_failures(text, folded, chair, BrandRules(), SENTENCES) == [], text


def test_every_framed_sentence_of_a_part_passes_the_gates_a_model_sentence_passes():
    from contentfab.workers.copy.compose import framed_sentences

    shade = Fact("The linen shade is 22 cm wide.", "description")
    for texts in framed_sentences(shade, LAMP, "Wall Lamp", alone=False).values():
        for text in texts:
            # "is 22 cm" is said of the shade, not of the lamp; "Lamp's" is the name's
            assert sentence_failures(text, shade, LAMP, BrandRules(), SENTENCES) == [], text
    # said of the lamp it is still refused
    wrong = sentence_failures("The Wall Lamp is 22 cm wide.", shade, LAMP, BrandRules(), SENTENCES)
    assert any(r.startswith("claim") for r in wrong), wrong
    # the name is no word of the fact's order
    paints = ProductFacts(
        sku="w",
        title="Artist Watercolour Set",
        description="Twenty-four artist-grade watercolours in half pans.",
    )
    pans = facts(paints)[0]
    said = "The Watercolour Set has twenty-four artist-grade watercolours in half pans."
    assert sentence_failures(said, pans, paints, BrandRules(), SENTENCES) == []


def test_a_fact_the_model_failed_gets_its_clause_in_the_likeliest_frame_only():
    from contentfab.workers.copy.compose import _compose_open

    plan = Plan(_slot("product_description", LAMP), [*facts(LAMP), Fact("", "close")])
    said = "The Brass Wall Lamp is a solid brass wall lamp with a swing arm."
    _consider(plan, 0, 0, _generation(said, -2.0))  # the model said fact 0
    scorer = _FrameScorer(
        {
            "Lamp's linen shade": -0.5,
            # the model reads the body as what the lamp is; the gates refuse that, and the
            # frame that would make it a part the lamp has is never the fallback
            "is a hard-shell body": -0.4,
            "has a hard-shell body": -0.9,
        }
    )
    _compose_open(scorer, {1: plan}, {}, batch_size=4)
    assert not any(said in s for s in scorer.scored)  # a fact the model said is not composed
    assert [c.text for c in plan.passed[1]] == [
        "The Brass Wall Lamp's linen shade is 22 cm wide.",
        "Its linen shade is 22 cm wide.",
    ]
    assert plan.passed[1][0].composed
    assert 2 not in plan.passed
    assert plan.failures.get("claim")
    text, error, meta = _assemble(plan)
    # the assembled text is judged whole as ever: two sentences are too short a description
    assert text is None and error is not None and "fewer than 25" in error
    # (naming the lamp twice would repeat a four-word phrase: the next sentence says "Its";
    # the composed call to action of a text short of 25 words does not make 20 words enough)
    assert meta["rejected_text"] == f"{said} Its linen shade is 22 cm wide. Order yours today."
    assert [s["source"] for s in meta["sentences"]] == ["model", "composed", "composed"]
    assert meta["composed_sentences"] == 2 and meta["source"] == "sentences"


def test_a_description_a_few_words_short_closes_with_the_brands_call_to_action():
    from contentfab.workers.copy.slots import BrandRules

    slot = replace(_slot("product_description", BOTTLE), brand=BrandRules(name="Harbor & Pine"))
    plan = Plan(slot, [*facts(BOTTLE), Fact("", "close")])
    said = {
        0: "The Steel Bottle keeps drinks cold for 24 hours.",
        1: "It has a leak-proof lid and a powder-coated grip.",
        2: "It costs 34.95 USD.",
    }
    for index, text in said.items():
        _consider(plan, index, 0, _generation(text))
    text, error, meta = _assemble(plan)
    # 22 words of facts: the brand's call to action closes it (no model closing line passed)
    assert error is None, error
    assert text == " ".join(said.values()) + " Order yours from Harbor & Pine today."
    assert meta["sentences"][-1] == {**meta["sentences"][-1], "source": "composed"}
    assert check(text, slot.spec, BOTTLE, slot.brand) == []
    # a closing line the model wrote and the gates passed is used instead
    _consider(plan, 3, 0, _generation("Fill it, pack it and take it with you today."))
    assert _assemble(plan)[0] == " ".join(said.values()) + (
        " Fill it, pack it and take it with you today."
    )


def test_a_lone_sentence_is_composed_only_when_the_model_passed_none_and_names_the_product():
    from contentfab.workers.copy.compose import _compose_open

    plan = Plan(_slot("sms", LAMP), facts(LAMP))
    _compose_open(_FrameScorer({"Lamp is a solid brass": -0.3}), {1: plan}, {}, batch_size=8)
    text, error, meta = _assemble(plan)
    assert text == "The Brass Wall Lamp is a solid brass wall lamp with a swing arm.", error
    assert meta["source"] == "composed" and meta["composed_sentences"] == 1
    # with a model sentence passed, nothing is composed
    kept = Plan(_slot("sms", LAMP), facts(LAMP))
    _consider(
        kept,
        0,
        0,
        _generation("The Brass Wall Lamp is a solid brass wall lamp with a swing arm.", -2.0),
    )
    scorer = _FrameScorer({})
    _compose_open(scorer, {1: kept}, {}, batch_size=8)
    assert scorer.scored == []


def test_a_clause_that_opens_with_a_participle_is_also_framed_with_its_verb():
    from contentfab.workers.copy.compose import framed_sentences

    holding = Fact("holding 36 l", "description")
    case = ProductFacts(sku="c", title="Cabin Suitcase", description="Hard shell, holding 36 l.")
    frames = framed_sentences(holding, case, "Cabin Suitcase", alone=True)
    assert frames["verb from -ing"] == ["The Cabin Suitcase holds 36 l."]
    assert frames["is"] == ["The Cabin Suitcase is holding 36 l."]
    # the record's verb in another form passes the same gates
    assert (
        sentence_failures(
            "The Cabin Suitcase holds 36 l.", holding, case, BrandRules(), SENTENCES, alone=True
        )
        == []
    )


def test_a_keys_min_is_minutes_only_when_the_key_speaks_of_time():
    assert attribute_phrase("players_min", 2) == "players min: 2"
    assert attribute_phrase("play_time_min", 60) == "play time: 60 min"
    game = ProductFacts(
        sku="g",
        title="Cooperative Strategy Game",
        description="The players work together.",
        attributes={"players_min": 2},
    )
    fewest = next(f for f in facts(game) if f.kind == "attribute")
    # ("Two to five players work together." says it already: no attribute fact then)
    said = replace(game, description="Two to five players work together.")
    assert [f.kind for f in facts(said)] == ["description"]
    wrong = sentence_failures(
        "The Strategy Game is a 2 min game.", fewest, game, BrandRules(), SENTENCES
    )
    assert any(r.startswith("fact") or r.startswith("claim") for r in wrong), wrong
    # and the fewest said as a plain number is a bound dropped
    plain = sentence_failures(
        "The Strategy Game is for 2 players.", fewest, game, BrandRules(), SENTENCES
    )
    assert any("bound" in r for r in plain), plain
    assert (
        sentence_failures(
            "The Strategy Game is for a min of 2 players.", fewest, game, BrandRules(), SENTENCES
        )
        == []
    )


def test_the_smaller_of_two_pieces_is_not_the_whole_set():
    tables = ProductFacts(
        sku="t",
        title="Oak Nesting Side Tables, Set of 2",
        description="Two solid oak tables that tuck one under the other: the larger is "
        "50 × 40 × 45 cm, the smaller 40 × 32 × 38 cm.",
    )
    smaller = Fact("the smaller 40 × 32 × 38 cm", "description")
    wrong = sentence_failures(
        "The Side Tables is a 40 × 32 × 38 cm table.", smaller, tables, BrandRules(), SENTENCES
    )
    assert any("what its fact says of smaller" in r for r in wrong), wrong
    kept = sentence_failures(
        "The smaller table is 40 × 32 × 38 cm.", smaller, tables, BrandRules(), SENTENCES
    )
    assert not any("says of" in r for r in kept), kept


def test_a_bound_stays_a_bound_and_a_clause_with_its_own_verb_gets_no_frame():
    from contentfab.workers.copy.compose import framed_sentences

    most = Fact("players max: 5", "attribute", (("players_max", 5),))
    game = ProductFacts(sku="g", title="Strategy Game", attributes={"players_max": 5})
    plain = sentence_failures("It has 5 players.", most, game, BrandRules(), SENTENCES)
    assert any("bound" in r for r in plain), plain
    assert not any(
        "bound" in r
        for r in sentence_failures(
            "It is for up to 5 players.", most, game, BrandRules(), SENTENCES
        )
    )
    own = Fact("Two to five players work together to keep the lamps lit", "description")
    assert framed_sentences(own, game, "Strategy Game", alone=True) == {}
    assert framed_sentences(own, game, "Strategy Game", alone=False) == {
        "as written": ["Two to five players work together to keep the lamps lit."]
    }
    lamp = Fact("Brass wall lamp with an arm that folds flat", "description")
    assert "is a" in framed_sentences(lamp, LAMP, "Wall Lamp", alone=True)
    ages = framed_sentences(Fact("Ages 10+", "description"), game, "Strategy Game", alone=True)
    assert ages["is for"] == ["The Strategy Game is for ages 10+."]


def test_a_noun_phrase_of_the_products_own_kind_is_what_it_is_not_a_part_it_has():
    from contentfab.workers.copy.compose import framed_sentences

    goggles = ProductFacts(sku="g", title="Anti-Fog Swimming Goggles", description="x")
    seal = Fact("Silicone seal goggles with tinted lenses", "description")
    frames = framed_sentences(seal, goggles, "Swimming Goggles", alone=True)
    assert "has" not in frames and "has a" not in frames
    assert frames["is"] == ["The Swimming Goggles are silicone seal goggles with tinted lenses."]
    lid = framed_sentences(
        Fact("Leak-proof lid", "description"), BOTTLE, "Steel Bottle", alone=True
    )
    assert lid["has a"] == ["The Steel Bottle has a leak-proof lid."]


def test_a_count_is_had_a_size_range_come_in_and_a_yen_price_has_no_decimals():
    from contentfab.workers.copy.compose import framed_sentences
    from contentfab.workers.copy.senses import sized_as_being

    socks = ProductFacts(
        sku="s",
        title="Merino Ski Socks",
        description="Knee-high ski socks with seven loops.",
        price="2480",
        currency="JPY",
        attributes={"pockets": 2, "sizes": "36 to 47", "loops": 7},
    )
    found = {f.text: f for f in facts(socks)}
    # "seven loops" in the description says "loops: 7"; a yen price is said without decimals
    assert list(found) == [
        "Knee-high ski socks with seven loops.",
        "pockets: 2",
        "sizes: 36 to 47",
        "price: 2480 JPY",
    ]
    frames = framed_sentences(found["pockets: 2"], socks, "Merino Ski Socks", alone=True)
    assert frames == {"has value keys": ["The Merino Ski Socks have 2 pockets."]}
    frames = framed_sentences(found["sizes: 36 to 47"], socks, "Merino Ski Socks", alone=True)
    assert frames == {"comes in": ["The Merino Ski Socks come in sizes 36 to 47."]}
    assert sized_as_being("The Merino Ski Socks are size 36 to 47.") == ["are size 36"]
    assert sized_as_being("They come in sizes 36 to 47.") == []


def test_a_clause_that_opens_with_the_products_own_name_says_what_follows_the_name():
    from contentfab.workers.copy.compose import framed_sentences

    bag = ProductFacts(
        sku="d",
        title="Roll-Top Dry Bag 20 L",
        description="Roll-top dry bag in 500D PVC tarpaulin with a detachable shoulder strap.",
    )
    (clause,) = [f for f in facts(bag) if f.kind == "description"]
    # "is a roll-top dry bag in …" is refused as a restated name: the rest is said instead
    assert framed_sentences(clause, bag, "Roll-Top Dry Bag", alone=True) == {
        "comes": [
            "The Roll-Top Dry Bag comes in 500D PVC tarpaulin with a detachable shoulder strap."
        ]
    }
    arrows = ProductFacts(
        sku="a", title="Carbon Arrows, 12 Pack", description="Carbon arrows with plastic vanes."
    )
    (clause,) = [f for f in facts(arrows) if f.kind == "description"]
    assert framed_sentences(clause, arrows, "Carbon Arrows", alone=True) == {
        "comes": ["The Carbon Arrows come with plastic vanes."],
        "has": ["The Carbon Arrows have plastic vanes."],
    }
    # a noun phrase that says more than the name ("steel") keeps its "is a" frame
    pick = ProductFacts(sku="p", title="Hoof Pick", description="Steel hoof pick with a brush.")
    (clause,) = [f for f in facts(pick) if f.kind == "description"]
    assert "is a" in framed_sentences(clause, pick, "Hoof Pick", alone=True)


def test_the_price_opens_a_text_only_when_no_other_fact_can():
    slot = _slot("product_description")
    plan = Plan(slot, [*facts(BOTTLE), Fact("", "close")])
    price = next(i for i, f in enumerate(plan.facts) if f.kind == "price")
    _consider(plan, 0, 0, _generation("It keeps drinks cold for 24 hours."))
    _consider(plan, 1, 0, _generation("It has a leak-proof lid and a powder-coated grip."))
    _consider(plan, price, 0, _generation("The Steel Bottle is priced at 34.95 USD."))
    _consider(plan, price + 1, 0, _generation("Choose the Steel Bottle today."))
    text, _error, _meta = _assemble(plan)
    # (the demo opened three descriptions with the price): the first fact opens, named
    assert text is not None and text.startswith("The Steel Bottle keeps drinks cold for 24 hours.")
    assert "The Steel Bottle is priced at 34.95 USD." in text
    assert not text.startswith("The Steel Bottle is priced")  # nor the closing line


def test_a_use_the_model_wraps_around_a_true_word_is_filler():
    vest = ProductFacts(
        sku="v1",
        title="Reflective Running Vest",
        description="Adjustable mesh vest with reflective bands front and back. Ideal for small hands.",
    )
    mesh = Fact("Adjustable mesh vest with reflective bands front and back.", "description")
    invented = "It is perfect for running around the store."
    assert any(
        "generic filler" in r
        for r in sentence_failures(invented, mesh, vest, BrandRules(), SENTENCES)
    )
    assert any(
        "generic filler" in r
        for r in sentence_failures(
            "The Running Vest is a great choice for runners.", mesh, vest, BrandRules(), SENTENCES
        )
    )
    # the record's own "ideal for" is no filler
    said = Fact("Ideal for small hands.", "description")
    assert not [
        r
        for r in sentence_failures(
            "The Running Vest is ideal for small hands.", said, vest, BrandRules(), SENTENCES
        )
        if "filler" in r
    ]


def test_a_description_that_opens_with_the_products_form_names_what_it_is():
    finish = ProductFacts(
        sku="f1",
        title="Beeswax & Orange Oil Wood Finish, 250 ml",
        description="Paste of beeswax, carnauba wax and orange oil for bare wood, in a 250 ml tin.",
    )
    assert "paste" in kind_heads(finish)  # and so "is a paste of …" is no misnaming
    assert _misidentified("The Wood Finish is a paste of beeswax.", finish) is None
    # counts, amounts and collectives are no form
    for opening in ("Fifteen metres of cable", "Pair of gloves", "Made of pine"):
        other = ProductFacts(sku="x", title="Garden Lights", description=f"{opening}, 5 m.")
        assert kind_heads(other) == {"lights"}, opening


def test_a_use_or_benefit_the_fact_does_not_say_is_filler():
    paste = Fact("Paste of beeswax and orange oil for bare wood, in a 250 ml tin.", "description")
    finish = ProductFacts(sku="f1", title="Wood Finish", description=paste.text)
    for invented in (
        "It is a paste of beeswax and orange oil, and it is used to make a 250 ml tin.",
        "The Wood Finish lets you finish bare wood.",
        "The Wood Finish makes it easy to finish bare wood.",
    ):
        assert any(
            "generic filler" in r
            for r in sentence_failures(invented, paste, finish, BrandRules(), SENTENCES)
        ), invented
    said = Fact("Lets you adjust the height with one hand.", "description")
    desk = ProductFacts(sku="d1", title="Standing Desk", description=said.text)
    assert not [
        r
        for r in sentence_failures(
            "The Standing Desk lets you adjust the height with one hand.",
            said,
            desk,
            BrandRules(),
            SENTENCES,
        )
        if "filler" in r
    ]


def test_round_seven_misreadings_are_refused():
    # Tuned on round 7's labelled texts (its products are seen now): each was labelled 0.
    detector = ProductFacts(
        sku="d",
        title="Fieldscan 600 Metal Detector",
        description="Motion all-metal and discrimination modes, 10-inch waterproof search coil.",
        category="Metal Detecting",
    )
    assert "metal" not in kind_heads(detector)  # an activity's words name no product
    said = "The Metal Detector is a motion all-metal and discrimination mode."
    assert _misidentified(said, detector) is not None
    folders = ProductFacts(
        sku="b",
        title="Bone Folder Set",
        description="Two cattle bone folders, 15 cm and 20 cm, one with a pointed tip and one rounded.",
    )
    assert _misidentified("The Bone Folder Set is a one with a pointed tip.", folders) == "one"
    bucket = ProductFacts(
        sku="s",
        title="Löyly Sauna Bucket with Ladle",
        description="Aspen bucket, 4 litres. Empty after each use and let dry outside the sauna.",
    )
    care = Fact("Empty after each use and let dry outside the sauna.", "description")
    assert any(
        "said as a state" in r
        for r in sentence_failures(
            "It is empty after each use and will dry outside the sauna.",
            care,
            bucket,
            BrandRules(),
            SENTENCES,
        )
    )
    dowels = ProductFacts(
        sku="w",
        title="Shiitake Plug Spawn Dowels",
        description=(
            "100 hardwood dowels, 8 x 25 mm, colonised with shiitake mycelium. Inoculates about "
            "2 to 3 logs of oak or beech, 1 m long."
        ),
    )
    said_facts = [f.text for f in facts(dowels)]
    assert "1 m long" not in said_facts  # the logs' length stays with the logs
    assert "Inoculates about 2 to 3 logs of oak or beech, 1 m long." in said_facts


def test_a_measures_name_is_no_verb_and_nothing_the_product_is():
    glasses = ProductFacts(
        sku="g",
        title="Reading Glasses +2.0",
        description="Acetate frame; lens width 50 mm, bridge 19 mm, temple length 140 mm.",
    )
    bridge = Fact("bridge 19 mm", "description")
    # round 11: "They bridge 19 mm. They are temple length 140 mm." (labelled garbled)
    for garbled in ("They bridge 19 mm.", "They are temple length 140 mm."):
        said = sentence_failures(garbled, bridge, glasses, BrandRules(), SENTENCES)
        assert any("name pasted after 'is'" in r for r in said), (garbled, said)
    fine = "They have a 19 mm bridge."
    assert not any(
        "pasted" in r for r in sentence_failures(fine, bridge, glasses, BrandRules(), SENTENCES)
    )


def test_a_noun_and_its_adjective_are_had_not_done():
    from contentfab.workers.copy.compose import framed_sentences

    rollator = ProductFacts(
        sku="r", title="Rollator Walker", description="Handles adjustable from 80 to 95 cm."
    )
    handles = Fact("Handles adjustable from 80 to 95 cm", "description")
    # round 11 delivered "The Rollator Walker handles adjustable from 80 to 95 cm."
    assert framed_sentences(handles, rollator, "Rollator Walker", alone=True) == {
        "has": ["The Rollator Walker has handles adjustable from 80 to 95 cm."]
    }
    fully = Fact("Fully adjustable from 80 to 95 cm", "description")
    frames = framed_sentences(fully, rollator, "Rollator Walker", alone=True)
    assert frames["is"] == ["The Rollator Walker is fully adjustable from 80 to 95 cm."]


def test_a_descriptions_sentence_has_a_verb():
    from contentfab.workers.copy.shapes import verbless

    # round 11's descriptions (labelled clumsy, a verbless middle sentence)
    assert verbless("TPU bumper with polycarbonate back and built-in magnet ring.")
    assert verbless("Aluminium cane with 10 height positions from 74 to 97 cm.")
    for fine in (
        "It removes air from opened bottles.",
        "The blades should be wiped dry after use.",
        "Store below 25 °C.",
        "The tips heat up in about a minute.",
        "Choose the Flexible Track.",
        "They're the Glasses, with a 50 mm lens.",
    ):
        assert not verbless(fine), fine
    cane = ProductFacts(sku="c", title="Walking Cane", description="Aluminium cane with a ferrule.")
    ferrule = Fact("Aluminium cane with a ferrule", "description")
    said = sentence_failures(
        "Aluminium cane with a ferrule.", ferrule, cane, BrandRules(), SENTENCES
    )
    assert "fragment: a sentence without a verb" in said, said


def test_a_later_sentence_says_it_rather_than_the_name_again():
    from contentfab.workers.copy.facts import SentenceCandidate
    from contentfab.workers.copy.sentences import _pronoun_for_name

    frame = ProductFacts(sku="f", title="Collage Frame", description="Holds six photos.")
    traps = ProductFacts(sku="t", title="Snap Mouse Traps", description="Reusable traps.")

    def said(text: str, product: ProductFacts) -> str:
        return _pronoun_for_name(SentenceCandidate(0, text, -5.0, 5, 1, 1.0), product).text

    # round 11: "… The Collage Frame has an overall size 40 x 50 cm." (labelled clumsy)
    assert said("The Collage Frame has an overall size.", frame) == "It has an overall size."
    assert said("The Snap Mouse Traps are reusable.", traps) == "They are reusable."
    # not where the name is no plain subject
    assert said("The Collage Frame's glass is thin.", frame) == "The Collage Frame's glass is thin."
    assert said("The Collage Frame glass is thin.", frame) == "The Collage Frame glass is thin."


def test_numbers_of_two_facts_are_not_said_as_one():
    from contentfab.workers.copy.numbers import joined_numbers

    drive = ProductFacts(
        sku="d",
        title="Portable SSD",
        description="Rated up to 1050 MB/s read and 1000 MB/s write.",
    )
    frame = ProductFacts(
        sku="f", title="Oak Frame", description="A 30 x 40 cm frame for a 20 x 30 cm print."
    )
    # round 11, both labelled false
    assert joined_numbers("It reads up to 1050 MB/s read and write.", drive)
    assert joined_numbers("It is a 20 x 40 cm frame.", frame) == ["20 x 40"]
    assert joined_numbers("It reads 1050 MB/s read and 1000 MB/s write.", drive) == []
    assert joined_numbers("A 30 x 40 cm frame for a 20 x 30 cm print.", frame) == []
    stand = ProductFacts(
        sku="s", title="Target Stand", description="165 cm high; holds bosses up to 80 cm across."
    )
    assert joined_numbers("Target Stand, 165 cm by 80 cm", stand) == ["165 x 80"]  # round 13
    said = check("Oak Frame, 20 x 40 cm", CHANNELS["search_headline"], frame)
    assert any("two facts said as one" in r for r in said), said


def test_one_thing_of_the_record_is_not_said_as_many():
    from contentfab.workers.copy.numbers import one_made_many

    basket = ProductFacts(
        sku="b",
        title="Proofing Basket",
        description="Round rattan banneton. It includes a removable linen liner and two hooks.",
    )
    # round 12's subject line (labelled false: the record has one liner)
    subject = "Proofing Basket, round rattan banneton with linen liners."
    assert one_made_many(subject, basket) == ["liners"]
    said = check(subject, CHANNELS["email_subject"], basket)
    assert any("has one of" in r for r in said), said
    assert one_made_many("It has a linen liner and two hooks.", basket) == []
    assert one_made_many("Great for little ones.", basket) == []


def test_a_parts_measure_is_not_said_of_the_product():
    from contentfab.workers.copy.shapes import part_measure

    box = ProductFacts(
        sku="k",
        title="Key Lockbox",
        description="Zinc alloy lockbox; internal space 80 x 60 x 30 mm; overall length 12 cm.",
    )
    # round 11: labelled false three times
    assert part_measure("The Key Lockbox is an 80 x 60 x 30 mm lockbox.", box)
    assert part_measure("It measures 80 x 60 x 30 mm.", box)
    assert part_measure("Its internal space is 80 x 60 x 30 mm.", box) is None
    assert part_measure("It has an internal space of 80 x 60 x 30 mm.", box) is None
    assert part_measure("It measures 12 cm.", box) is None  # its own length


def test_a_count_is_no_kind_and_a_participle_needs_its_noun():
    helmet = ProductFacts(
        sku="h",
        title="Auto-Darkening Welding Helmet",
        description="Four arc sensors; solar-assisted with a replaceable battery.",
    )
    sensors = Fact("Four arc sensors", "description")
    # round 12: labelled garbled
    said = sentence_failures(
        "The Welding Helmet is four arc sensors.", sensors, helmet, BrandRules(), SENTENCES
    )
    assert any("calls the product" in r for r in said), said
    battery = Fact("solar-assisted with a replaceable battery", "description")
    said = sentence_failures(
        "It uses a solar-assisted with a replaceable battery.",
        battery,
        helmet,
        BrandRules(),
        SENTENCES,
    )
    assert any("no noun" in r for r in said), said
    track = ProductFacts(sku="t", title="Flexible Track", description="Ten lengths of track.")
    assert _misidentified("The Flexible Track is ten lengths of flexible track.", track) is None


def test_a_feeds_semicolons_part_its_items_and_a_lower_case_instruction_is_written_as_is():
    from contentfab.workers.copy.compose import framed_sentences
    from contentfab.workers.copy.facts import _clauses
    from contentfab.workers.copy.senses import _scoped

    # round 12: the pen kit's description was one fact of 44 words, and no sentence said it
    pen = (
        "60 W pen with dial control; 20 brass tips for lines and shading; metal pen stand; AU plug"
    )
    assert _clauses(pen) == [
        "60 W pen with dial control",
        "20 brass tips for lines and shading",
        "metal pen stand",
        "AU plug",
    ]
    mat = ProductFacts(
        sku="m", title="Battle Mat", description="Lies flat; wipe with a damp cloth."
    )
    wipe = Fact("wipe with a damp cloth", "description")
    # "The Battle Mat has a wipe with a damp cloth." passed every gate
    assert framed_sentences(wipe, mat, "Battle Mat", alone=False) == {
        "as written": ["Wipe with a damp cloth."]
    }
    assert framed_sentences(wipe, mat, "Battle Mat", alone=True) == {}
    # "without clamps and rolls up": the mat rolls up
    said, denied = _scoped("lies flat without clamps and rolls up for storage")
    assert "rolls" in said and "clamps" in denied


def test_a_fact_that_writes_a_word_twice_is_in_order_when_said_in_order():
    from contentfab.workers.copy.faithful import _in_order

    shaker = ProductFacts(sku="s", title="Boston Shaker Set", description="Two tins.")
    tins = Fact("Two steel tins, 530 ml and 830 ml, with weighted bases", "description")
    # round 12: refused as "out of the fact's order" ("ml" twice)
    said = "The Boston Shaker Set has two steel tins, 530 ml and 830 ml, with weighted bases."
    assert _in_order(said, tins, shaker)
    assert not _in_order("It has weighted bases and two steel tins.", tins, shaker)


def test_what_a_set_holds_is_one_list_and_a_names_possessive_is_the_name():
    from contentfab.workers.copy.facts import _clauses
    from contentfab.workers.copy.faithful import _stray_capitals

    # round 12: "Six-piece set of knee pads." was a fact of its own, and a false sentence
    pack = "Six-piece set of knee pads, elbow pads and wrist guards with hard polycarbonate caps."
    assert _clauses(pack) == [pack]
    # round 12: every sentence naming "The Men's Wetsuit" was refused as a pasted opening
    suit = ProductFacts(sku="w", title="Men's 4/3 mm Chest-Zip Wetsuit", description="Neoprene.")
    assert _stray_capitals("The Men's Wetsuit is neoprene.", suit, BrandRules()) == []


def test_a_part_is_not_what_the_product_is_and_is_takes_no_with():
    poles = ProductFacts(
        sku="p",
        title="Snowshoe Poles, Pair",
        description="Pair of 2-section aluminium poles with flip locks and EVA foam grips.",
    )
    grips = Fact("EVA foam grips", "description")
    # round 14: "They are EVA foam grips." (labelled nonsense), "It is with a continuity lamp."
    assert _misidentified("The Snowshoe Poles are EVA foam grips.", poles) == "eva foam grips"
    assert _misidentified("The Snowshoe Poles are aluminium poles.", poles) is None
    for fine in (
        "They are yours for 40 EUR.",
        "They are dishwasher safe.",
        "They are sizes S to L.",
    ):
        assert _misidentified(fine, poles) is None, fine
    said = sentence_failures("They are with EVA foam grips.", grips, poles, BrandRules(), SENTENCES)
    assert any("pasted after 'is'" in r for r in said), said
    # rounds 12-13: a fact's own verb after "has", a pronoun before a noun, a measure with no noun
    for broken in (
        "They have plus 12 lids.",
        "It has each holds a 75 m spool of line.",
        "It blades should be dried after each trip.",
        "They have EVA foam grips and a 2 cm thick.",
    ):
        said = sentence_failures(broken, grips, poles, BrandRules(), SENTENCES)
        assert any(r.startswith("fragment") for r in said), (broken, said)
    said = sentence_failures("They have EVA foam grips.", grips, poles, BrandRules(), SENTENCES)
    assert not any("pasted after 'is'" in r or "calls the product" in r for r in said), said


def test_a_one_sentence_text_leads_with_what_the_product_is_not_a_caveat():
    from contentfab.workers.copy.plan import _open_facts

    paper = ProductFacts(
        sku="l",
        title="Cotton Letterpress Paper",
        description="Not recommended for laser printers. Wipe the press with a cloth. "
        "The soft surface takes a deep impression.",
    )
    plan = Plan(_slot("sms", paper), facts(paper))
    # round 14's SMS and Meta text was "… is not recommended for laser printers."
    assert [plan.facts[i].text for i in _open_facts(plan, 0)] == [
        "The soft surface takes a deep impression."
    ]
    # a later round tries them too, so that the slot is filled (round 16's slicker brush)
    assert len(_open_facts(plan, 0, round_=1)) == 3
    only = ProductFacts(sku="o", title="Helium Tank", description="Cannot be refilled.")
    plan = Plan(_slot("sms", only), facts(only))
    assert [plan.facts[i].text for i in _open_facts(plan, 0)] == ["Cannot be refilled."]


def test_round_15s_false_sentences_are_refused():
    from contentfab.workers.copy.shapes import part_measure

    kit = ProductFacts(
        sku="k",
        title="Entomology Pinning Kit with Foam Board",
        description="Contains 100 insect pins and a 30 x 20 cm foam pinning board; stored in a "
        "zip case. Assembly takes about 5 minutes.",
        attributes={"board_size_cm": "30x20"},
    )
    case = Fact("stored in a zip case", "description")
    for false, why in (
        ("It measures 30x20 cm.", "a part's measure"),  # the board's, keyed board_size_cm
        ("The Pinning Kit is stored in a zip case, and it has a pinning kit.", "its own part"),
        ("Each 30 cm board is a Pinning Kit.", "its own part or as something else"),
        ("It takes about 5 minutes to make.", "a time said of"),
        ("It includes 100 pins, and the 30 cm long.", "no noun after it"),
    ):
        said = sentence_failures(false, case, kit, BrandRules(), SENTENCES)
        assert any(why in r for r in said), (false, said)
    assert part_measure("It has a 30 x 20 cm foam board.", kit) is None
    fine = sentence_failures(
        "It takes about 5 minutes to assemble.", case, kit, BrandRules(), SENTENCES
    )
    assert not any("a time said of" in r for r in fine), fine


def test_a_list_after_a_preposition_stays_one_fact():
    thermometer = ProductFacts(
        sku="t",
        title="Candy Thermometer",
        description="Measures -50 to 300 °C with 0.1 °C resolution; stainless pan clip and "
        "preset markers for soft ball, hard crack and caramel.",
    )
    said = [f.text for f in facts(thermometer)]
    # round 15: "It is hard crack and caramel." of the list's tail
    assert "stainless pan clip and preset markers for soft ball, hard crack and caramel" in said


def test_a_headline_says_the_name_once():
    kit = ProductFacts(sku="k", title="Pinning Kit", description="Insect pins in a zip case.")
    said = check("Pinning Kit, Pinning Kit", CHANNELS["search_headline"], kit)
    assert any("the name twice" in r for r in said), said


def test_a_clauses_subject_and_verb_after_is_and_a_measure_said_twice_are_refused():
    plate = ProductFacts(
        sku="p",
        title="Ceiling Mount Plate",
        description="Zinc-plated steel plate, 120 x 120 mm. Fixings are not included.",
        attributes={"plate_size_mm": "120x120"},
    )
    fixings = Fact("Fixings are not included", "description")
    # round 15's description: "It is fixings are not included because ceiling type varies."
    for broken in ("It is fixings are not included.", "It's also with o-ring seals."):
        said = sentence_failures(broken, fixings, plate, BrandRules(), SENTENCES)
        assert any("pasted after 'is'" in r for r in said), (broken, said)
    # "120x120" is the description's "120 x 120 mm": no second fact of it
    assert [f.text for f in facts(plate) if f.kind == "attribute"] == []


def test_round_16s_false_sentences_are_refused():
    balls = ProductFacts(
        sku="b",
        title="Outdoor Pickleballs, 40 Holes, 6-Pack",
        description="Six one-piece seamless outdoor balls, 74 mm diameter and 26 g each. "
        "Do not mix with acids. Balls stored below freezing become hard.",
    )
    fact = Fact("Six one-piece seamless outdoor balls", "description")
    for false, why in (
        ("You can use it to paddle your pickleballs.", "the reader's own"),
        ("They do not mix with acids.", "a warning said as what the product does"),
        ("They are your only option for outdoor play.", "an 'only'"),
        ("They have 6.", "a number with nothing after it"),
        ("They are Pickleballs stored below freezing.", "noun pasted after 'is'"),
        ("They are the Great Outdoor Balls.", "calls the product"),
        ("They have mix equal volumes.", "pasted after 'is'"),
    ):
        said = sentence_failures(false, fact, balls, BrandRules(), SENTENCES)
        assert any(why in r for r in said), (false, said)
    # "balls" of "Pickleballs" is what they are, and "… 26 g each." ends complete
    moulds = ProductFacts(sku="m", title="Coaster Mould Set", description="Four moulds.")
    four = "The Coaster Mould Set is four silicone moulds."
    assert _misidentified(four, moulds) is None  # a set is what it holds, counted
    assert _misidentified("The Coaster Mould Set is a silicone mould.", moulds)
    fine = "The Outdoor Pickleballs are six seamless outdoor balls, 74 mm diameter and 26 g each."
    said = sentence_failures(fine, fact, balls, BrandRules(), SENTENCES)
    assert not [r for r in said if r.startswith(("claim: calls", "fragment"))], said


def test_the_demo_lanterns_broken_sentence_is_refused():
    lantern = ProductFacts(
        sku="l",
        title="Emberglow Solar Lantern",
        description="Collapsible solar lantern with three brightness settings.",
        attributes={"lumens": 150, "runtime_h": 12.5},
    )
    runtime = Fact("runtime: 12.5 h", "attribute", (("runtime_h", 12.5),))
    broken = "It has a runtime of 12.5 h, and it can runtime up to 12.5 h perfect."
    said = sentence_failures(broken, runtime, lantern, BrandRules(), SENTENCES)
    assert any("a measure said twice" in r for r in said), said
    for odd in ("It can runtime for a whole evening.", "It has a runtime of 12.5 h perfect."):
        said = sentence_failures(odd, runtime, lantern, BrandRules(), SENTENCES)
        assert any(r.startswith("fragment") for r in said), (odd, said)
    fine = sentence_failures(
        "It has a runtime of 12.5 h.", runtime, lantern, BrandRules(), SENTENCES
    )
    assert not [r for r in fine if r.startswith(("fragment", "repetition"))], fine


def test_round_17s_false_sentences_are_refused():
    kit = ProductFacts(
        sku="w",
        title="End-Fed Wire Antenna Kit",
        description="End-fed half-wave antenna for 40, 20, 15 and 10 m; rated 100 W SSB. "
        "Coax, mast and ropes not included. Stone chips can fly several metres.",
    )
    fact = Fact("rated 100 W SSB", "description")
    for false, why in (
        ("It includes coax, mast and ropes.", "says included"),
        ("The Wire Antenna Kit is stone chips can fly several metres.", "pasted after 'is'"),
        ("It is a 100 W antenna of your choice.", "a choice the record does not offer"),
        ("It covers 40, 20, 15 and 10.", "a list cut at a bare number"),
    ):
        said = sentence_failures(false, fact, kit, BrandRules(), SENTENCES)
        assert any(why in r for r in said), (false, said)
    fine = sentence_failures(
        "Coax, mast and ropes are not included.", fact, kit, BrandRules(), SENTENCES
    )
    assert not any("says included" in r for r in fine), fine
    from contentfab.workers.copy.text import fragment

    assert fragment("Acrylic Quilting Ruler: 3 mm thick, with black", sentences=False)


def test_round_17s_remaining_shapes_are_refused_and_their_true_neighbours_pass():
    crock = ProductFacts(
        sku="c",
        title="Fermentation Crock 5 L",
        description="Glazed stoneware crock with a lead-free glaze. Includes two weights. "
        "Do not soak the weights. Keep the lid closed. Fins are not included.",
    )
    fact = Fact("Includes two weights", "description")
    for false, why in (
        ("It is lead-free.", "said of the glaze"),
        ("It has fins are not included.", "a clause's subject and verb after 'has'"),
        ("It has each in a cloth bag.", "'has each'"),
        ("It has weight of each 300 g.", "a measure's name after 'has' with no article"),
        ("You done need to soak it.", "'done' with no auxiliary"),
        ("It keeps the lid closed.", "instruction said as what it does"),
        ("The Fermentation Crock keeps closed.", "instruction said as what it does"),
        ("It is a pack of weights.", "the record writes no 'pack of'"),
        ("It is warm, and your sofa is easy to fold.", "the reader's own thing"),
        ("The Fermentation Crock is a suitable for sauerkraut.", "an article and an adjective"),
        ("It is a crock that can weights down cabbage.", "no verb after a modal"),
        ("It holds up to 5 L of cabbage.", "a bound the record does not give"),
    ):
        said = sentence_failures(false, fact, crock, BrandRules(), SENTENCES)
        assert any(why in r for r in said), (false, said)
        # the final gate on a delivered text refuses them too
        assert check(false, SENTENCES, crock), false
    for true in (
        "It has a lead-free glaze.",
        "It includes two weights that sit inside.",
        "The weights are not to be soaked.",
    ):
        said = sentence_failures(true, fact, crock, BrandRules(), SENTENCES)
        assert not any(
            w in r for r in said for w in ("said of the", "after 'has'", "instruction", "writes no")
        ), (true, said)
    # a true quality of the product, a measure's range and a brand after "of" pass
    kettle = ProductFacts(sku="k", title="Stove Kettle", description="Dishwasher safe kettle.")
    assert not any("said of" in r for r in check("It is dishwasher safe.", SENTENCES, kettle))


def test_a_description_says_what_the_product_is_before_its_caveats_and_instructions():
    stone = ProductFacts(
        sku="s1",
        title="Seiryu Stone, 10 kg",
        description="Not suitable for soft-water setups. Scrub and rinse before use. "
        "Supplied as 10 kg of assorted pieces from 5 to 25 cm.",
        price="49.00",
        currency="EUR",
    )
    plan = Plan(_slot("product_description", stone), [*facts(stone), Fact("", "close")])
    said = {
        0: [
            "The Seiryu Stone is not suitable for soft-water setups.",
            "It is not suitable for soft-water setups.",
        ],
        1: ["Scrub and rinse before use."],
        2: ["The Seiryu Stone is supplied as 10 kg of assorted pieces from 5 to 25 cm."],
        3: ["It costs 49.00 EUR."],
    }
    for index, texts in said.items():
        for k, text in enumerate(texts):
            _consider(plan, index, 0, _generation(text, -2.0 - k))
    text, error, _ = _assemble(plan)
    assert error is None, error
    # the record's last clause opens (it says what the product is); the caveat follows, then
    # the price; the instruction is left out: the text has the channel's 25 words without it
    assert text == (
        "The Seiryu Stone is supplied as 10 kg of assorted pieces from 5 to 25 cm. It is not "
        "suitable for soft-water setups. It costs 49.00 EUR."
    )


def test_a_description_says_at_most_three_facts_and_caveats_only_for_its_length():
    lamp = ProductFacts(
        sku="l1",
        title="Brass Desk Lamp",
        description="A desk lamp with a solid brass stem and a linen shade. The arm reaches 45 cm. "
        "The base weighs 2 kg. It takes one E27 bulb. Do not use bulbs over 40 W.",
        price="89.00",
        currency="EUR",
    )
    plan = Plan(_slot("product_description", lamp), [*facts(lamp), Fact("", "close")])
    said = [
        "The Brass Desk Lamp has a solid brass stem and a linen shade.",
        "It has an arm that reaches 45 cm.",
        "Its base weighs 2 kg.",
        "It takes one E27 bulb.",
        "Do not use bulbs over 40 W.",
        "It costs 89.00 EUR.",
    ]
    assert [f.kind for f in plan.facts[:6]] == ["description"] * 5 + ["price"]
    for index, text in enumerate(said):
        _consider(plan, index, 0, _generation(text, -2.0))
    assert len(plan.passed) == 6, plan.failures
    text, error, _ = _assemble(plan)
    assert error is None, error
    # three facts in the record's order reach 25 words with the price: the fourth fact and
    # the warning are left out, and no closing line is needed
    assert text == (
        "The Brass Desk Lamp has a solid brass stem and a linen shade. It has an arm that reaches 45 cm. "
        "Its base weighs 2 kg. It costs 89.00 EUR."
    )


def test_every_measure_of_a_sentence_about_a_part_is_the_parts():
    from contentfab.workers.copy.shapes import part_measure

    table = ProductFacts(
        sku="t",
        title="1:12 Scale Wooden Kitchen Table and 4 Chairs",
        description="Kitchen table and four chairs in basswood. Table top measures 8.9 x 5.7 cm, "
        "height 6.3 cm. Supplied assembled.",
    )
    assert part_measure("They measure 6.3 cm.", table)
    assert part_measure("It measures 8.9 x 5.7 cm.", table)
    assert part_measure("Its table top measures 8.9 x 5.7 cm.", table) is None
    # a sentence about the product itself keeps its measures the product's
    bag = ProductFacts(sku="b", title="Roll-Top Dry Bag", description="Bag measures 34 x 78 cm.")
    assert part_measure("It measures 34 x 78 cm.", bag) is None


def test_round_18s_shapes_are_refused_by_the_final_gate():
    kenzan = ProductFacts(
        sku="k",
        title="Kenzan Pin Holder, Round 8 cm, Brass Pins",
        description="Pin holder for low bowl arrangements; the pins are brass, 13 mm long, set "
        "3 mm apart.",
        attributes={"diameter_cm": 8, "pin_length_mm": 13},
    )
    headline = CHANNELS["search_headline"]
    said = check("Kenzan Pin Holder: 13 mm long", headline, kenzan)
    assert any("a part's measure" in r for r in said), said
    assert not any(
        "a part's measure" in r for r in check("Kenzan Pin Holder: 8 cm", headline, kenzan)
    )
    spars = ProductFacts(
        sku="s",
        title="Split Hazel Spars, 70 cm",
        description="Split hazel spars for fixing thatch, with a white powder coat.",
    )
    for coined in ("Split Hazel Spars: Hazeled", "Hazel Spars, Hazel Coating"):
        assert any("does not write" in r for r in check(coined, headline, spars)), coined
    assert check("Hazel Spars: For fixing thatch", headline, spars) == []
    # the denominator of "1/2 in" is no count of 2
    pan = ProductFacts(
        sku="p", title="Flat Evaporator Pan", description="A 1/2 in ball valve is fitted."
    )
    said = check("Evaporator Pan, 2 Packs", CHANNELS["email_subject"], pan)
    assert any(r.startswith("fact") for r in said), said
    # an instruction after ", and" is the reader's too; "set of 3" is a count the record lacks
    spiles = ProductFacts(
        sku="m",
        title="Maple Spiles, Pack of 10",
        description="10 stainless steel spiles. Drill no deeper than 5 cm, and sterilise the "
        "spiles in boiling water before each season.",
    )
    said = check("They sterilise the spiles in boiling water.", SENTENCES, spiles)
    assert any("instruction" in r for r in said), said
    said = check("The Maple Spiles are a set of 3 spiles.", SENTENCES, spiles)
    assert any("'set of'" in r for r in said), said
    for false, why in (
        ("They have a drill bit, buckets and lids not included.", "what the record says is not"),
        ("It is easy to sterilise the spiles in boiling water.", "instruction"),
    ):
        said = check(false, SENTENCES, spiles)
        assert any(why in r for r in said), (false, said)


def test_round_19s_shapes_are_refused():
    ball = ProductFacts(
        sku="r",
        title="Rugby Ball, Size 5",
        description="Size 5 ball; weight 410–460 g. Graduations are approximate, so use a pump "
        "gauge. Wipe off mud and let it dry at room temperature, not on a radiator. Inflate to "
        "9.5–10 psi.",
    )
    fact = Fact("Size 5 ball", "description")
    for false, why in (
        ("The Rugby Ball is not on a radiator.", "where the record says not to put it"),
        ("The Rugby Ball is so use a pump gauge.", "after 'is'"),
        ("It is inflate to 9.5–10 psi.", "after 'is'"),
        ("As this can shift the weight.", "a reason clause on its own"),
        ("It weighs from 410 to a 460.", "a list cut at a bare number"),
    ):
        said = sentence_failures(false, fact, ball, BrandRules(), SENTENCES)
        assert any(why in r for r in said), (false, said)
    said = sentence_failures("It is a size 5 ball.", fact, ball, BrandRules(), SENTENCES)
    assert not any(r.startswith(("fragment", "claim")) for r in said), said


def test_an_editors_read_after_round_19():
    bells = ProductFacts(
        sku="h",
        title="Handbell Set, 8 Notes",
        description="Eight tuned brass handbells. Do not polish the bells with abrasive cleaners.",
    )
    fact = Fact("Eight tuned brass handbells.", "description")
    for broken in ("Its is a handbell set.", "It is do not polish the bells."):
        said = sentence_failures(broken, fact, bells, BrandRules(), SENTENCES)
        assert any("no subject or verb" in r for r in said), (broken, said)
    oilers = ProductFacts(
        sku="o",
        title="Clock Oiler Set",
        description="For pivots, pallets and escape wheel teeth.",
    )
    subject = CHANNELS["email_subject"]
    assert any(
        "a list cut short" in r
        for r in check("Clock Oiler Set – for pivots, pallets", subject, oilers)
    )
    assert check("Clock Oiler Set – for pivots", subject, oilers) == []


def test_a_record_clause_pasted_after_is_and_an_instruction_said_as_a_benefit():
    oilers = ProductFacts(
        sku="o",
        title="Clock Oiler Set",
        description="Three oilers for pivots. Each tip holds a drop of oil. Too much oil draws "
        "dust into the movement. Clean the tips with a soft cloth after use.",
    )
    sms = CHANNELS["sms"]
    for false, why in (
        ("The Clock Oiler Set is too much oil draws dust into the movement.", "too much"),
        ("It is each tip holds a drop of oil.", "its own subject and verb"),
        ("The Clock Oiler Set is your choice for a clean tip and soft cloth.", "choice"),
        ("The Clock Oiler Set is the ideal choice for a clean tip and soft cloth.", "instruction"),
        ("It is a simple way to clean the tips with care.", "the record does not give"),
    ):
        assert any(why in r for r in check(false, sms, oilers)), false
    # the record's own clause with its subject, and a purpose the record does not instruct
    assert check("The Clock Oiler Set has three oilers for pivots.", sms, oilers) == []
    assert not any(
        "instruction" in r for r in check("It is a simple way to oil pivots.", sms, oilers)
    )
    # a noun phrase that opens with an instruction verb's spelling is no instruction
    clay = ProductFacts(
        sku="c",
        title="Stoneware Clay, 12.5 kg",
        description="Buff stoneware clay with fine grog, suited to throwing and hand-building.",
    )
    said = "The Stoneware Clay is a great choice for throwing and hand-building."
    assert check(said, sms, clay) == []


def test_a_short_line_does_not_put_the_name_after_a_colon_under_another_word():
    controller = ProductFacts(
        sku="cc",
        title="PWM Charge Controller CC-20, 20 A",
        description="Screw terminals take cable up to 10 mm². Cables are not included.",
    )
    subject = CHANNELS["email_subject"]
    assert any("after a colon" in r for r in check("Cable: Charge Controller", subject, controller))
    assert not any(
        "after a colon" in r
        for r in check("Charge Controller: Screw terminals", subject, controller)
    )


def test_a_fact_is_not_said_to_the_reader_unless_the_record_does():
    plan = Plan(_slot("product_description"), [*facts(BOTTLE), Fact("", "close")])
    _consider(plan, 0, 0, _generation("It keeps your drinks cold for 24 hours."))
    assert 0 not in plan.passed and plan.failures.get("style") == 1
    _consider(plan, 0, 0, _generation("It keeps drinks cold for 24 hours."))
    assert 0 in plan.passed
    # nor an SMS's; a price may be "yours for …"
    sms = Plan(_slot("sms"), facts(BOTTLE))
    _consider(sms, 0, 0, _generation("The Steel Bottle keeps your drinks cold for 24 hours."))
    assert sms.failures.get("style") == 1
    price = next(i for i, f in enumerate(sms.facts) if f.kind == "price")
    _consider(sms, price, 0, _generation("The Steel Bottle is yours for 34.95 USD."))
    assert sms.failures.get("style") == 1


def test_the_product_is_not_what_the_record_says_it_is_for():
    bag = ProductFacts(
        sku="pb",
        title="Synthetic Pipe Bag, Large",
        description="Zipped bag in laminated fabric, large size for Great Highland Bagpipes.",
    )
    meta = CHANNELS["meta_primary_text"]
    said = check("The Synthetic Pipe Bag is the Great Highland Bagpipes.", meta, bag)
    assert any("what the record says it is for" in r for r in said), said
    fine = check("The Synthetic Pipe Bag is a zipped bag in laminated fabric.", meta, bag)
    assert not any("what the record says it is for" in r for r in fine), fine


def test_a_number_with_nothing_it_counts_is_a_fragment():
    from contentfab.workers.copy.shapes import misworded

    tee = ProductFacts(
        sku="kt",
        title="Kicking Tee",
        description="Three-position cradle holds the ball at 4, 7 or 10 cm. Fits size 4 and 5 balls.",
    )
    for broken in ("It holds the ball at 4.", "It has 5.", "They are one each with a 0.4."):
        assert (misworded(broken, tee) or "").startswith("fragment: a number"), broken
    assert misworded("It holds the ball at 4, 7 or 10 cm.", tee) is None
    assert misworded("It fits size 4 and 5 balls.", tee) is None


def test_a_description_opened_by_its_price_keeps_it_first_when_facts_are_left_out():
    stuffer = ProductFacts(
        sku="ss",
        title="Vertical Sausage Stuffer, 5 L",
        description="This stuffer holds 5 litres of meat in a stainless steel cylinder. A two-speed "
        "gearbox fills quickly. The cylinder can go in the dishwasher. Oil the gears yearly.",
        price="189.00",
        currency="EUR",
    )
    plan = Plan(_slot("product_description", stuffer), [*facts(stuffer), Fact("", "close")])
    said = [
        "This stuffer holds 5 litres of meat in a stainless steel cylinder.",
        "A two-speed gearbox fills quickly.",
        "The cylinder can go in the dishwasher.",
        "Oil the gears yearly.",
        "The Sausage Stuffer is priced at 189.00 EUR.",
    ]
    for index, text in enumerate(said):
        _consider(plan, index, 0, _generation(text, -2.0))
    text, error, _ = _assemble(plan)
    assert error is None, error
    assert text.startswith("The Sausage Stuffer is priced at 189.00 EUR. This stuffer holds")
    assert "Oil the gears" not in text


def test_a_list_cut_at_its_first_number_and_a_modifier_cut_from_its_noun():
    from contentfab.workers.copy.shapes import misworded

    scales = ProductFacts(
        sku="sb",
        title="Photographic Scale Bar Set",
        description="Three rigid PVC scales of 5, 10 and 50 cm, printed in alternating 1 cm matt "
        "black and white blocks. Hot-dip galvanised steel pegs.",
    )
    assert "first number" in (
        misworded("The Scale Bar Set is three rigid PVC scales of 5.", scales) or ""
    )
    assert "first number" in (misworded("It is a three rigid PVC scale of 5.", scales) or "")
    assert misworded("The Scale Bar Set is three PVC scales of 5, 10 and 50 cm.", scales) is None
    assert "no 'of'" in (misworded("It has an overall length 50 cm.", scales) or "")
    assert misworded("It has an overall length of 50 cm.", scales) is None
    subject = CHANNELS["email_subject"]
    for cut in ("Scale Bar Set: Printed in alternating 1 cm matt black", "Scale Bar Set: Hot-dip"):
        assert any("cut from the record" in r for r in check(cut, subject, scales)), cut
    whole = check("Scale Bar Set: Matt black and white blocks", subject, scales)
    assert not any("cut from the record" in r for r in whole), whole


def test_the_product_is_not_a_measure_or_a_count_it_holds():
    from contentfab.workers.copy.shapes import misworded

    bag = ProductFacts(
        sku="fb",
        title="Foraging Bag, 12 L",
        description="12 L bag in 14 oz waxed cotton canvas. Holds up to 240 coins.",
    )
    for broken in ("The Foraging Bag is 12 L bag in canvas.", "It is up to 240 coins in total."):
        assert misworded(broken, bag), broken
    for fine in (
        "The Foraging Bag is a 12 L bag.",
        "It is 32 cm long.",
        "It holds up to 240 coins.",
    ):
        assert misworded(fine, bag) is None, fine


def test_a_parts_measure_and_a_parts_attribute_are_not_the_products_point():
    from contentfab.workers.copy.points import selling_points

    trowel = ProductFacts(
        sku="tr",
        title="Archaeology Pointing Trowel, Hardwood Handle",
        description="Forged one-piece carbon steel blade and shank, 4 in (102 mm) long, with a "
        "120 mm ash handle; overall length 260 mm.",
        attributes={"blade_length_in": 4, "overall_length_mm": 260},
    )
    headline = CHANNELS["search_headline"]
    assert any(
        "a part's measure" in r for r in check("Trowel: 4 in (102 mm) long", headline, trowel)
    )
    assert not any("a part's measure" in r for r in check("Trowel: 260 mm long", headline, trowel))
    box = {"rosin_type": "crushed pine", "box_material": "birch plywood"}
    points = selling_points("Dance Rosin Box", "A shallow rosin box.", box)
    assert "birch plywood" in points and "crushed pine" not in points


def test_a_short_line_does_not_cut_an_instruction_or_a_list_and_no_clause_hangs_on_as():
    from contentfab.workers.copy.shapes import misworded

    stand = ProductFacts(
        sku="ps",
        title="Rear Paddock Stand",
        description="Use it on level, hard ground only. Store it dry. Supports knees, ankles or "
        "the neck. Wheels, tyres, an unpainted body and decals are in the box.",
    )
    subject = CHANNELS["email_subject"]
    for cut in (
        "Rear Paddock Stand: Use it on level",
        "Rear Paddock Stand: Ankles or the neck",
        "Rear Paddock Stand: Wheels, tyres",
    ):
        said = check(cut, subject, stand)
        assert any(r.startswith("fragment") for r in said), (cut, said)
    assert not any(
        r.startswith("fragment") for r in check("Rear Paddock Stand: Store it dry", subject, stand)
    )
    for hanging in ("As many rivers need a permit.", "It is 35 cm long. As the shaft can warp."):
        assert "a reason clause on its own" in (misworded(hanging, stand) or ""), hanging
    assert misworded("As the shaft can warp, store it flat.", stand) is None


def test_round_21s_broken_and_unsupported_sentences():
    from contentfab.workers.copy.shapes import _product_excluded, misworded

    sieve = ProductFacts(
        sku="cs",
        title="Classifier Sieve, 35 cm",
        description="Stainless steel mesh in a 35 cm rim. Bucket not included. Many sports halls "
        "ban resin.",
    )
    assert _product_excluded("It's not included in the Classifier Sieve.", sieve)
    assert misworded("The Classifier Sieve is many sports halls ban resin.", sieve)
    assert "a use the record does not give" in (
        misworded("It is a stylish and modern way to stay fit.", sieve) or ""
    )
    assert misworded("It is a stainless steel mesh in a 35 cm rim.", sieve) is None


def test_no_selling_point_opens_without_its_subject_or_comes_out_of_a_warning():
    from contentfab.workers.copy.points import selling_points

    points = selling_points(
        "LiPo Battery 2S, Hard Case",
        "Hard case with a T-plug connector. Rinse it clean and dry it straight away. Never leave "
        "it charging unattended, and do not use a battery that is swollen or damaged.",
        {},
    )
    assert not {"straight away", "is swollen or damaged", "it charging unattended"} & set(points)
    assert "hard case with a T-plug connector" in points
    reason = selling_points("Gold Pan 14 in", "Check the rules, as many rivers need a permit.", {})
    assert "rivers need a permit" not in reason


def test_round_22s_leaked_flag_cut_list_and_cut_phrasal_verb():
    urn = ProductFacts(
        sku="wu",
        title="Water Urn, Sand and Gelatin",
        description="Moulded from sand, gelatin and a plant-based binder. Keeps dust and dirt off "
        "in transit.",
        attributes={"floats": False},
    )
    sms, headline = CHANNELS["sms"], CHANNELS["search_headline"]
    said = check("The Water Urn is moulded from sand, gelatin.", sms, urn)
    assert any("a list cut short" in r for r in said), said
    assert any("a data value as a word" in r for r in check("Water Urn, False", headline, urn))
    assert any("cut from the record" in r for r in check("Water Urn: Keeps dust", headline, urn))
    whole = check("The Water Urn is moulded from sand, gelatin and a plant-based binder.", sms, urn)
    assert not any(r.startswith("fragment") for r in whole), whole


def test_an_editors_read_after_round_22():
    stamp = ProductFacts(
        sku="ws",
        title="Wax Seal Stamp, Brass, 25 mm",
        description="A solid brass wax seal stamp with a beech handle. A melting spoon and tea "
        "lights are not included. It is not a toy.",
    )
    said = check(
        "The Wax Seal Stamp is not a melting spoon and tea lights.", CHANNELS["sms"], stamp
    )
    assert any("what the product is not" in r for r in said), said
    told = check("The Wax Seal Stamp is not a toy.", CHANNELS["sms"], stamp)
    assert not any("what the product is not" in r for r in told), told
    ship = ProductFacts(
        sku="sb",
        title="Ship in a Bottle, Schooner, 22 cm Glass Bottle",
        description="A hand-built schooner set on a sea of tinted putty inside a clear glass "
        "bottle.",
        category="Ships in Bottles",
        attributes={"model_length_cm": 9, "bottle_length_cm": 22},
    )
    headline = CHANNELS["search_headline"]
    for cut in ("Ship in a Bottle, 9 cm long", "Ship in a Bottle: 9 cm long"):
        assert any("a part's measure" in r for r in check(cut, headline, ship)), cut
    own = check("Ship in a Bottle, 22 cm long", headline, ship)
    assert not any("a part's measure" in r for r in own), own


def test_a_part_or_material_is_not_what_the_product_is_without_an_article():
    from contentfab.workers.copy.shapes import misworded

    brushes = ProductFacts(
        sku="ib",
        title="Interdental Brushes, ISO Size 3, Pack of 25",
        description="For cleaning between teeth; plastic-coated stainless steel wire; bendable "
        "neck. The handle is heat resistant.",
    )
    said = misworded("Brushes are plastic-coated stainless steel wire.", brushes) or ""
    assert "said as what the product is" in said, said
    for fine in (
        "The Interdental Brushes have plastic-coated stainless steel wire.",
        "The Interdental Brushes are plastic-coated stainless steel.",  # "steel wire": a modifier
        "They are heat resistant.",
        "The handle is bendable neck.",  # a part's own sentence: not said of the product
    ):
        assert misworded(fine, brushes) is None, fine
    locks = ProductFacts(
        sku="lp",
        title="Lockout Padlocks, Pack of 6",
        description="Nylon body with a 38 mm shackle clearance; the shackle is 6 mm thick.",
    )
    said = misworded("They're 38 mm clearance, and they're 6 mm thick.", locks) or ""
    assert said.startswith("fragment: a measure and a noun with no article"), said
    assert misworded("They're 6 mm thick.", locks) is None
    printer = ProductFacts(
        sku="rp",
        title="Receipt Printer, 80 mm",
        description="Prints up to 250 mm/s at 203 dpi. Each roll is about 80 m long.",
    )
    said = misworded("The Receipt Printer is up to 250 mm/s at 203 dpi.", printer) or ""
    assert said.startswith("claim: a bound or a rough number said as what the product is"), said
    assert misworded("It is about 80 m long.", printer) is None


def test_a_refused_frame_of_a_part_the_title_names_falls_back_to_has():
    from contentfab.workers.copy.compose import _compose_open, _names_a_part, part_words

    lamp = replace(LAMP, title="Brass Wall Lamp, Hard-Shell Body")  # the title names the body
    assert part_words(lamp) == {"body"}
    assert part_words(LAMP) == set()
    plan = Plan(_slot("product_description", lamp), [*facts(lamp), Fact("", "close")])
    body = next(i for i, f in enumerate(plan.facts) if "Hard-shell body" in f.text)
    assert _names_a_part(plan.facts[body], lamp)
    scorer = _FrameScorer({"is a hard-shell body": -0.4, "has a hard-shell body": -0.9})
    _compose_open(scorer, {1: plan}, {}, batch_size=4)
    # "is a hard-shell body" is refused (a part is not the lamp); the likeliest "has" frame is
    # offered next, as the title lists the body among the lamp's parts
    assert [c.text for c in plan.passed[body]][:1] == [
        "The Brass Wall Lamp has a hard-shell body at 2.6 kg."
    ]
    # a pan moulded in polypropylene is the pan, whatever the title lists
    pan = ProductFacts(sku="gp", title="Gold Pan 14 in, Green Polypropylene", description="")
    moulded = Fact("A 14 in pan moulded in green polypropylene", "description")
    assert not _names_a_part(moulded, pan)


def test_round_23s_part_measures_bare_size_and_a_parts_clause():
    from contentfab.workers.copy.points import selling_points
    from contentfab.workers.copy.shapes import misworded

    composter = ProductFacts(
        sku="hc",
        title="Insulated Hot Composter 220 L, with Thermometer and Lockable Lid",
        description="A 220 litre composter. A sliding hatch at the base, 30 x 25 cm, lets you "
        "take out finished compost.",
        attributes={"capacity_l": 220, "hatch_width_cm": 30},
    )
    headline = CHANNELS["search_headline"]
    said = check("Hot Composter: 30 x 25 cm", headline, composter)
    assert any("a part's measure" in r for r in said), said
    assert not any(
        "a part's measure" in r for r in check("Hot Composter: 220 L", headline, composter)
    )
    jug = ProductFacts(
        sku="wj",
        title="Water Filter Jug 2.4 L, with 1 Cartridge",
        description="A 2.4 litre jug. The supplied cartridge combines activated carbon with "
        "resin to reduce chlorine, limescale and some heavy metals, and lasts about 150 litres "
        "or four weeks.",
        attributes={"cartridges_included": 1, "cartridge_life_l": 150},
    )
    points = selling_points(jug.title, jug.description, jug.attributes)
    assert not any(p.startswith(("lasts", "some")) for p in points), points
    said = check("The Water Filter Jug has a 150 l life.", CHANNELS["sms"], jug)
    assert any("a part's measure" in r for r in said), said
    reed = ProductFacts(sku="rc", title="Reed Cane No. 4", description="Size No. 4, 2.75 mm.")
    assert (misworded("It measures 4, about 2.75 mm in diameter.", reed) or "").startswith(
        "fragment: a number with nothing"
    )


def test_round_23s_instructions_said_of_the_product_and_a_dropped_some():
    from contentfab.workers.copy.shapes import misworded

    tongs = ProductFacts(
        sku="wt",
        title="Wolf Jaw Tongs",
        description="Hand-forged tongs. Always wear leather gloves at the forge. Shut off the "
        "gas before cleaning. Reduces some heavy metals.",
    )
    for said in ("The Wolf Jaw Tongs always wear leather gloves.", "It has shut off the gas."):
        assert "instruction said as what it does" in (misworded(said, tongs) or ""), said
    assert misworded("The Wolf Jaw Tongs are hand-forged tongs.", tongs) is None
    heavy = check("The Wolf Jaw Tongs reduce heavy metals.", CHANNELS["sms"], tongs)
    assert any("without the word the record qualifies it with" in r for r in heavy), heavy


def test_round_24s_product_as_its_pouch_and_pasted_clauses():
    from contentfab.workers.copy.shapes import misworded

    set_ = ProductFacts(
        sku="pf",
        title="Locksmith Plug Follower Set, 6 Pieces",
        description="Six aluminium plug followers. The set comes in a zipped canvas pouch "
        "measuring 18 × 10 cm. Measure your old one first, as many brands use similar sizes.",
    )
    fact = Fact("The set comes in a zipped canvas pouch measuring 18 × 10 cm", "description")
    sms = CHANNELS["sms"]
    pouch = "The Plug Follower Set is a zipped canvas pouch measuring 18 × 10 cm."
    said = sentence_failures(pouch, fact, set_, BrandRules(), sms, alone=True)
    assert any("calls the product a" in r for r in said), said
    comes = "The Plug Follower Set comes in a zipped canvas pouch measuring 18 × 10 cm."
    assert sentence_failures(comes, fact, set_, BrandRules(), sms, alone=True) == []
    for broken in (
        "The Plug Follower Set is as many brands use similar sizes.",
        "It is never with a pressure washer.",
    ):
        assert (misworded(broken, set_) or "").startswith("fragment: no subject or verb"), broken
    assert misworded("It is as light as a pen.", set_) is None


def test_round_24s_short_lines_cut_from_a_range_a_parts_clause_or_an_instruction():
    from contentfab.workers.copy.points import selling_points

    swing = ProductFacts(
        sku="ss",
        title="Kids' Saucer Swing, 100 cm",
        description="Suitable for ages 3 and up with an adult watching. 40 mm drivers and up to "
        "30 hours.",
    )
    said = check("Kids' Saucer Swing: Suitable for ages 3", CHANNELS["email_subject"], swing)
    assert any("cut from the record" in r for r in said), said
    fine = check("Kids' Saucer Swing: 40 mm drivers", CHANNELS["email_subject"], swing)
    assert not any("cut from the record" in r for r in fine), fine
    hutch = "Solid fir hutch. A ramp joins the two levels. No lid is included, so keep cats and "
    hutch += "dogs out of the room."
    points = selling_points("Two-Storey Rabbit Hutch", hutch, {})
    assert not any("joins" in p or "room" in p for p in points), points


def test_an_editors_read_after_round_24():
    from contentfab.workers.copy.shapes import misworded

    shoes = ProductFacts(
        sku="hp",
        title="Horseshoe Pitching Set, 4 Shoes",
        description="Four steel shoes, each 2.5 lb and 7 in wide; 50 acid-free, PVC-free sleeves.",
    )
    said = misworded("The Pitching Set is each 2.5 lb (1.13 kg) and 7 in wide.", shoes) or ""
    assert said.startswith("claim: a measure of each piece"), said
    cut = misworded("It has a 4-ring mechanism and 50 acid-free.", shoes) or ""
    assert cut.startswith("fragment: a count cut before its noun"), cut
    assert misworded("The shoes are each 7 in wide.", shoes) is None
    assert misworded("It has 50 acid-free sleeves.", shoes) is None
