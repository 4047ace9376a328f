"""海关总署公告2018年第179号: customs asks for an order's raw payment data, the platform uploads it.

* :class:`Pay179Service` — the ``platDataOpen`` endpoint logic (answer ``openReq`` at once, record
  it) and the background upload (build, sign, POST ``payExInfoStr``, record the outcome);
  :meth:`Pay179Service.wsgi_app` / :func:`make_wsgi_app` for any WSGI server;
* :class:`Pay179Config` — settings, also from a TOML ``[pay179]`` table;
* data: :class:`PaymentDataSource` (or a plain function) returning :class:`PaymentData`;
  :class:`LedgerPaymentSource` reads the pipeline ledger plus the :class:`RawPaymentExchange` only the
  integrator has;
* storage: :class:`Pay179Store`, :class:`SqlitePay179Store`;
* :class:`Uploader`, :func:`parse_reply`; :func:`parse_open_req`, the answer codes;
* CLI functions: :func:`serve`, :func:`upload_again`, :func:`verify_payload_file`, :func:`load_config`.

The payload models, the sign string and :func:`~cbec_declare.signing.pay179.verify_payload` live in
:mod:`cbec_declare.signing.pay179`; a local customs for tests is
:class:`cbec_declare.sandbox.customs179.Customs179`.
"""

from .cli import certificates_in, load_config, serve, upload_again, verify_payload_file
from .config import PRODUCTION_UPLOAD_URL, TEST_UPLOAD_URL, Pay179Config
from .endpoint import EndpointAnswer, OpenReqHandler, make_wsgi_app
from .models import (
    OpenRequest,
    Outcome,
    PaymentData,
    RawPaymentExchange,
    ReplyKind,
    RequestRecord,
    RequestStatus,
    UploadOutcome,
    UploadRecord,
    UploadReply,
)
from .openreq import (
    ANSWER_BAD_FIELD,
    ANSWER_BAD_JSON,
    ANSWER_BUSY,
    ANSWER_CODES,
    ANSWER_FAILED,
    ANSWER_METHOD,
    ANSWER_NO_OPENREQ,
    ANSWER_OK,
    ANSWER_SESSION_CONFLICT,
    ANSWER_TOO_LARGE,
    answer_json,
    parse_open_req,
    parse_open_req_form,
)
from .server import Pay179Server
from .service import Pay179Service
from .source import LedgerPaymentSource, PaymentDataSource, PaymentLookup, as_lookup
from .sqlite_store import SqlitePay179Store
from .store import Pay179Store, RawExchangeSource
from .upload import Delivery, Uploader, form_body, parse_reply
from .worker import UploadWorker

__all__ = [
    "ANSWER_BAD_FIELD",
    "ANSWER_BAD_JSON",
    "ANSWER_BUSY",
    "ANSWER_CODES",
    "ANSWER_FAILED",
    "ANSWER_METHOD",
    "ANSWER_NO_OPENREQ",
    "ANSWER_OK",
    "ANSWER_SESSION_CONFLICT",
    "ANSWER_TOO_LARGE",
    "PRODUCTION_UPLOAD_URL",
    "TEST_UPLOAD_URL",
    "Delivery",
    "EndpointAnswer",
    "LedgerPaymentSource",
    "OpenReqHandler",
    "OpenRequest",
    "Outcome",
    "Pay179Config",
    "Pay179Server",
    "Pay179Service",
    "Pay179Store",
    "PaymentData",
    "PaymentDataSource",
    "PaymentLookup",
    "RawExchangeSource",
    "RawPaymentExchange",
    "ReplyKind",
    "RequestRecord",
    "RequestStatus",
    "SqlitePay179Store",
    "UploadOutcome",
    "UploadRecord",
    "UploadReply",
    "UploadWorker",
    "Uploader",
    "answer_json",
    "as_lookup",
    "certificates_in",
    "form_body",
    "load_config",
    "make_wsgi_app",
    "parse_open_req",
    "parse_open_req_form",
    "parse_reply",
    "serve",
    "upload_again",
    "verify_payload_file",
]
