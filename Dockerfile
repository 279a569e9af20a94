FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kefu kefu
COPY tickets tickets
COPY channels_ingest channels_ingest
COPY sla sla
COPY kb kb
COPY analytics analytics
RUN pip install --no-cache-dir .
COPY . .
RUN SECRET_KEY=build-only REDIS_URL=redis://unused python manage.py collectstatic --noinput

RUN useradd --system --home /app kefu && chown -R kefu /app/var
USER kefu
EXPOSE 8000 8001
CMD ["gunicorn", "kefu.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4"]
