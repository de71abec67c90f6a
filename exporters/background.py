"""The background generator: a compositional pattern-producing network (CPPN) exported to ONNX.

What it is, honestly: a small *untrained* neural field. Its weights are drawn once from a fixed
seed at export time; it maps each pixel's coordinates (x, y, radius), a per-variant latent
vector (from the variant's seed), and a style vector to softmax weights over the brand palette,
so every output colour is a mix of brand colours, then applies a soft studio light. No image
data shaped it: its look comes from the architecture and the style table below, not from
learning. It is resolution independent (coordinates in, colours out) and batched over variants:

    inputs:  coords  [pixels, 3]    x, y in [-1, 1] on the short side, radius
             latent  [batch, 8]     standard normal, from the variant seed
             style   [batch, 4]     frequency, sine mix, palette sharpness, studio light
             palette [batch, 4, 3]  brand colours in [0, 1] (repeat colours to fill 4)
    output:  image   [batch, pixels, 3] in [0, 1]

torch is imported inside the functions; workers run the ONNX file with numpy only
(``workers.images.background``).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, ClassVar

from contentfab.core.errors import ExportError
from contentfab.core.model_store import ModelManifest, ModelStore
from contentfab.exporters.pipeline import export_and_validate, up_to_date
from contentfab.exporters.specs import BATCH, ExportSpec, TensorSpec, export_module
from contentfab.workers import runtime

CPPN_NAME = "cppn-backgrounds"
EXPORTER_VERSION = "1"
LATENT, HIDDEN, LAYERS, COLOURS = 8, 32, 3, 4
SEED = 20260501
MAX_ABS_DIFF = 1e-4  # ONNX Runtime against torch
LIGHT_RADIUS = 1.2
PIXELS = "pixels"
RECIPE = {"builder": "exporters.background", "family": "cppn", "seed": SEED,
          "latent": LATENT, "hidden": HIDDEN, "layers": LAYERS, "colours": COLOURS,
          "light_radius": LIGHT_RADIUS, "recipe_version": 2}  # fmt: skip

#: Named styles: (frequency, sine mix, palette sharpness, studio light).
STYLES: dict[str, list[float]] = {
    "studio": [0.35, 0.0, 1.2, 1.0],  # near-flat sweep, lit centre: a product backdrop
    "soft": [0.8, 0.2, 2.0, 0.6],  # large soft fields of brand colour
    "waves": [1.6, 1.0, 3.0, 0.3],  # flowing bands
    "marble": [2.6, 0.7, 5.0, 0.2],  # veined, busier
    "bold": [1.2, 0.3, 9.0, 0.0],  # hard-edged colour shapes
}

INPUTS = [
    TensorSpec("coords", "float32", (PIXELS, 3)),
    TensorSpec("latent", "float32", (BATCH, LATENT)),
    TensorSpec("style", "float32", (BATCH, 4)),
    TensorSpec("palette", "float32", (BATCH, COLOURS, 3)),
]
OUTPUTS = [TensorSpec("image", "float32", (BATCH, PIXELS, 3))]


def build_cppn_module() -> Any:
    import torch
    from torch import nn

    class CPPN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            generator = torch.Generator().manual_seed(SEED)

            def weight(*shape: int, gain: float) -> nn.Parameter:
                fan_in = shape[0]
                data = torch.randn(*shape, generator=generator) * gain / fan_in**0.5
                return nn.Parameter(data, requires_grad=False)

            self.coords_in = weight(3, HIDDEN, gain=2.0)
            self.latent_in = weight(LATENT, HIDDEN, gain=1.5)
            self.hidden = nn.ParameterList(
                [weight(HIDDEN, HIDDEN, gain=1.6) for _ in range(LAYERS)]
            )
            self.out = weight(HIDDEN, COLOURS, gain=2.0)

        def forward(self, coords: Any, latent: Any, style: Any, palette: Any) -> Any:
            frequency = style[:, 0:1].unsqueeze(1)  # [batch, 1, 1]
            sine_mix = style[:, 1:2].unsqueeze(1)
            sharpness = style[:, 2:3].unsqueeze(1)
            light = style[:, 3:4].unsqueeze(1)
            h = (coords @ self.coords_in).unsqueeze(0) * frequency
            h = h + (latent @ self.latent_in).unsqueeze(1)
            for layer in self.hidden:
                h = sine_mix * torch.sin(h) + (1 - sine_mix) * torch.tanh(h)
                h = h @ layer
            weights = torch.softmax(torch.tanh(h @ self.out) * sharpness, dim=-1)
            colour = weights @ palette  # [batch, pixels, 3]
            # The light falls off smoothly toward LIGHT_RADIUS and no further, so the far ends
            # of tall and wide canvases stay a backdrop instead of going dark.
            r = coords[:, 2]
            radius = (r / torch.sqrt(1 + (r / LIGHT_RADIUS) ** 2)).reshape(1, -1, 1)
            lift = 1.0 + light * (0.12 - 0.22 * radius * radius)
            return torch.clamp(colour * lift, 0.0, 1.0)

    return CPPN().eval()


def source_description() -> dict[str, Any]:
    digest = hashlib.sha256(
        json.dumps({**RECIPE, "styles": STYLES}, sort_keys=True).encode()
    ).hexdigest()
    return {**RECIPE, "sha256": digest}


class CPPNSpec(ExportSpec):
    """The background generator's contract (the module docstring draws it); parity is the max
    abs difference from torch on every style at another size than the trace's."""

    family: ClassVar[str] = "cppn"
    task: ClassVar[str] = "background-generation"
    tolerance: ClassVar[float | None] = MAX_ABS_DIFF
    exporter_version: ClassVar[str] = EXPORTER_VERSION
    build_seconds_digits: ClassVar[int | None] = 2

    def inputs(self) -> list[TensorSpec]:
        return INPUTS

    def outputs(self) -> list[TensorSpec]:
        return OUTPUTS

    def dummy_inputs(self, graph: str = "model.onnx") -> tuple[Any, ...]:
        import torch

        return tuple(torch.from_numpy(v) for v in _example_inputs(batch=2, side=24).values())

    def manifest_section(self) -> dict[str, Any]:
        return {
            "styles": STYLES,
            "latent_size": LATENT,
            "palette_size": COLOURS,
            "trained": False,
        }


def build_cppn(store: ModelStore, *, force: bool = False) -> ModelManifest:
    """Export the CPPN into ``store`` (idempotent) and return its manifest."""
    source = source_description()
    existing = None if force else up_to_date(store, CPPN_NAME, CPPNSpec, source)
    if existing is not None:
        return existing
    started = time.perf_counter()
    spec = CPPNSpec()
    module = build_cppn_module()

    def write(staging: Path) -> None:
        export_module(
            module, spec.dummy_inputs(), staging / "model.onnx", inputs=INPUTS, outputs=OUTPUTS
        )

    def validate(staging: Path, draft: ModelManifest) -> dict[str, Any]:
        return {"parity": _parity(module, staging / "model.onnx")}

    return export_and_validate(
        store,
        CPPN_NAME,
        spec,
        source=source,
        write=write,
        validate=validate,
        version=lambda files: f"{RECIPE['recipe_version']}-fp32-{files['model.onnx'][:8]}",
        started=started,
    )


def _example_inputs(batch: int, side: int) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32)
    x, y = xs / (side - 1) * 2 - 1, ys / (side - 1) * 2 - 1
    coords = np.stack([x.ravel(), y.ravel(), np.hypot(x, y).ravel()], axis=1)
    styles = list(STYLES.values())
    return {
        "coords": coords.astype(np.float32),
        "latent": rng.standard_normal((batch, LATENT)).astype(np.float32),
        "style": np.array([styles[i % len(styles)] for i in range(batch)], dtype=np.float32),
        "palette": rng.uniform(0, 1, (batch, COLOURS, 3)).astype(np.float32),
    }


def _parity(module: Any, path: Path) -> dict[str, Any]:
    """ONNX Runtime against torch on a batch of every style at another size than the export's."""
    import numpy as np
    import torch

    inputs = _example_inputs(batch=len(STYLES), side=37)
    with torch.no_grad():
        expected = module(*(torch.from_numpy(v) for v in inputs.values())).numpy()
    session, _ = runtime.create_session(path, [runtime.CPU])
    (actual,) = session.run(None, inputs)
    difference = float(np.abs(actual - expected).max())
    if difference > MAX_ABS_DIFF:
        raise ExportError(f"{CPPN_NAME}: ONNX output differs from torch by {difference:.2e}")
    return {"max_abs_diff": difference, "batch": len(STYLES), "pixels": 37 * 37}
