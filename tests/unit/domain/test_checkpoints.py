"""Signed checkpoints: C2SP signed-note and tlog-checkpoint, checked against the Go note package's vectors."""

from __future__ import annotations

import base64

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


@pytest.mark.parametrize(
    "vkey",
    [
        GO_VERIFIER[:-1],
        GO_VERIFIER + "A",
        GO_VERIFIER.replace("c74f20a3", "c74f20a4"),
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  # the Go test's wrong length
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # the Go test's unknown algorithm
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "",
    ],
)
def test_mangled_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        Verifier.parse(vkey)


@pytest.mark.parametrize("skey", [GO_SIGNER[:-2], GO_SIGNER.replace("c74f20a3", "c74f20a4"), "PRIVATE+KEY+x", ""])
def test_mangled_signer_keys_are_refused(skey: str) -> None:
    with pytest.raises(NoteError):
        Signer.parse(skey)


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


@pytest.mark.parametrize(
    "text",
    [
        "log\n",
        "log\n01\n" + "A" * 43 + "=\n",
        "log\n5\nnot base64!\n",
        "log\n5\n" + base64.b64encode(b"x").decode() + "\n",
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(text)


def test_malformed_keys_texts_and_signature_lines_are_refused_each_with_its_reason() -> None:
    verifier = Verifier.parse(GO_VERIFIER)
    with pytest.raises(NoteError, match="malformed verifier key"):
        Verifier.parse("PeterNeumann+zz4f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")  # a key id that is not hex
    with pytest.raises(NoteError, match="not an Ed25519 signer key"):
        Signer.parse("PRIVATE+KEY+PeterNeumann+c74f20a3+" + base64.b64encode(b"\x02" + bytes(32)).decode())
    for text in ("no newline at the end", "\nstarts with a blank line\n", "a\n\nblank line inside\n"):
        with pytest.raises(NoteError, match="malformed note text"):
            Signer.parse(GO_SIGNER).sign(text)
    with pytest.raises(NoteError, match="malformed signature line"):
        checkpoints.open_note(GO_TEXT + "\n- PeterNeumann AAAA\n", verifier)  # a hyphen, not the em dash
    with pytest.raises(NoteError, match="malformed signature line"):
        checkpoints.open_note(GO_TEXT + "\n— PeterNeumann AAAA\n", verifier)  # too short for a key id and signature
