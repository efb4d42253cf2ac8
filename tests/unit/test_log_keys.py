"""Where the log's signing key comes from: the setting, a development key kept in the data folder, or (in tests) one
per process."""

from __future__ import annotations

import stat
from pathlib import Path

from pydantic import SecretStr

from app.domain.checkpoints import Signer
from app.services import log
from app.settings import Settings


def test_a_development_key_is_generated_once_into_the_data_folder_for_its_owner_only(tmp_path: Path) -> None:
    settings = Settings(environment="development", data_dir=tmp_path / "data")
    first = log.signer(settings)
    path = tmp_path / "data" / log.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Signer.parse(path.read_text().strip()) == first
    assert log.signer(settings) == first  # read back, not generated again
    assert log.verifier(settings) == first.verifier


def test_the_setting_wins_and_tests_get_one_key_per_process(tmp_path: Path) -> None:
    key = Signer.generate()
    configured = Settings(environment="development", data_dir=tmp_path, log_signing_key=SecretStr(str(key)))
    assert log.signer(configured) == key
    assert not (tmp_path / log.KEY_FILE).exists()
    assert log.signer(Settings(environment="test")) == log.signer(Settings(environment="test"))
