FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# The dependencies first, exactly as locked: this layer is rebuilt only when the lock changes,
# not on every change to the source.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
RUN pip install --no-cache-dir --no-deps .
RUN SECRET_KEY=build-only REDIS_URL=redis://unused python manage.py collectstatic --noinput

RUN useradd --system --home /app kefu && chown -R kefu /app/var
USER kefu
EXPOSE 8000 8001
CMD ["gunicorn", "kefu.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4"]
