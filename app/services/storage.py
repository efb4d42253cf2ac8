"""Where attachments' bytes live: one object store behind one interface, a local folder or any S3-compatible bucket.

`obstore` (Python bindings of the Rust `object_store` crate, the one DataFusion and Delta use) gives a native async
API for both, streams uploads from a file in multipart chunks and downloads as a stream of buffers, so no 50 MiB
file is ever held in memory and the event loop never waits on disk or network. Objects are keyed by their SHA-256:
the same bytes are stored once, and an object, once written, never changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import obstore
from obstore.exceptions import NotFoundError
from obstore.store import LocalStore, S3Store

CHUNK_BYTES = 1024 * 1024


def object_key(sha256: str) -> str:
    """`sha256/ab/abcdef…`: two-character fan-out keeps local folders small."""
    return f"sha256/{sha256[:2]}/{sha256}"


@dataclass(frozen=True)
class StorageConfig:
    url: str | None
    local_root: Path
    endpoint: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None


class ObjectStorage:
    """Content-addressed storage of attachments."""

    def __init__(self, store: Any, description: str) -> None:
        self._store = store
        self.description = description

    @classmethod
    def build(cls, config: StorageConfig) -> ObjectStorage:
        if not config.url:
            root = config.local_root.resolve()
            return cls(LocalStore(str(root), mkdir=True), f"local folder {root}")
        bucket, _, prefix = config.url.removeprefix("s3://").partition("/")
        options: dict[str, Any] = {}
        if config.endpoint:
            options["endpoint"] = config.endpoint
        if config.region:
            options["region"] = config.region
        if config.access_key_id:
            options["access_key_id"] = config.access_key_id
        if config.secret_access_key:
            options["secret_access_key"] = config.secret_access_key
        # An http:// endpoint is a store inside the operator's network (MinIO, a test server); allowed only then.
        client = {"allow_http": True} if (config.endpoint or "").startswith("http://") else {}
        store = S3Store(
            bucket,
            prefix=prefix.strip("/") or None,
            config=options,  # type: ignore[arg-type]
            client_options=client,  # type: ignore[arg-type]
        )
        return cls(store, f"S3 bucket {bucket}")

    async def exists(self, sha256: str) -> bool:
        try:
            await obstore.head_async(self._store, object_key(sha256))
        except (NotFoundError, FileNotFoundError):
            return False
        return True

    async def put_file(self, sha256: str, path: Path) -> None:
        """Store the file at `path` as the object of `sha256` (streamed; multipart on S3 for large files)."""
        await obstore.put_async(self._store, object_key(sha256), path, chunk_size=5 * CHUNK_BYTES)

    async def stream(self, sha256: str) -> AsyncIterator[bytes]:
        result = await obstore.get_async(self._store, object_key(sha256))
        async for chunk in result.stream(min_chunk_size=CHUNK_BYTES):
            yield bytes(chunk)
