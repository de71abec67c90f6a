"""The text-to-image slot: a tiny random-weight pipeline in SD-Turbo's ONNX layout, numpy sampler."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from contentfab.core.errors import ModelError
from contentfab.core.formats import parse_format
from contentfab.exporters import ModelStore, build_model
from contentfab.exporters.text_to_image import SCHEDULER, TINY_SD_NAME
from contentfab.workers.images.compose import CreativeText
from contentfab.workers.images.creative import CreativeJob, make_creatives
from contentfab.workers.images.text_to_image import Schedule, TextToImagePipeline, load_tokenizer

PALETTE = [(28, 52, 84), (235, 226, 210), (214, 99, 64)]


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory):
    store = ModelStore(tmp_path_factory.mktemp("t2i-store"))
    build_model(TINY_SD_NAME, store)
    return store.model_dir(TINY_SD_NAME)


@pytest.mark.parametrize("config", [SCHEDULER, {**SCHEDULER, "timestep_spacing": "leading"}])
@pytest.mark.parametrize("steps", [1, 2, 4])
def test_the_numpy_schedule_matches_diffusers_euler(config, steps):
    from diffusers import EulerDiscreteScheduler

    reference = EulerDiscreteScheduler.from_config(config)
    reference.set_timesteps(steps)
    timesteps, sigmas = Schedule.from_config(config).timesteps_and_sigmas(steps)
    np.testing.assert_allclose(timesteps, reference.timesteps.numpy(), atol=1e-3)
    np.testing.assert_allclose(sigmas, reference.sigmas.numpy(), rtol=1e-5)


def test_a_sampling_run_matches_diffusers_euler_steps(tiny_sd):
    """Three deterministic Euler steps with a stand-in noise prediction, against diffusers."""
    import torch
    from diffusers import EulerDiscreteScheduler

    pipeline = TextToImagePipeline.load(tiny_sd)
    reference = EulerDiscreteScheduler.from_config(SCHEDULER)
    reference.set_timesteps(3)
    timesteps, sigmas = pipeline.schedule.timesteps_and_sigmas(3)
    rng = np.random.default_rng(0)
    init = pipeline.schedule.init_noise_sigma(sigmas)
    np.testing.assert_allclose(init, float(reference.init_noise_sigma), rtol=1e-5)
    ours = rng.standard_normal((2, 4, 8, 8)).astype(np.float32) * np.float32(init)
    theirs = torch.from_numpy(ours.copy())
    for index, timestep in enumerate(timesteps):
        predicted = np.tanh(ours * 0.3 + index).astype(np.float32)  # any function of the input
        ours = pipeline.step(predicted, ours, float(sigmas[index]), float(sigmas[index + 1]), [])
        scaled = reference.scale_model_input(theirs, reference.timesteps[index])
        np.testing.assert_allclose(
            scaled.numpy(), theirs.numpy() / (sigmas[index] ** 2 + 1) ** 0.5, rtol=1e-5
        )
        predicted_t = torch.tanh(theirs * 0.3 + index)
        theirs = reference.step(predicted_t, reference.timesteps[index], theirs).prev_sample
        assert float(timestep) == pytest.approx(float(reference.timesteps[index]))
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-4)


def test_the_pipeline_draws_seeded_prompted_images_at_any_size(tiny_sd):
    pipeline = TextToImagePipeline.load(tiny_sd)
    assert pipeline.vae_scale == 8 and pipeline.ids_dtype is np.int32
    first = pipeline.generate(
        ["a calm studio backdrop", "marble and linen"], [1, 1], (300, 180), short_side=64
    )
    again = pipeline.generate(["a calm studio backdrop"], [1], (300, 180), short_side=64)
    other_seed = pipeline.generate(["a calm studio backdrop"], [2], (300, 180), short_side=64)
    assert [image.size for image in first] == [(300, 180), (300, 180)]
    pixels = [np.asarray(image, dtype=np.int16) for image in (*first, *again, *other_seed)]
    assert np.array_equal(pixels[0], pixels[2])  # same prompt, same seed, batched or not
    assert np.abs(pixels[0] - pixels[1]).max() > 0  # the prompt reaches the UNet
    assert np.abs(pixels[0] - pixels[3]).max() > 0  # so does the seed
    with pytest.raises(ValueError, match="steps"):
        pipeline.generate(["x"], [0], (64, 64), steps=5)


def test_the_clip_tokenizer_is_rebuilt_from_vocab_and_merges(tiny_sd, tmp_path):
    folder = tmp_path / "tokenizer"
    shutil.copytree(tiny_sd / "tokenizer", folder)
    from_json = load_tokenizer(folder)
    (folder / "tokenizer.json").unlink()
    from_bpe = load_tokenizer(folder)
    text = "A  Studio PHOTO of a coffee thermos, on linen!"
    assert from_bpe.encode(text).ids == from_json.encode(text).ids
    assert len(from_json.encode(text).ids) < len(text)  # merges applied, not bytes


def test_an_incomplete_pipeline_folder_names_what_is_missing(tiny_sd, tmp_path):
    folder = tmp_path / "pipeline"
    shutil.copytree(tiny_sd, folder)
    shutil.rmtree(folder / "unet")
    (folder / "tokenizer" / "tokenizer.json").unlink()
    (folder / "tokenizer" / "merges.txt").unlink()
    with pytest.raises(ModelError, match=r"unet/model\.onnx.*tokenizer/tokenizer\.json"):
        TextToImagePipeline.load(folder)


def test_creatives_use_the_pipeline_as_their_background(tiny_sd):
    jobs = [
        CreativeJob(
            key=key,
            fmt=parse_format("1.91:1"),
            text=CreativeText("Trail Thermos", "Hot coffee all day", "$49.90", "Northwind"),
            palette=PALETTE,
            seed=key,
            background="text_to_image",
            prompt="soft studio backdrop",
            pipeline=pipeline,
            steps=2,
        )
        for key, pipeline in ((1, tiny_sd), (2, tiny_sd), (3, tiny_sd.parent / "nowhere"))
    ]
    ok, other, broken = make_creatives(jobs, None)
    assert ok.data and other.data and ok.data != other.data
    assert ok.meta["generator"]["name"] == TINY_SD_NAME
    assert ok.meta["generator"]["prompt"] == "soft studio backdrop"
    assert ok.meta["generator"]["steps"] == 2
    assert broken.data is None and "not a text-to-image pipeline folder" in (broken.error or "")


def test_a_pipeline_is_named_by_folder_store_name_or_the_settings(tmp_path):
    from contentfab.campaign.creatives import ImageRequest, pipeline_reference, resolve_pipeline
    from contentfab.core.settings import Settings

    (tmp_path / "campaigns" / "sd-export").mkdir(parents=True)
    settings = Settings(data_dir=tmp_path, model_store=tmp_path / "store")
    from_settings = Settings(
        data_dir=tmp_path, model_store=tmp_path / "store", text_to_image_pipeline="/srv/sd-turbo"
    )

    def request(pipeline: str | None) -> ImageRequest:
        background = {"mode": "text_to_image", "prompt": "calm", "pipeline": pipeline}
        return ImageRequest(formats=["square"], background=background)

    base = tmp_path / "campaigns"
    folder = pipeline_reference(request("sd-export"), base)
    assert folder == str(base / "sd-export")  # relative to the campaign file, made absolute
    assert resolve_pipeline(folder, settings) == base / "sd-export"
    assert pipeline_reference(request("tiny-sd-turbo"), base) == "tiny-sd-turbo"
    assert resolve_pipeline("tiny-sd-turbo", settings) == tmp_path / "store" / "tiny-sd-turbo"
    assert pipeline_reference(request(None), base) is None
    assert resolve_pipeline(None, settings) is None
    assert resolve_pipeline(None, from_settings) == Path("/srv/sd-turbo")
