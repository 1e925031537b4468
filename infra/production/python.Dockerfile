# One image for the three subgraphs, migrations and the Prefect worker; the command picks the role.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY services ./services
COPY flows ./flows
RUN pip install --no-cache-dir --no-deps --no-build-isolation \
      -e services/shared -e services/members -e services/loyalty -e services/community -e flows
RUN useradd --system --uid 10001 yutang && mkdir -p /var/lib/yutang && chown yutang /var/lib/yutang && chmod 700 /var/lib/yutang
USER yutang
# e.g. uvicorn members.app:create_app --factory --host 0.0.0.0 --port 4001
CMD ["python", "-c", "print('choose a command: see infra/production/compose.yaml')"]
