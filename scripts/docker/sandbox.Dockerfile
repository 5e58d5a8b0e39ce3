# The platform sandbox (service "sandbox" of docker-compose.yml): Python plus the two
# packages the simulator imports. Its code is not copied in: compose mounts
# ./addons/finance_sync_sandbox read-only at /srv/finance_sync_sandbox.
FROM python:3.11-slim
RUN pip install --no-cache-dir "werkzeug==2.2.2" "lxml>=4.8"
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /srv/finance_sync_sandbox
USER nobody
EXPOSE 8090
CMD ["python", "-m", "sandbox_server", "--host", "0.0.0.0", "--port", "8090", "--seed", "42"]
