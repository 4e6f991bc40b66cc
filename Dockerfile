# The production image: gunicorn for the web, the same image for the Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OMS_VAR_DIR=/app/var

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings but no database or secrets of the real deployment.
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && useradd --system --home /app oms \
    && mkdir -p /app/var/media \
    && chown -R oms /app/var

USER oms
EXPOSE 8000
# Threaded workers keep connections alive between requests: on two cores 3 x 2 gthread spent
# about a tenth less CPU per order than 3 or 4 sync workers (docs/performance.md, "Order intake").
CMD ["gunicorn", "oms.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--worker-class", "gthread", "--threads", "2", "--keep-alive", "5", "--access-logfile", "-"]
