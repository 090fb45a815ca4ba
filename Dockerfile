# The image every step pod of a compiled workflow runs: the flowspec project, installed,
# and nothing else. The spec itself travels in the manifest, so one image serves every spec
# whose processors it contains. Not built in CI.
#
#   docker build -t ghcr.io/flowspec/flowspec:0.1.0 .
#
# The compiled pods run as a non-root user on a read-only root filesystem, with /tmp an
# emptyDir: the user below is numeric so that Kubernetes can check runAsNonRoot, and no
# bytecode is written at run time (it is compiled here, while the image is built).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/flowspec
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY processors ./processors

# The project with its PostgreSQL driver (the run store); then every module compiled once,
# and a smoke test that the runner and the registered processors import.
RUN pip install ".[postgres]" \
 && python -m compileall -q /usr/local/lib/python3.11/site-packages \
 && python -c "import engine.runner, engine.processors as p; [p.resolve(n) for n in p.registered()]" \
 && useradd --uid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin flowspec

USER 10001
ENV HOME=/tmp
WORKDIR /tmp

# Argo gives the command (flowspec step --spec ... --step ...); this default only explains.
CMD ["flowspec", "step", "--help"]
