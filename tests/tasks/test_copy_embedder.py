"""The copy worker's sentence encoder: loaded once per process when it is in the model store,
registered like the copy model, and simply absent (lexical dedupe only) when it is not."""

from __future__ import annotations

from sqlalchemy import select

from contentfab.core.settings import Settings
from contentfab.db.models import ModelRecord
from contentfab.tasks.resources import WorkerResources


def test_the_copy_embedder_is_loaded_once_and_registered(tmp_path, tiny_bert_store, sessions):
    url = str(sessions.kw["bind"].url.render_as_string(hide_password=False))
    settings = Settings(
        data_dir=tmp_path,
        model_store=tiny_bert_store.root,
        database_url=url,
        copy_embedding_model="tiny-bert",
        providers=["CPUExecutionProvider"],
    )
    res = WorkerResources(settings)
    try:
        embedder = res.copy_embedder()
        assert embedder is not None and embedder is res.copy_embedder()
        assert embedder.provenance["name"] == "tiny-bert"
    finally:
        res.close()
    with sessions() as session:
        records = session.scalars(select(ModelRecord).where(ModelRecord.name == "tiny-bert")).all()
        assert [(r.sha256, r.task) for r in records] == [
            (embedder.model_sha256, "sentence-embedding")
        ]


def test_without_the_model_in_the_store_copy_has_no_embedder(tmp_path, sessions):
    url = str(sessions.kw["bind"].url.render_as_string(hide_password=False))
    for name in ("minilm-l6-v2", ""):
        settings = Settings(
            data_dir=tmp_path,
            model_store=tmp_path / "empty-store",
            database_url=url,
            copy_embedding_model=name,
        )
        res = WorkerResources(settings)
        try:
            assert res.copy_embedder() is None
        finally:
            res.close()


def test_a_model_that_is_no_sentence_encoder_leaves_copy_without_one(
    tmp_path, tiny_model_store, sessions
):
    url = str(sessions.kw["bind"].url.render_as_string(hide_password=False))
    settings = Settings(
        data_dir=tmp_path,
        model_store=tiny_model_store.root,
        database_url=url,
        copy_embedding_model="tiny-llama",  # in the store, but a text generator
    )
    res = WorkerResources(settings)
    try:
        assert res.copy_embedder() is None
    finally:
        res.close()


def test_a_cpu_worker_uses_the_fused_decoder_when_the_store_has_it(
    tmp_path, tiny_fused_store, sessions
):
    url = str(sessions.kw["bind"].url.render_as_string(hide_password=False))

    def generator_name(model_store) -> str:
        settings = Settings(
            data_dir=tmp_path,
            model_store=model_store,
            database_url=url,
            providers=["CPUExecutionProvider"],
        )
        res = WorkerResources(settings)
        try:
            return res.text_generator("tiny-llama").name
        finally:
            res.close()

    assert generator_name(tiny_fused_store.root) == "tiny-llama-fused"
    # A store with only the traced graph: that one.
    only_traced = tmp_path / "only-traced"
    only_traced.mkdir()
    (only_traced / "tiny-llama").symlink_to(tiny_fused_store.model_dir("tiny-llama"))
    assert generator_name(only_traced) == "tiny-llama"
