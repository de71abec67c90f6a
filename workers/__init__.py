"""Inference workers: per-process ONNX Runtime sessions and pure functions over arrays.

Nothing here imports torch, Celery or SQL; onnxruntime is imported inside the loaders so a
forked worker process creates its sessions after the fork.
"""
