"""Acknowledgement bodies for the platform's receipt pushes (§2.1).

What zjport checks in the answer is unknown [L]: enterprise code answers JAXB XML (S8), JSON (S1) or
plain text (S5); the likeliest check is HTTP 200, perhaps ``success``. So the body is a strategy:

* :class:`XmlAck` (default, S8): ``<response><success>true</success></response>``, and on error
  ``<response><success>false</success><errorCode>S02</errorCode><errorMsg>…</errorMsg></response>``.
* :class:`JsonAck`: ``{"success": true}`` / ``{"success": false, "errorCode": …, "errorMsg": …}``.
* :class:`TextAck`: ``OK`` / ``ERROR S02 …``.

Error codes are the "约定错误类型" seen in S8 (they read like zjport's interface document) [M]; the
receiver uses S01 非法的XML格式 (not well-formed, unsafe), S02 非法的数字签名 (digest missing or
wrong), S04 非法的通知类型 (no parser for the document), S05 非法的通知内容 (cannot be decoded or
decrypted, or not the expected document), S07 系统异常 (our callback failed: the platform should
retry) and S12 非法的请求参数 (missing or repeated fields, oversized body).
"""

from __future__ import annotations

import json
from typing import Protocol, runtime_checkable

from lxml import etree

__all__ = ["PUSH_ERROR_CODES", "AckBody", "AckRenderer", "JsonAck", "TextAck", "XmlAck"]

#: The agreed error codes an enterprise answers with (S8 ``JKFConstant``) [M].
PUSH_ERROR_CODES: dict[str, str] = {
    "S01": "非法的XML格式",
    "S02": "非法的数字签名",
    "S03": "非法的物流公司",
    "S04": "非法的通知类型",
    "S05": "非法的通知内容",
    "S07": "系统异常",
    "S12": "非法的请求参数",
    "S13": "业务服务异常",
    "S14": "系统流控",
}

#: (content type, body)
AckBody = tuple[str, bytes]


@runtime_checkable
class AckRenderer(Protocol):
    """Renders the answer to a push. ``code`` is one of :data:`PUSH_ERROR_CODES` on error."""

    def success(self) -> AckBody: ...

    def error(self, code: str, message: str) -> AckBody: ...


class XmlAck:
    """The S8 JAXB form (default)."""

    content_type = "application/xml; charset=utf-8"

    def __repr__(self) -> str:
        return "XmlAck()"

    def success(self) -> AckBody:
        return self.content_type, b"<response><success>true</success></response>"

    def error(self, code: str, message: str) -> AckBody:
        root = etree.Element("response")
        etree.SubElement(root, "success").text = "false"
        etree.SubElement(root, "errorCode").text = code
        etree.SubElement(root, "errorMsg").text = message
        return self.content_type, etree.tostring(root, encoding="UTF-8", xml_declaration=False)


class JsonAck:
    content_type = "application/json; charset=utf-8"

    def __repr__(self) -> str:
        return "JsonAck()"

    def success(self) -> AckBody:
        return self.content_type, b'{"success": true}'

    def error(self, code: str, message: str) -> AckBody:
        body = {"success": False, "errorCode": code, "errorMsg": message}
        return self.content_type, json.dumps(body, ensure_ascii=False).encode("utf-8")


class TextAck:
    content_type = "text/plain; charset=utf-8"

    def __init__(self, ok: str = "OK") -> None:
        self.ok = ok

    def __repr__(self) -> str:
        return f"TextAck({self.ok!r})"

    def success(self) -> AckBody:
        return self.content_type, self.ok.encode("utf-8")

    def error(self, code: str, message: str) -> AckBody:
        return self.content_type, f"ERROR {code} {message}".encode()
