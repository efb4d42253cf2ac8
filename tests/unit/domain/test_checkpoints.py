"""Signed checkpoints: C2SP signed-note and tlog-checkpoint, checked against the Go note package's vectors."""

from __future__ import annotations

import base64
import re

import pytest

from app.domain import checkpoints
from app.domain.checkpoints import Checkpoint, NoteError, Signer, Verifier

# golang.org/x/mod sumdb/note/note_test.go (BSD licence, The Go Authors): a key pair and a signed note.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT
    + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
GO_ENOCH = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"


def test_the_go_note_vectors() -> None:
    signer = Signer.parse(GO_SIGNER)
    assert str(signer) == GO_SIGNER
    assert str(signer.verifier) == GO_VERIFIER
    assert Verifier.parse(GO_VERIFIER) == signer.verifier
    assert signer.sign(GO_TEXT) == GO_NOTE  # Ed25519 is deterministic: byte for byte the Go package's note
    assert checkpoints.open_note(GO_NOTE, Verifier.parse(GO_VERIFIER)) == GO_TEXT
    # A note with a second signature by another key still opens with ours.
    assert checkpoints.open_note(GO_NOTE + GO_ENOCH, Verifier.parse(GO_VERIFIER)) == GO_TEXT


def test_a_tampered_note_or_another_key_does_not_open() -> None:
    verifier = Verifier.parse(GO_VERIFIER)
    with pytest.raises(NoteError, match="invalid signature"):
        checkpoints.open_note(GO_NOTE.replace("answer", "Answer"), verifier)
    with pytest.raises(NoteError, match="no signature by the expected key"):
        checkpoints.open_note(GO_NOTE, Signer.generate("PeterNeumann").verifier)
    with pytest.raises(NoteError, match="malformed"):
        checkpoints.open_note(GO_TEXT, verifier)


def test_a_checkpoint_round_trips_and_names_its_origin() -> None:
    signer = Signer.generate()
    root = bytes(range(32))
    note = signer.sign(Checkpoint(origin=checkpoints.ORIGIN, size=1000, root=root).body())
    lines = note.split("\n")
    assert lines[:3] == ["tic.kjt.henan.gov.cn/log", "1000", base64.b64encode(root).decode()]
    assert lines[3] == ""
    assert lines[4].startswith("— tic.kjt.henan.gov.cn/log ")
    assert checkpoints.verify_checkpoint(note, signer.verifier) == Checkpoint(checkpoints.ORIGIN, 1000, root)
    with pytest.raises(NoteError, match=r"not 'other\.example/log'"):
        checkpoints.verify_checkpoint(note, signer.verifier, origin="other.example/log")
    forged = note.replace("\n1000\n", "\n1001\n")
    with pytest.raises(NoteError, match="invalid signature"):
        checkpoints.verify_checkpoint(forged, signer.verifier)


def test_malformed_keys_texts_and_signature_lines_are_refused_each_with_its_reason() -> None:
    verifier = Verifier.parse(GO_VERIFIER)
    with pytest.raises(NoteError, match="malformed verifier key"):
        Verifier.parse("PeterNeumann+zz4f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")  # a key id that is not hex
    with pytest.raises(NoteError, match="not an Ed25519 signer key"):
        Signer.parse(GO_SIGNER_HEAD + base64.b64encode(b"\x02" + bytes(32)).decode())
    for text in ("no newline at the end", "\nstarts with a blank line\n", "a\n\nblank line inside\n"):
        with pytest.raises(NoteError, match="malformed note text"):
            Signer.parse(GO_SIGNER).sign(text)
    with pytest.raises(NoteError, match="malformed signature line"):
        checkpoints.open_note(GO_TEXT + "\n- PeterNeumann AAAA\n", verifier)  # a hyphen, not the em dash
    with pytest.raises(NoteError, match="malformed signature line"):
        checkpoints.open_note(GO_TEXT + "\n— PeterNeumann AAAA\n", verifier)  # too short for a key id and signature


def _exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def _verifier_with_plus_in_its_key() -> Verifier:
    # Standard base64 uses '+': the key text must still split into exactly name, key id and key.
    for byte in range(256):
        verifier = Signer(name="PeterNeumann", seed=bytes([byte]) * 32).verifier
        if "+" in str(verifier).split("+", 2)[2]:
            return verifier
    raise AssertionError("no seed gives a key with '+'")  # pragma: no cover - 256 seeds always include one


def test_a_key_whose_base64_holds_a_plus_round_trips() -> None:
    verifier = _verifier_with_plus_in_its_key()
    assert Verifier.parse(str(verifier)) == verifier


VERIFIER_REFUSALS = [
    (GO_VERIFIER[:-1], "not standard base64"),
    (GO_VERIFIER + "A", "not standard base64"),
    (GO_VERIFIER.replace("ARpc", "AR!pc"), "not standard base64"),
    (GO_VERIFIER.replace("c74f20a3", "c74f20a4"), "the key id does not match the key"),
    (GO_VERIFIER.replace("c74f20a3", "C74F20A3"), "the key id does not match the key"),
    (GO_VERIFIER.replace("c74f20a3", "zz4f20a3"), "malformed verifier key"),
    (GO_VERIFIER.replace("c74f20a3", "c74f20a"), "malformed verifier key"),
    ("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", "not an Ed25519 verifier key"),
    ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not an Ed25519 verifier key"),
    (GO_VERIFIER.replace("PeterNeumann", "Peter Neumann"), "malformed verifier key"),
    (GO_VERIFIER.replace("PeterNeumann", "Peter\x00Neumann"), "malformed verifier key"),
    (GO_VERIFIER.replace("PeterNeumann", ""), "malformed verifier key"),
    ("PeterNeumann", "malformed verifier key"),
    ("", "malformed verifier key"),
]


@pytest.mark.parametrize(("vkey", "reason"), VERIFIER_REFUSALS)
def test_each_mangled_verifier_key_is_refused_with_its_reason(vkey: str, reason: str) -> None:
    with pytest.raises(NoteError, match=_exactly(reason)):
        Verifier.parse(vkey)


GO_SIGNER_HEAD = "PRIVATE+KEY+PeterNeumann+c74f20a3+"
SIGNER_REFUSALS = [
    (GO_SIGNER[:-2], "not standard base64"),
    (GO_SIGNER.replace("c74f20a3", "c74f20a4"), "the key id does not match the key"),
    (GO_SIGNER.replace("PeterNeumann", "Peter Neumann"), "malformed signer key"),
    (GO_SIGNER.replace("PRIVATE", "PUBLIC"), "malformed signer key"),
    (GO_SIGNER.replace("+KEY+", "+KEYS+"), "malformed signer key"),
    ("PRIVATE+KEY+x", "malformed signer key"),
    ("", "malformed signer key"),
    (
        GO_SIGNER_HEAD + base64.b64encode(b"\x02" + bytes(32)).decode(),
        "not an Ed25519 signer key",
    ),
    (
        GO_SIGNER_HEAD + base64.b64encode(b"\x01" + bytes(31)).decode(),
        "not an Ed25519 signer key",
    ),
]


@pytest.mark.parametrize(("skey", "reason"), SIGNER_REFUSALS)
def test_each_mangled_signer_key_is_refused_with_its_reason(skey: str, reason: str) -> None:
    with pytest.raises(NoteError, match=_exactly(reason)):
        Signer.parse(skey)


@pytest.mark.parametrize("name", ["a b", "a+b", "", "tab\there"])
def test_a_key_name_that_could_not_be_parsed_back_is_refused(name: str) -> None:
    with pytest.raises(NoteError, match=_exactly("malformed key name")):
        Signer.generate(name)


def _five_byte_signature_line(name: str = "PeterNeumann") -> str:
    return f"— {name} " + base64.b64encode(b"\x00" * 5).decode() + "\n"


NOTE_REFUSALS = [
    (GO_NOTE[:-1], "malformed note"),
    (GO_TEXT, "malformed note"),
    ("a\n\nb\n\n" + GO_NOTE.split("\n\n", 1)[1], "malformed note text"),
    (GO_TEXT + "\n- PeterNeumann AAAA\n", "malformed signature line"),
    (GO_TEXT + "\n— PeterNeumann AAAA\n", "malformed signature line"),
    (GO_TEXT + "\n— PeterNeumann AAAA!\n", "not standard base64"),
    (GO_TEXT + "\n" + _five_byte_signature_line(), "no signature by the expected key"),
    # The name ends at the first space: "Neumann <signature>" is then not base64.
    (GO_TEXT + "\n— Peter Neumann " + GO_NOTE.rsplit(" ", 1)[1], "not standard base64"),
    (GO_NOTE.replace("answer", "Answer"), "invalid signature for key PeterNeumann+c74f20a3"),
]


@pytest.mark.parametrize(("note", "reason"), NOTE_REFUSALS)
def test_each_malformed_or_forged_note_is_refused_with_its_reason(note: str, reason: str) -> None:
    with pytest.raises(NoteError, match=_exactly(reason)):
        checkpoints.open_note(note, Verifier.parse(GO_VERIFIER))


ROOT_TEXT = base64.b64encode(bytes(range(32))).decode()

CHECKPOINT_REFUSALS = [
    ("log\n", "malformed checkpoint"),
    (f"log\n5\n{ROOT_TEXT}\nextra", "malformed checkpoint"),
    (f"\n5\n{ROOT_TEXT}\n", "malformed checkpoint"),
    (f"log\n01\n{ROOT_TEXT}\n", "malformed checkpoint size"),
    (f"log\n-1\n{ROOT_TEXT}\n", "malformed checkpoint size"),
    (f"log\n\n{ROOT_TEXT}\n", "malformed checkpoint size"),
    ("log\n5\nnot base64!\n", "not standard base64"),
    ("log\n5\n" + base64.b64encode(b"x").decode() + "\n", "malformed checkpoint root"),
    ("log\n5\n" + base64.b64encode(bytes(33)).decode() + "\n", "malformed checkpoint root"),
]


@pytest.mark.parametrize(("text", "reason"), CHECKPOINT_REFUSALS)
def test_each_malformed_checkpoint_is_refused_with_its_reason(text: str, reason: str) -> None:
    with pytest.raises(NoteError, match=_exactly(reason)):
        Checkpoint.parse(text)


@pytest.mark.parametrize(("size_text", "size"), [("0", 0), ("10", 10), ("1000000", 1_000_000)])
def test_checkpoint_sizes_parse_including_the_empty_log(size_text: str, size: int) -> None:
    text = f"log\n{size_text}\n{ROOT_TEXT}\nextension line\n"
    assert Checkpoint.parse(text) == Checkpoint("log", size, bytes(range(32)))
