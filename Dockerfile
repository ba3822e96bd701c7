# The application image used by docker-compose.yml: API (gunicorn), consumer and CLI.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md wsgi.py ./
COPY ledger ./ledger
COPY adapters ./adapters
COPY migrations ./migrations
RUN pip install --no-cache-dir . && useradd --system --home /app pointsledger && mkdir -p /app/var /inbox \
    && chown pointsledger /app /app/var /inbox
USER pointsledger
EXPOSE 8000
