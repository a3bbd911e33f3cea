# The Kube Tutor app image: web, worker and beat run from it with different commands.
# BASE_IMAGE is any Debian-based image with Python 3.12+ and apt: the official Python image by
# default; with no registry reachable, the Debian root filesystem scripts/base-image makes.
ARG BASE_IMAGE=python:3.13-slim-trixie
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    TUTOR_VAR_DIR=/app/var \
    DEBUG=0

# busybox-static: the Docker runtime builds the teaching images (kube-tutor/busybox) from it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends busybox-static ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --system --uid 10001 --home-dir /app tutor \
    && mkdir -p /app/var && chown tutor /app/var

USER tutor
EXPOSE 8000
CMD ["uvicorn", "tutor.asgi:application", "--ws", "wsproto", "--host", "0.0.0.0", "--port", "8000", "--no-access-log"]
