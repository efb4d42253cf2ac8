"""How TIC_STORAGE_* settings become an object store: only the options given are passed, http only for an http://
endpoint (the S3 round trips themselves run against a real moto server in tests/api/test_attachments.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.services.storage import ObjectStorage, StorageConfig


def _store(config: StorageConfig) -> Any:
    storage = ObjectStorage.build(config)
    return storage, storage._store


def test_a_bare_bucket_url_passes_no_option_and_keeps_https(tmp_path: Path) -> None:
    storage, store = _store(StorageConfig(url="s3://archive", local_root=tmp_path))
    assert storage.description == "S3 bucket archive"
    assert store.config == {"bucket": "archive"}
    assert store.prefix is None
    assert store.client_options == {}


@pytest.mark.parametrize(
    ("endpoint", "client_options"),
    # obstore hands client options back as strings.
    [("https://oss.example.cn", {}), ("http://minio.internal:9000", {"allow_http": "true"})],
)
def test_each_option_given_is_passed_and_http_only_for_an_http_endpoint(
    tmp_path: Path, endpoint: str, client_options: dict[str, Any]
) -> None:
    config = StorageConfig(
        url="s3://archive/tic/attachments/",
        local_root=tmp_path,
        endpoint=endpoint,
        region="cn-central-1",
        access_key_id="AKID",
        secret_access_key="SECRET",
    )
    _, store = _store(config)
    assert store.config == {
        "bucket": "archive",
        "endpoint": endpoint,
        "region": "cn-central-1",
        "access_key_id": "AKID",
        "secret_access_key": "SECRET",
    }
    assert str(store.prefix) == "tic/attachments"
    assert store.client_options == client_options


def test_no_url_is_the_local_folder(tmp_path: Path) -> None:
    storage, _ = _store(StorageConfig(url=None, local_root=tmp_path / "objects"))
    assert storage.description == f"local folder {(tmp_path / 'objects').resolve()}"
    assert (tmp_path / "objects").is_dir()
