"""torch → ONNX export of contentfab's models, parity validation, and the model store.

Importing this package is cheap: torch and transformers load only when a build runs.
"""

from contentfab.core.model_store import MANIFEST_NAME, ModelStore
from contentfab.exporters.build import (
    DEFAULT_QUANTIZE,
    NAMED_MODELS,
    QUANTIZE_CHOICES,
    build_from_hf,
    build_model,
)
from contentfab.exporters.specs import SPECS, CausalLMSpec, TensorSpec, spec_class

__all__ = [
    "DEFAULT_QUANTIZE",
    "MANIFEST_NAME",
    "NAMED_MODELS",
    "QUANTIZE_CHOICES",
    "SPECS",
    "CausalLMSpec",
    "ModelStore",
    "TensorSpec",
    "build_from_hf",
    "build_model",
    "spec_class",
]
