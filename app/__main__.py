"""Command line: `python -m app migrate | serve | worker | seal-webhook-secrets | token | openapi | openapi-compat |
log | diagrams`."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path


def _database_url() -> str:
    from app.db.session import plain_url, resolve_database_url
    from app.logging import configure_logging
    from app.settings import Settings

    settings = Settings()
    configure_logging(settings.log_level, json_output=settings.log_json)  # the embedded server logs to stderr
    return plain_url(resolve_database_url(settings.database_url, settings.data_dir))


def cmd_migrate(args: argparse.Namespace) -> int:
    from app.db import migrations

    url = _database_url()
    migrations.upgrade(url, args.revision)
    print(f"database at {args.revision}", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import signal

    import uvicorn

    from app.db import embedded
    from app.settings import Settings

    settings = Settings()

    # Without TIC_DATABASE_URL each server process starts (or shares) the embedded database in its lifespan, which
    # also watches it and stops it on every way out. Uvicorn shuts down gracefully on SIGTERM and SIGINT, then raises
    # the signal again for the handler it found: this one, so the process exits with a status instead of dying of the
    # signal (atexit hooks run), and with EXIT_DATABASE_LOST when the watchdog gave the embedded database up.
    def exit_after_shutdown(signum: int, frame: object) -> None:
        raise SystemExit(embedded.exit_status())

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, exit_after_shutdown)
    uvicorn.run(
        "app.main:app",
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        access_log=False,
        # No `server: uvicorn` on every response: it tells a scanner which known vulnerabilities to try.
        server_header=False,
    )
    return embedded.exit_status()


def cmd_worker(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from app import worker
    from app.logging import configure_logging
    from app.settings import Settings

    settings = Settings()
    configure_logging(settings.log_level, json_output=settings.log_json)
    if not settings.database_url:
        # One embedded server for this process: the worker's asyncpg engine and its psycopg queue share its URL.
        settings = settings.model_copy(update={"database_url": _database_url()})

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await worker.run(settings, stop=stop, concurrency=args.concurrency, name=args.name)

    asyncio.run(main())
    return 0


def cmd_seal_webhook_secrets(args: argparse.Namespace) -> int:
    import asyncio

    from app.db.session import create_engine, create_sessionmaker, resolve_database_url, transaction
    from app.services import webhooks
    from app.services.secret_box import SecretBox
    from app.settings import Settings

    settings = Settings()

    async def main() -> webhooks.Sealed:
        engine = create_engine(resolve_database_url(settings.database_url, settings.data_dir), pool_size=1)
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                return await webhooks.seal_secrets(session, SecretBox(settings.webhook_fernet_keys()))
        finally:
            await engine.dispose()

    sealed = asyncio.run(main())
    print(f"webhook secrets re-encrypted under the first key: {sealed.changed}", file=sys.stderr)
    if sealed.unreadable:
        print(f"webhook secrets no configured key decrypts: {sealed.unreadable}", file=sys.stderr)
        return 1
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from app.api.auth import issue_token
    from app.settings import Settings

    settings = Settings()
    print(
        issue_token(
            settings.auth_secret.get_secret_value(),
            role=args.role,
            sub=args.sub,
            org_id=args.org_id,
            expert_id=args.expert_id,
            ttl_seconds=args.ttl,
        )
    )
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from app.main import create_app

    spec = create_app().openapi()
    text = json.dumps(spec, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


def cmd_openapi_compat(args: argparse.Namespace) -> int:
    """The breaking-change gate: the contract this code serves (or --current) against the last released one."""
    from app.api.contract_compat import check

    baseline = json.loads(Path(args.baseline).read_text(encoding="utf-8"))
    if args.current:
        current = json.loads(Path(args.current).read_text(encoding="utf-8"))
    else:
        from app.main import create_app

        current = json.loads(json.dumps(create_app().openapi()))
    verdict = check(baseline, current)
    for change in verdict.breaking:
        print(f"breaking: {change}")
    versions = f"{verdict.baseline_version} -> {verdict.current_version}"
    if not verdict.breaking:
        print(f"openapi-compat: no breaking change against {args.baseline} ({versions})")
        return 0
    if verdict.ok:
        print(f"openapi-compat: {len(verdict.breaking)} breaking change(s), allowed by the new major ({versions})")
        return 0
    print(
        f"openapi-compat: {len(verdict.breaking)} breaking change(s) against {args.baseline} without a new major "
        f"version ({versions}). Keep the old fields and paths, or raise info.version's major (README "
        '"Versioning the contract").'
    )
    return 1


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a UUID") from None


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive integer")
    return number


def _check_token_ids(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    # The API refuses a token of these roles without its id (401), so printing one would only hand out a dud.
    from app.domain.principal import ORG_ROLES

    if args.role in ORG_ROLES and not args.org_id:
        parser.error(f"--org-id is required for role {args.role}")
    if args.role == "expert" and not args.expert_id:
        parser.error("--expert-id is required for role expert")


def diagrams_markdown() -> str:
    """Every lifecycle as a Mermaid state diagram, generated from the same tables the service enforces."""
    from app.domain.lifecycles import MACHINES

    parts = []
    for name, machine in MACHINES.items():
        parts.append(f"#### `{name}`\n\n```mermaid\n{machine.mermaid().rstrip()}\n```\n")
    return "\n".join(parts)


def cmd_diagrams(args: argparse.Namespace) -> int:
    sys.stdout.write(diagrams_markdown())
    return 0


def _read(path: str) -> str:
    return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")


def cmd_log_keygen(args: argparse.Namespace) -> int:
    from app.domain.checkpoints import ORIGIN, Signer

    key = Signer.generate(args.name or ORIGIN)
    print(key)
    print(f"verifier key: {key.verifier}", file=sys.stderr)
    return 0


def cmd_log_verify_inclusion(args: argparse.Namespace) -> int:
    """Offline: the checkpoint is signed by the key, and the proof puts the entry in the checkpoint's tree."""
    import base64

    from app.domain import merkle
    from app.domain.checkpoints import NoteError, Verifier, verify_checkpoint

    try:
        checkpoint = verify_checkpoint(_read(args.checkpoint), Verifier.parse(args.key))
        proof = json.loads(_read(args.proof))
        leaf = merkle.leaf_hash(proof["entry"].encode("utf-8"))
        hashes = [base64.b64decode(h) for h in proof["hashes"]]
        index, size = int(proof["leaf_index"]), int(proof["tree_size"])
    except (NoteError, ValueError, KeyError, TypeError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    if size != checkpoint.size:
        print(f"FAILED: the proof is for a tree of {size}, the checkpoint for {checkpoint.size}", file=sys.stderr)
        return 1
    if not merkle.verify_inclusion(index, size, leaf, hashes, checkpoint.root):
        print("FAILED: the proof does not lead from this entry to the checkpoint's root", file=sys.stderr)
        return 1
    print(f"ok: entry {index} (seq {index + 1}) is in the tree of {size} signed by {args.key.split('+')[0]}")
    return 0


def cmd_log_verify_consistency(args: argparse.Namespace) -> int:
    """Offline: both checkpoints are signed by the key, and the older tree is a prefix of the newer."""
    import base64

    from app.domain import merkle
    from app.domain.checkpoints import NoteError, Verifier, verify_checkpoint

    try:
        verifier = Verifier.parse(args.key)
        old = verify_checkpoint(_read(args.old), verifier)
        new = verify_checkpoint(_read(args.new), verifier)
        hashes = [base64.b64decode(h) for h in json.loads(_read(args.proof))["hashes"]]
    except (NoteError, ValueError, KeyError, TypeError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    if not merkle.verify_consistency(old.size, new.size, hashes, old.root, new.root):
        print(f"FAILED: the tree of {old.size} is not shown to be a prefix of the tree of {new.size}", file=sys.stderr)
        return 1
    print(f"ok: the tree of {old.size} is a prefix of the tree of {new.size}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="Henan TIC lifecycle service")
    sub = parser.add_subparsers(dest="command", required=True)

    migrate = sub.add_parser("migrate", help="bring the database schema to a revision (default head)")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(func=cmd_migrate)

    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    work = sub.add_parser("worker", help="deliver webhooks: dispatch the event feed and run the delivery queue")
    work.add_argument(
        "--concurrency", type=_positive, help="deliveries in flight at once (default TIC_WORKER_CONCURRENCY)"
    )
    work.add_argument("--name", help="worker name in logs and in the queue's worker table")
    work.set_defaults(func=cmd_worker)

    seal = sub.add_parser(
        "seal-webhook-secrets",
        help="encrypt webhook secrets still in clear and re-encrypt the others under the first TIC_WEBHOOK_SECRET_KEYS",
    )
    seal.set_defaults(func=cmd_seal_webhook_secrets)

    token = sub.add_parser("token", help="print a development token signed with TIC_AUTH_SECRET")
    token.add_argument(
        "--role", required=True, choices=["province", "supervisor", "applicant", "expert", "third_party", "observer"]
    )
    token.add_argument("--org-id", type=_uuid, help="the caller's organization (supervisor, applicant, third_party)")
    token.add_argument("--expert-id", type=_uuid, help="the caller's expert record (expert)")
    token.add_argument("--sub")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.set_defaults(func=cmd_token)

    openapi = sub.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", default="openapi/openapi.json")
    openapi.set_defaults(func=cmd_openapi)

    log = sub.add_parser("log", help="the feed's transparency log: signing keys and offline proof checks")
    log_sub = log.add_subparsers(dest="log_command", required=True)
    keygen = log_sub.add_parser("keygen", help="print a new Ed25519 signer key for TIC_LOG_SIGNING_KEY")
    keygen.add_argument("--name", help="the key name (default the log's origin)")
    keygen.set_defaults(func=cmd_log_keygen)
    inclusion = log_sub.add_parser(
        "verify-inclusion", help="check a proof from GET /log/proof/inclusion against a signed checkpoint"
    )
    inclusion.add_argument("--key", required=True, help="the verifier key from GET /log/key (verifier_key)")
    inclusion.add_argument("--checkpoint", required=True, help="a file with GET /log/checkpoint's note ('-': stdin)")
    inclusion.add_argument("--proof", required=True, help="a file with GET /log/proof/inclusion's JSON ('-': stdin)")
    inclusion.set_defaults(func=cmd_log_verify_inclusion)
    consistency = log_sub.add_parser(
        "verify-consistency", help="check that an older signed checkpoint is a prefix of a newer one"
    )
    consistency.add_argument("--key", required=True, help="the verifier key from GET /log/key (verifier_key)")
    consistency.add_argument("--old", required=True, help="the older checkpoint note")
    consistency.add_argument("--new", required=True, help="the newer checkpoint note")
    consistency.add_argument("--proof", required=True, help="GET /log/proof/consistency's JSON for the two sizes")
    consistency.set_defaults(func=cmd_log_verify_consistency)
    compat = sub.add_parser("openapi-compat", help="fail on a breaking change against the released contract")
    compat.add_argument("--baseline", default="openapi/baseline.json")
    compat.add_argument("--current", help="a document to check instead of the one this code serves")
    compat.set_defaults(func=cmd_openapi_compat)

    diagrams = sub.add_parser("diagrams", help="print the lifecycle state diagrams (Mermaid) for the README")
    diagrams.set_defaults(func=cmd_diagrams)

    args = parser.parse_args(argv)
    if args.command == "token":
        _check_token_ids(token, args)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
