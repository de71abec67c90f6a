"""Job params, one type per kind: rows stored before the types existed still validate, and the
stored JSON keeps its shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from contentfab.tasks.params import CopyParams, ImageParams, RecommendationParams, params_of


@dataclass
class _Row:
    id: int
    params: dict[str, Any] = field(default_factory=dict)


#: An image job's params as store_image_jobs wrote them before the text-to-image background
#: (no prompt, pipeline or steps), with a key no reader knows.
OLD_IMAGE = {
    "background": "generated",
    "style": "studio",
    "palette": ["#1c3454", "#ebe2d2"],
    "background_image": None,
    "matte_model": None,
    "logo": None,
    "headline_from_channel": "search_headline",
    "price": True,
    "output": "png",
    "generator": "cppn-backgrounds",
    "seed": 7,
    "retired": "ignored",
}

COPY: dict[str, Any] = {
    "tone": "friendly",
    "model": "smollm2-135m-instruct",
    "seed": 12,
    "temperature": 0.6,
    "top_p": 0.95,
    "repetition_penalty": 1.1,
    "max_new_tokens": 160,
    "candidates": 4,
}


def test_old_image_params_load_with_the_defaults_the_task_used() -> None:
    [params] = params_of(ImageParams, [_Row(3, OLD_IMAGE)]).values()
    assert (params.prompt, params.pipeline, params.steps) == (None, None, 1)
    assert params.headline_from_channel == "search_headline" and params.seed == 7
    assert "retired" not in params.stored()


def test_copy_params_keep_their_stored_shape() -> None:
    params = params_of(CopyParams, [_Row(1, COPY)])[1]
    assert params.stored() == COPY  # a plain channel's params have no "bundle" key
    assert params.model == "smollm2-135m-instruct" and params.bundle is None
    bundle = {"name": "google_rsa", "ad": 0, "field": "headlines", "index": 2}
    assert CopyParams(**COPY, bundle=bundle).stored() == {**COPY, "bundle": bundle}


def test_recommendation_params_store_only_what_a_subject_has() -> None:
    assert RecommendationParams().stored() == {}
    assert RecommendationParams(segment="runners").stored() == {"segment": "runners"}
    assert RecommendationParams(description="people who run").stored() == {
        "description": "people who run"
    }
    rows = [_Row(1, {}), _Row(2, {"segment": "runners"}), _Row(3, {"description": "d"})]
    found = params_of(RecommendationParams, rows)
    assert [found[i].segment for i in (1, 2, 3)] == [None, "runners", None]


def test_params_of_another_kind_name_the_job() -> None:
    with pytest.raises(ValueError, match="job 9: its params are not CopyParams"):
        params_of(CopyParams, [_Row(9, OLD_IMAGE)])
