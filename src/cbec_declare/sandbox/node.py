"""A local stand-in for the exchange-node entry points, protocol side (§2.3).

:class:`NodeServer` accepts a DxpMsg in the two shapes enterprise code uses:

* SOAP ``ReceiveCebDeclare.receive(content)`` at ``/newyorkWS/ws/ReceiveCebDeclare`` (content in
  CDATA or escaped); it answers a ``<mo>`` RESULT in ``<return>``, as the real service does [M];
* REST ``POST /newyorkTransferWebapps/rest/transferDeclare`` with form field ``xml`` (URL-encoded or
  raw); it answers ``{"success": true|false, "data": "<RESULT xml>"}`` — our guess at the unknown
  JSON (one client reads a 7-character flag key and a 4-character data key) [L].

It unwraps the envelope (``DxpMsg`` or ``DxpMsgSv``; a bare CEB message on the REST shape too), then
hands ``(cop_msg_id, ceb_bytes)`` to the pluggable ``on_message`` hook, which returns a
:class:`NodeVerdict`. The default hook accepts everything; the full sandbox plugs in XSD validation,
signature verification and the customs simulation there. A message that cannot be unwrapped is
refused without calling the hook; a hook that raises makes a SOAP Fault (HTTP 500) or a 500.
Faults are injected per request through :class:`~cbec_declare.sandbox._server.Faults`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import attrs

from .._xml import parse_untrusted
from ..envelope import unwrap
from ..errors import CbecError
from ..models import CHINA_TZ
from ..transport.mo import JkfResult, JkfResultDetail, ResultReceipt, build_mo
from ..transport.profiles import ZJPORT_NAMESPACE
from ..transport.soap import build_fault, build_response, parse_request
from ._server import Faults, LocalServer

__all__ = ["NodeServer", "NodeSubmission", "NodeVerdict", "OnMessage"]

log = logging.getLogger("cbec_declare.sandbox")


@attrs.frozen
class NodeVerdict:
    """What the node says about one message: accepted, and the lines of ``resultInfo``."""

    accepted: bool
    info: tuple[str, ...] = ("处理成功",)

    @classmethod
    def ok(cls, *info: str) -> NodeVerdict:
        return cls(True, info or ("处理成功",))

    @classmethod
    def reject(cls, *info: str) -> NodeVerdict:
        return cls(False, info or ("处理失败",))


#: ``on_message(cop_msg_id, ceb_bytes) -> NodeVerdict``
OnMessage = Callable[[str, bytes], NodeVerdict]


@attrs.frozen
class NodeSubmission:
    """One message the node received (``shape`` is ``soap`` or ``rest``) and its verdict."""

    shape: str
    cop_msg_id: str | None
    msg_type: str | None
    sender_id: str | None
    ceb: bytes | None = attrs.field(repr=lambda v: "None" if v is None else f"<{len(v)} bytes>")
    verdict: NodeVerdict


def _accept_all(cop_msg_id: str, ceb: bytes) -> NodeVerdict:
    return NodeVerdict.ok()


class NodeServer:
    """The two exchange-node entry shapes on 127.0.0.1 (see the module doc)."""

    def __init__(
        self,
        *,
        on_message: OnMessage | None = None,
        faults: Faults | None = None,
        soap_path: str = "/newyorkWS/ws/ReceiveCebDeclare",
        rest_path: str = "/newyorkTransferWebapps/rest/transferDeclare",
        namespace: str = ZJPORT_NAMESPACE,
        form_field: str = "xml",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.on_message = on_message or _accept_all
        self.soap_path = soap_path
        self.rest_path = rest_path
        self.namespace = namespace
        self.form_field = form_field
        self._lock = threading.Lock()
        self._submissions: list[NodeSubmission] = []
        self.server = LocalServer(self.app, host=host, port=port, faults=faults)

    @property
    def faults(self) -> Faults:
        return self.server.faults

    @property
    def soap_url(self) -> str:
        return self.server.url + self.soap_path

    @property
    def rest_url(self) -> str:
        return self.server.url + self.rest_path

    @property
    def submissions(self) -> list[NodeSubmission]:
        with self._lock:
            return list(self._submissions)

    def start(self) -> NodeServer:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> NodeServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ handling

    def judge(self, shape: str, message: bytes) -> NodeSubmission:
        """Unwrap one DxpMsg (or, for REST, a bare CEB message) and ask ``on_message``."""
        cop_msg_id = msg_type = sender_id = None
        try:
            root = parse_untrusted(message, what="node message")
            local = root.tag.rpartition("}")[2]
            if local in ("DxpMsg", "DxpMsgSv"):
                envelope = unwrap(message)
                info = envelope.trans_info
                cop_msg_id, msg_type, sender_id = info.cop_msg_id, info.msg_type, info.sender_id
                ceb = envelope.payload
            else:
                cop_msg_id, msg_type, ceb = root.get("guid"), local, message
        except CbecError as exc:
            verdict = NodeVerdict.reject(f"报文格式错误: {exc}")
            return NodeSubmission(shape, cop_msg_id, msg_type, sender_id, None, verdict)
        verdict = self.on_message(cop_msg_id or "", ceb)
        return NodeSubmission(shape, cop_msg_id, msg_type, sender_id, ceb, verdict)

    def _result(self, submission: NodeSubmission) -> str:
        moment = datetime.now(CHINA_TZ)
        result = ResultReceipt(
            results=(
                JkfResult(
                    business_no=submission.cop_msg_id,
                    business_type=submission.msg_type,
                    chk_mark="1" if submission.verdict.accepted else "2",
                    notice_date=moment.strftime("%Y-%m-%d"),
                    notice_time=moment.strftime("%H:%M"),
                    details=tuple(JkfResultDetail(result_info=line) for line in submission.verdict.info),
                ),
            )
        )
        return build_mo(result).decode("utf-8")

    def _record(self, submission: NodeSubmission) -> None:
        with self._lock:
            self._submissions.append(submission)

    def app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI app for both shapes."""
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] != "POST" or path not in (self.soap_path, self.rest_path):
            start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
            return [b"not found"]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if path == self.soap_path:
            status, content_type, payload = self._soap(body)
        else:
            status, content_type, payload = self._rest(body)
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(payload)))])
        return [payload]

    def _soap(self, body: bytes) -> tuple[str, str, bytes]:
        xml_type = "text/xml; charset=utf-8"
        try:
            call = parse_request(body)
            content = call.params.get("content")
            if not content:
                return "500 Internal Server Error", xml_type, build_fault("soap:Client", "missing content")
            submission = self.judge("soap", content.encode("utf-8"))
        except CbecError as exc:
            return (
                "500 Internal Server Error",
                xml_type,
                build_fault("soap:Client", f"unreadable request: {exc.message}"),
            )
        except Exception as exc:  # the pluggable hook failed: a server fault, as JAX-WS would answer
            log.exception("on_message failed")
            return "500 Internal Server Error", xml_type, build_fault("soap:Server", f"{type(exc).__name__}")
        self._record(submission)
        return "200 OK", xml_type, build_response(self.namespace, "receive", self._result(submission))

    def _rest(self, body: bytes) -> tuple[str, str, bytes]:
        json_type = "application/json; charset=utf-8"
        prefix = f"{self.form_field}=".encode("ascii")
        if body.startswith(prefix + b"<"):
            message = body[len(prefix) :]  # sent raw, without URL-encoding (one client does)
        else:
            try:
                fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict"))
            except (UnicodeDecodeError, ValueError):
                fields = {}
            value = fields.get(self.form_field)
            if not value:
                answer = {"success": False, "data": f"missing form field {self.form_field}"}
                return "400 Bad Request", json_type, json.dumps(answer, ensure_ascii=False).encode("utf-8")
            message = value.encode("utf-8")
        try:
            submission = self.judge("rest", message)
        except Exception as exc:
            log.exception("on_message failed")
            answer = {"success": False, "data": type(exc).__name__}
            return "500 Internal Server Error", json_type, json.dumps(answer).encode("utf-8")
        self._record(submission)
        answer = {"success": submission.verdict.accepted, "data": self._result(submission)}
        return "200 OK", json_type, json.dumps(answer, ensure_ascii=False).encode("utf-8")
