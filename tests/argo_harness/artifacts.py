"""Artifacts as Argo's executor moves them: an S3 repository, archives, raw and http inputs.

Keys follow Argo's default layout (artifact_repository_types.go, executor.go
``saveArtifactFromFile``): ``keyFormat`` (default ``{{workflow.name}}/{{pod.name}}``) rendered
for the pod, then ``/`` and the file name: the path's base name for ``archive: {none: {}}``,
``NAME.tgz`` for the default tar+gzip archive. A key-only ``s3: {key}`` location uses the
repository's bucket. Loading (``loadArtifact``/``unarchiveArtifact``): a tarball is unpacked
so that its one top entry becomes the artifact path, anything else is written as the file.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.client import Config
from botocore.exceptions import ClientError

from .substitution import replace

DEFAULT_KEY_FORMAT = "{{workflow.name}}/{{pod.name}}"


class ArtifactNotFound(Exception):
    """The location holds nothing (Argo's CodeNotFound: an optional artifact is skipped)."""


@dataclass(frozen=True)
class Repository:
    """The workflow's artifact repository: an S3-compatible endpoint and a bucket."""

    endpoint: str
    bucket: str
    key_format: str = DEFAULT_KEY_FORMAT
    access_key: str = "harness"
    secret_key: str = "harness"  # moto accepts any; a real cluster's auth is not tested here

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key,
                            config=Config(s3={"addressing_style": "path"}))

    def key_prefix(self, scope: Mapping[str, str | None]) -> str:
        return replace(self.key_format, scope)


class ObjectStore:
    """Get and put objects of one repository (one client per harness)."""

    def __init__(self, repository: Repository) -> None:
        self.repository = repository
        self._client = repository.client()

    def put(self, key: str, data: bytes, bucket: str | None = None) -> None:
        self._client.put_object(Bucket=bucket or self.repository.bucket, Key=key, Body=data)

    def get(self, key: str, bucket: str | None = None) -> bytes:
        try:
            answer = self._client.get_object(Bucket=bucket or self.repository.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NoSuchBucket"):
                raise ArtifactNotFound(f"key {key} does not exist in bucket "
                                       f"{bucket or self.repository.bucket}") from None
            raise
        data: bytes = answer["Body"].read()
        return data

    def keys(self, prefix: str = "") -> list[str]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.repository.bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


# --- archives -------------------------------------------------------------------------------

def archive_kind(artifact: Mapping[str, Any]) -> str:
    """``none`` or ``tgz`` (the default strategy is tar with gzip)."""
    archive = artifact.get("archive") or {}
    if "none" in archive:
        return "none"
    if "zip" in archive:
        raise NotImplementedError("the harness does not implement archive: {zip: {}}")
    return "tgz"


def pack(artifact: Mapping[str, Any], local: Path) -> tuple[str, bytes]:
    """(file name for the key, bytes to store) for an output artifact found at ``local``."""
    if not local.exists():
        raise ArtifactNotFound(f"{artifact['path']} no such file or directory")
    if archive_kind(artifact) == "none":
        if local.is_dir():
            raise NotImplementedError("the harness stores a directory only as a tgz archive")
        return Path(artifact["path"]).name, local.read_bytes()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(local, arcname=Path(artifact["path"]).name)
    return f"{artifact['name']}.tgz", buffer.getvalue()


def is_tarball(data: bytes) -> bool:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            return tar.next() is not None
    except tarfile.TarError:
        return False


def unpack(artifact: Mapping[str, Any], data: bytes, dest: Path) -> None:
    """Put a loaded artifact at ``dest``: untar (explicit tar, or detected) or write the file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    archive = artifact.get("archive") or {}
    untar = "tar" in archive or ("none" not in archive and is_tarball(data))
    if not untar:
        dest.write_bytes(data)
        return
    with tempfile.TemporaryDirectory(dir=dest.parent) as scratch, \
            tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        tar.extractall(scratch, filter="data")
        entries = list(Path(scratch).iterdir())
        source = entries[0] if len(entries) == 1 else Path(scratch)
        if dest.exists():
            shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
        if source == Path(scratch):
            shutil.copytree(source, dest)
        else:
            shutil.move(str(source), dest)


# --- input locations -------------------------------------------------------------------------

def fetch_http(url: str) -> bytes:
    """An ``http: {url}`` input artifact (the http driver: a 404 is not found)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            data: bytes = answer.read()
            return data
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise ArtifactNotFound(f"{url}: 404 Not Found") from None
        raise
