"""The requests → library exception boundary, and the bounded POST against a real local server."""

from __future__ import annotations

import inspect

import pytest
import requests
import requests.exceptions as rex

from cbec_declare import errors
from cbec_declare.sandbox import Fault, Faults, LocalServer
from cbec_declare.transport.http import HttpReply, check_status, map_requests_error, post


def _all_request_exceptions() -> list[type[rex.RequestException]]:
    return sorted(
        {
            cls
            for _, cls in inspect.getmembers(rex, inspect.isclass)
            if issubclass(cls, rex.RequestException) and cls is not rex.RequestException
        },
        key=lambda c: c.__name__,
    )


def _instance(cls: type[rex.RequestException]) -> rex.RequestException:
    if issubclass(cls, rex.HTTPError):
        response = requests.Response()
        response.status_code = 502
        return cls("bad gateway", response=response)
    if issubclass(cls, rex.JSONDecodeError):
        return cls("Expecting value", "doc", 0)
    return cls("boom")


@pytest.mark.parametrize("cls", _all_request_exceptions(), ids=lambda c: c.__name__)
def test_every_requests_exception_has_a_specific_mapping(cls: type[rex.RequestException]) -> None:
    mapped = map_requests_error(_instance(cls), what="test")
    assert isinstance(mapped, errors.CbecError)
    assert mapped.code != "transport", f"{cls.__name__} falls through to the generic TransportError"


@pytest.mark.parametrize(
    ("cls", "target", "retryable"),
    [
        (rex.ConnectTimeout, errors.TransportTimeout, True),
        (rex.ReadTimeout, errors.TransportTimeout, True),
        (rex.ConnectionError, errors.ConnectError, True),
        (rex.ChunkedEncodingError, errors.ConnectError, True),
        (rex.SSLError, errors.ConnectError, True),
        (rex.TooManyRedirects, errors.RemoteRejected, False),
        (rex.MissingSchema, errors.ConfigError, False),
        (rex.HTTPError, errors.RemoteServerError, True),
    ],
)
def test_mapping_targets(
    cls: type[rex.RequestException], target: type[errors.CbecError], retryable: bool
) -> None:
    mapped = map_requests_error(_instance(cls))
    assert type(mapped) is target
    assert getattr(mapped, "retryable", False) is retryable


def test_generic_request_exception_still_maps_to_transport_error() -> None:
    mapped = map_requests_error(rex.RequestException("odd"))
    assert isinstance(mapped, errors.TransportError)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (200, None),
        (204, None),
        (302, errors.RemoteRejected),
        (400, errors.RemoteRejected),
        (404, errors.RemoteRejected),
        (408, errors.RemoteServerError),
        (429, errors.RemoteServerError),
        (500, errors.RemoteServerError),
        (503, errors.RemoteServerError),
    ],
)
def test_check_status(status: int, error: type[Exception] | None) -> None:
    reply = HttpReply(status=status, headers={}, body=b"why", elapsed=0.0)
    if error is None:
        check_status(reply, what="t")
    else:
        with pytest.raises(error) as caught:
            check_status(reply, what="t")
        assert caught.value.context["status"] == status  # type: ignore[attr-defined]


def _echo(environ: dict, start_response):  # type: ignore[no-untyped-def]
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return [body * int(environ.get("HTTP_X_REPEAT", "1"))]


def test_post_reads_the_answer_within_the_limit() -> None:
    with LocalServer(_echo) as server, requests.Session() as session:
        reply = post(
            session, server.url, data=b"abc", headers={}, timeout=(5, 5), max_response_bytes=10, what="t"
        )
        assert reply.status == 200
        assert reply.body == b"abc"
        with pytest.raises(errors.RemoteServerError, match="larger than"):
            post(
                session,
                server.url,
                data=b"abcd",
                headers={"X-Repeat": "3"},
                timeout=(5, 5),
                max_response_bytes=10,
                what="t",
            )


def test_post_maps_a_dropped_connection_and_a_refused_port() -> None:
    with LocalServer(_echo, faults=Faults(Fault.drop())) as server, requests.Session() as session:
        with pytest.raises(errors.ConnectError):
            post(session, server.url, data=b"x", headers={}, timeout=(5, 5), max_response_bytes=10, what="t")
        url = server.url
    with requests.Session() as session, pytest.raises(errors.ConnectError):
        post(session, url, data=b"x", headers={}, timeout=(5, 5), max_response_bytes=10, what="t")


def test_post_maps_a_read_timeout() -> None:
    with (
        LocalServer(_echo, faults=Faults(Fault.hang())) as server,
        requests.Session() as session,
        pytest.raises(errors.TransportTimeout),
    ):
        post(session, server.url, data=b"x", headers={}, timeout=(5, 0.3), max_response_bytes=10, what="t")


def test_bad_url_is_a_config_error() -> None:
    with requests.Session() as session, pytest.raises(errors.ConfigError):
        post(session, "nota-url", data=b"", headers={}, timeout=(1, 1), max_response_bytes=10, what="t")
