# The Kube Tutor app image: web, worker and beat run from it with different commands.
FROM python:3.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TUTOR_VAR_DIR=/app/var \
    DEBUG=0

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app tutor \
    && mkdir -p /app/var && chown tutor /app/var

USER tutor
EXPOSE 8000
CMD ["uvicorn", "tutor.asgi:application", "--ws", "wsproto", "--host", "0.0.0.0", "--port", "8000", "--no-access-log"]
