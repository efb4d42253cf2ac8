"""Where deliveries may go, with the I/O the domain's target policy leaves out: resolving a host without blocking
the event loop, checking a URL at registration, and an HTTP transport that connects only to addresses it has just
checked.

Checking at registration is not enough: DNS may answer differently later (rebinding), or the row may predate the
policy. So the worker's HTTP client resolves the host itself when it opens a connection, refuses the connection when
any answer is not allowed, and connects to exactly the addresses it checked; TLS still verifies the certificate for
the URL's host name. No proxy (it would be connected to instead of the target), no redirects.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence

import httpcore
import httpx

from app.domain import webhooks as rules
from app.domain.errors import InvalidInput

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to. `loop.getaddrinfo` runs the system resolver in a thread, so the loop goes
    on; tests replace this function (`webhook_targets.resolve_host`) to play DNS."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class TargetRefused(Exception):
    """The policy refuses the host's addresses (or it has none)."""

    def __init__(self, refusal: rules.Refusal) -> None:
        super().__init__(refusal.type)
        self.refusal = refusal


async def checked_addresses(host: str, port: int, policy: rules.TargetPolicy, *, resolve_seconds: float) -> list[str]:
    """The addresses to connect to for `host`, every one allowed by `policy`; TargetRefused otherwise. A numeric host
    (`2130706433`, `127.1`, `[::1]`) is read as the address it spells, without asking DNS."""
    literal = rules.literal_address(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = list(await asyncio.wait_for(resolve_host(host, port), resolve_seconds))
        except (OSError, TimeoutError, UnicodeError):  # gaierror is an OSError; idna refuses some names
            addresses = []
    refusal = rules.address_refusal(host, addresses, policy)
    if refusal is not None:
        raise TargetRefused(refusal)
    return addresses


async def check_target(url: str, policy: rules.TargetPolicy, *, resolve_seconds: float) -> None:
    """Registration: InvalidInput (422 on `url`, with the refusal's stable type) unless deliveries may go to `url`."""
    refusal = rules.url_refusal(url, policy)
    if refusal is None:
        host, port = rules.target_host(url)
        try:
            await checked_addresses(host, port, policy, resolve_seconds=resolve_seconds)
        except TargetRefused as exc:
            refusal = exc.refusal
    if refusal is not None:
        raise InvalidInput(loc=("body", "url"), msg=refusal.message, type=refusal.type)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving and checking every host it connects to, then connecting to the checked
    addresses (in the resolver's order, the next when one refuses)."""

    def __init__(self, policy: rules.TargetPolicy, *, resolve_timeout: float) -> None:
        self._policy = policy
        self._resolve_timeout = resolve_timeout
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await checked_addresses(host, port, self._policy, resolve_seconds=timeout or self._resolve_timeout)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None  # checked_addresses never answers an empty list
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are not delivered over unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a connection pool whose connections go through GuardedBackend. httpx takes no network
    backend, so the pool it built is replaced by the same pool with ours (httpx has kept `_pool` since 0.18)."""

    def __init__(self, policy: rules.TargetPolicy, *, resolve_timeout: float, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy, resolve_timeout=resolve_timeout),
        )


def delivery_client(policy: rules.TargetPolicy, *, timeout: float, user_agent: str) -> httpx.AsyncClient:
    """The worker's HTTP client: guarded connections, no redirects, nothing taken from the environment (a proxy
    would be connected to instead of the target)."""
    return httpx.AsyncClient(
        transport=GuardedTransport(policy, resolve_timeout=timeout, limits=httpx.Limits()),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": user_agent},
    )


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def attempt_error(exc: BaseException) -> str:
    """The delivery log's category for a failed request (one of the domain's DELIVERY_ERRORS), never its text."""
    if isinstance(exc, TargetRefused):
        return "dns_error" if exc.refusal.type == rules.URL_HOST_UNRESOLVABLE else "refused_address"
    chain = _chain(exc)
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return "tls_error"
    if isinstance(exc, httpx.TimeoutException) or any(isinstance(e, TimeoutError) for e in chain):
        return "timeout"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "refused_url"
    if isinstance(exc, httpx.ProtocolError):
        return "protocol_error"
    if any(isinstance(e, socket.gaierror) for e in chain):
        return "dns_error"
    if isinstance(exc, httpx.TransportError | OSError):
        return "connect_error"
    return "error"
