"""The README shows what the code does: its diagrams are generated from the tables, its walk-through is the script."""

from __future__ import annotations

from pathlib import Path

from app.__main__ import diagrams_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_diagrams_are_the_ones_generated_from_the_transition_tables() -> None:
    assert diagrams_markdown().rstrip() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_walkthrough_is_the_runnable_script() -> None:
    script = (ROOT / "docs" / "walkthrough.sh").read_text(encoding="utf-8")
    body = script.split("\n", 2)[2].rstrip()
    assert body in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_webhook_verification_snippet_accepts_what_the_service_signs() -> None:
    import time

    from app.domain.webhooks import sign

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(snippet, namespace)  # the README's code, exactly as a reader would paste it
    verified = namespace["verified"]
    body = b'{"seq":1}'
    timestamp = str(int(time.time()))
    headers = {"X-TIC-Timestamp": timestamp, "X-TIC-Signature": sign("s3cret", timestamp, body)}
    assert verified("s3cret", headers, body) is True  # type: ignore[operator]
    assert verified("other", headers, body) is False  # type: ignore[operator]
    assert verified("s3cret", headers, body + b" ") is False  # type: ignore[operator]
