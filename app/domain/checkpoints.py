"""Signed checkpoints of the feed's Merkle tree: C2SP `tlog-checkpoint` bodies in C2SP `signed-note` envelopes,
signed with Ed25519 (issue 14, item 3).

- A checkpoint body is three lines: the log's origin, the tree size in decimal, the root hash in standard base64.
- A signed note is the body, a blank line, and one line per signature: "— <key name> <base64(key id ‖ signature)>",
  where the key id is the first 4 bytes of SHA-256(<key name> ‖ "\\n" ‖ 0x01 ‖ <32-byte public key>).
- Keys are written as the Go `golang.org/x/mod/sumdb/note` package writes them, so its tools verify our checkpoints:
  a verifier key `<name>+<key id hex>+<base64(0x01 ‖ public key)>` and a signer key
  `PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 ‖ 32-byte seed)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

ORIGIN = "tic.kjt.henan.gov.cn/log"
ED25519 = 0x01
SIGNATURE_PREFIX = "— "  # an em dash and a space


class NoteError(ValueError):
    """A key or note that is not well formed, or a signature that does not verify."""


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()[:4]


def _valid_name(name: str) -> bool:
    return bool(name) and all(c.isprintable() and not c.isspace() and c != "+" for c in name)


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("not standard base64") from exc


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public: bytes

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        parts = vkey.split("+", 2)
        if len(parts) != 3 or not _valid_name(parts[0]) or len(parts[1]) != 8:
            raise NoteError("malformed verifier key")
        name, key_hex, encoded = parts
        raw = _b64(encoded)
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("not an Ed25519 verifier key")
        try:
            key_id = bytes.fromhex(key_hex)
        except ValueError as exc:
            raise NoteError("malformed verifier key") from exc
        if key_id != _key_id(name, raw[1:]) or key_hex != key_hex.lower():
            raise NoteError("the key id does not match the key")
        return cls(name=name, key_id=key_id, public=raw[1:])

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(bytes([ED25519]) + self.public).decode()}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str = ORIGIN) -> Signer:
        # A name with a space or a '+' would give keys no one can parse back (the key text is '+'-separated).
        if not _valid_name(name):
            raise NoteError("malformed key name")
        seed = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(name=name, seed=seed)

    @classmethod
    def parse(cls, skey: str) -> Signer:
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _valid_name(parts[2]):
            raise NoteError("malformed signer key")
        _, _, name, key_hex, encoded = parts
        raw = _b64(encoded)
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("not an Ed25519 signer key")
        signer = cls(name=name, seed=raw[1:])
        if key_hex != signer.verifier.key_id.hex():
            raise NoteError("the key id does not match the key")
        return signer

    @property
    def verifier(self) -> Verifier:
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return Verifier(name=self.name, key_id=_key_id(self.name, public), public=public)

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{encoded}"

    def sign(self, text: str) -> str:
        """The signed note of `text` (which must end with a newline and have no blank line)."""
        _check_text(text)
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(text.encode())
        line = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {line}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise NoteError("malformed note text")


def open_note(note: str, verifier: Verifier) -> str:
    """The text of `note` if it carries a valid signature by `verifier` (other signatures are ignored)."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise NoteError("malformed note")
    text += "\n"
    _check_text(text)
    for line in signatures.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("malformed signature line")
        name, _, encoded = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
        raw = _b64(encoded)
        if len(raw) < 5:
            raise NoteError("malformed signature line")
        if name == verifier.name and raw[:4] == verifier.key_id:
            if verifier.verify(text.encode(), raw[4:]):
                return text
            raise NoteError(f"invalid signature for key {verifier.name}+{verifier.key_id.hex()}")
    raise NoteError("no signature by the expected key")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or not lines[0]:
            raise NoteError("malformed checkpoint")
        origin, size_text, root_text = lines[0], lines[1], lines[2]
        if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise NoteError("malformed checkpoint size")
        root = _b64(root_text)
        if len(root) != 32:
            raise NoteError("malformed checkpoint root")
        return cls(origin=origin, size=int(size_text), root=root)


def verify_checkpoint(note: str, verifier: Verifier, origin: str = ORIGIN) -> Checkpoint:
    """A checkpoint whose signature by `verifier` holds and whose origin is the expected one."""
    checkpoint = Checkpoint.parse(open_note(note, verifier))
    if checkpoint.origin != origin:
        raise NoteError(f"checkpoint for {checkpoint.origin!r}, not {origin!r}")
    return checkpoint
