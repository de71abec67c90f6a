"""The copywriter's gates and selection, as pure functions, and its failure isolation."""

from __future__ import annotations

from contentfab.channels import CHANNELS
from workers.copywriter import (
    CopySlot,
    ProductFacts,
    build_messages,
    check,
    clean,
    options,
    token_budget,
    write_copy,
)
from workers.textgen import Generation, SamplingParams

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
    assert check("Your Steel Bottle keeps drinks cold for 24 hours", subject, BOTTLE) == []
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
    found = options(_gen("Steel Bottle: cold for a day, hot for", finish="length"), headline)
    assert found == ["Steel Bottle: cold for a day", "Steel Bottle"]
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
    assert messages[-1]["content"].endswith("names the product.")
    assert "Tone: playful" in messages[-1]["content"]
    assert token_budget(slot) == 16  # a 30-character headline never needs 200 tokens


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
