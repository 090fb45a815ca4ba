# The image every step pod of a compiled workflow runs: flowspec's runner, the processors it
# ships and their pinned runtime, and nothing else (no compiler, Argo client or terminal
# views). The spec itself travels in the manifest, so one image serves every spec whose
# processors it contains. Build, push and use it as the README says ("Running on Argo").
#
# The base is an exact release so that a rebuild gets the same Python; bump the tag (and the
# base.name label) deliberately, or pin it by digest with @sha256:... after the tag.
#
# The compiled pods run as a non-root user on a read-only root filesystem, with /tmp an
# emptyDir: the user below is numeric so that Kubernetes can check runAsNonRoot, and no
# bytecode is written at run time (it is compiled here, while the image is built).
FROM python:3.11.7-slim-bookworm

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="flowspec" \
      org.opencontainers.image.description="flowspec step: runs one step of a compiled flowspec workflow in an Argo pod" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/flowspec/flowspec" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11.7-slim-bookworm"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/flowspec
COPY docker/constraints-runner.txt ./docker/
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY processors ./processors

# The pinned runtime exactly (flowspec[runner]'s closure), then flowspec itself without its
# base list, which also names the compiler's and the terminal's packages; then every module
# compiled once, and a smoke test that the runner and the registered processors import.
RUN pip install --no-deps -r docker/constraints-runner.txt \
 && pip install --no-deps . \
 && python -m compileall -q /usr/local/lib/python3.11/site-packages \
 && python -c "import engine.runner, engine.processors as p; [p.resolve(n) for n in p.registered()]" \
 && useradd --uid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin flowspec

USER 10001
ENV HOME=/tmp
WORKDIR /tmp

# Argo gives the command (flowspec step --spec ... --step ...); this default only explains.
CMD ["flowspec", "step", "--help"]
