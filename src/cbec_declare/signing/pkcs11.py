"""Sign with an RSA key held on a PKCS#11 token (ukey, HSM, SoftHSM2), through python-pkcs11.

::

    with Pkcs11Signer(
        "/usr/lib/softhsm/libsofthsm2.so",  # always given explicitly; this path is only an example
        token_label="customs", key_label="rsa2048", pin_env="CBEC_TOKEN_PIN",
    ) as signer:
        signature = signer.sign(signed_info_c14n)

The token is found by **label** (SoftHSM2 moves initialised tokens to random slot ids), the key by
label and/or id, the certificate on the token next to the key (same label/id) unless one is given.
RSA PKCS#1 v1.5 over SHA-1 (customs default) or SHA-256 uses ``CKM_SHA1_RSA_PKCS`` /
``CKM_SHA256_RSA_PKCS``, or ``CKM_RSA_PKCS`` over a DigestInfo built here, for tokens that lack the
combined mechanisms; both give the same signature bytes.

SM2 is refused with :class:`~cbec_declare.errors.UnsupportedAlgorithm` (see :data:`SM2_PKCS11_REASON`).

Threads: python-pkcs11 calls ``C_Initialize(NULL)``, without ``CKF_OS_LOCKING_OK``, which by the
PKCS#11 standard promises the module that no two threads call it at once. SoftHSM2 2.6 holds us to
it: two threads searching, or even signing on separate sessions, gave ``CKR_GENERAL_ERROR`` and heap
corruption. So every call into a module, from any signer, runs under one per-module lock: signers
are thread-safe, and signatures on one module are serial (run one process per token for more).
A PKCS#11 login belongs to the application, not to a session: one login per token is shared by
every signer of the process and ended when the last of them closes.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import pkcs11
from cryptography.hazmat.primitives.asymmetric import rsa
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11e

from ..errors import ConfigError, KeyMaterialError, SignerUnavailable, SigningError, UnsupportedAlgorithm
from .base import SignatureAlgorithm, SignerIdentity
from .certs import certificate_info, load_certificate, public_key
from .config import resolve_secret

if TYPE_CHECKING:
    from pkcs11 import _pkcs11

__all__ = [
    "SM2_PKCS11_REASON",
    "MechanismChoice",
    "Pkcs11Signer",
    "digest_info",
    "load_pkcs11_library",
    "pkcs11_lock",
    "reinitialize_pkcs11_library",
    "resolve_mechanism",
    "translate_pkcs11_error",
]

logger = logging.getLogger(__name__)

SM2_PKCS11_REASON: Final = (
    "SM2 cannot be used through PKCS#11 here: PKCS#11 has no standard SM2 mechanism (tokens use "
    "vendor-defined ids or the SKF API), python-pkcs11 refuses vendor mechanism ids, and SoftHSM2 "
    "offers only CKM_ECDSA, which is not SM2. Use the e-port card client "
    '(cbec_declare.signing.eport.EportClientSigner, type = "eport") or a callable signer wrapping '
    'the vendor SDK (type = "callable")'
)

# DER of DigestInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING digest }, up to the digest.
_DIGEST_INFO_PREFIX: Final = {
    SignatureAlgorithm.RSA_SHA1: bytes.fromhex("3021300906052b0e03021a05000414"),
    SignatureAlgorithm.RSA_SHA256: bytes.fromhex("3031300d060960864801650304020105000420"),
}
_HASH: Final = {SignatureAlgorithm.RSA_SHA1: "sha1", SignatureAlgorithm.RSA_SHA256: "sha256"}
_COMBINED: Final = {
    SignatureAlgorithm.RSA_SHA1: Mechanism.SHA1_RSA_PKCS,
    SignatureAlgorithm.RSA_SHA256: Mechanism.SHA256_RSA_PKCS,
}
#: Errors after which a new session (and login) may succeed: token re-inserted, module re-initialised.
_SESSION_LOST: Final = (
    p11e.SessionHandleInvalid,
    p11e.SessionClosed,
    p11e.UserNotLoggedIn,
    p11e.DeviceRemoved,
    p11e.TokenNotPresent,
    p11e.KeyHandleInvalid,
    p11e.ObjectHandleInvalid,
)


class MechanismChoice(str, enum.Enum):
    """How the token is asked to sign."""

    AUTO = "auto"  # the combined mechanism if the token lists it, else RSA_PKCS over a DigestInfo
    COMBINED = "combined"  # CKM_SHA1_RSA_PKCS / CKM_SHA256_RSA_PKCS: the token hashes
    RSA_PKCS = "rsa-pkcs"  # CKM_RSA_PKCS over a DigestInfo built here (many ukeys offer only this)


def digest_info(algorithm: SignatureAlgorithm, data: bytes) -> bytes:
    """The PKCS#1 DigestInfo of ``data`` for ``algorithm``: what CKM_RSA_PKCS is given to sign."""
    return _DIGEST_INFO_PREFIX[algorithm] + hashlib.new(_HASH[algorithm], data).digest()


def resolve_mechanism(
    algorithm: SignatureAlgorithm, choice: MechanismChoice, available: Collection[Mechanism]
) -> MechanismChoice:
    """Which of the two ways to sign is used, given the mechanisms the token lists."""
    combined = _COMBINED[algorithm]
    if choice is MechanismChoice.AUTO:
        if combined in available:
            return MechanismChoice.COMBINED
        if Mechanism.RSA_PKCS in available:
            return MechanismChoice.RSA_PKCS
        raise UnsupportedAlgorithm(
            f"the token offers neither {combined.name} nor RSA_PKCS", code="sign.pkcs11.mechanism"
        )
    needed = combined if choice is MechanismChoice.COMBINED else Mechanism.RSA_PKCS
    if needed not in available:
        raise UnsupportedAlgorithm(
            f"the token does not offer {needed.name} (mechanism = {choice.value!r}); try mechanism = 'auto'",
            code="sign.pkcs11.mechanism",
        )
    return choice


# (python-pkcs11 exceptions, our class, "code: hint"); the first match wins, the rest is SigningError.
_ERRORS: Final[tuple[tuple[tuple[type[Exception], ...], type[SigningError], str], ...]] = (
    ((p11e.PinIncorrect,), SignerUnavailable, "pin_incorrect: the token rejected the PIN"),
    ((p11e.PinLocked,), SignerUnavailable, "pin_locked: the PIN is locked; unblock it with the SO PIN"),
    ((p11e.PinExpired, p11e.PinInvalid, p11e.PinLenRange), SignerUnavailable, "pin_invalid"),
    ((p11e.NoSuchToken,), SignerUnavailable, "token_not_found: no token has that label"),
    ((p11e.MultipleTokensReturned,), SignerUnavailable, "token_ambiguous: several tokens have that label"),
    ((p11e.NoSuchKey,), KeyMaterialError, "key_not_found: no private key matches"),
    ((p11e.MultipleObjectsReturned,), KeyMaterialError, "key_ambiguous: several objects match"),
    (_SESSION_LOST, SignerUnavailable, "session_lost: the token or its session went away"),
    ((p11e.DeviceError, p11e.DeviceMemory, p11e.TokenNotRecognised), SignerUnavailable, "device"),
    ((p11e.MechanismInvalid, p11e.MechanismParamInvalid), UnsupportedAlgorithm, "mechanism"),
    ((p11e.FunctionNotSupported,), UnsupportedAlgorithm, "mechanism"),
    ((p11e.KeyTypeInconsistent, p11e.KeySizeRange, p11e.KeyNeeded), KeyMaterialError, "key"),
)


def translate_pkcs11_error(exc: Exception, *, action: str, token: str = "") -> SigningError:
    """A python-pkcs11 exception → the library's error, saying what was being done (never a PIN)."""
    name = type(exc).__name__
    detail = f"{action}{f' (token {token!r})' if token else ''} failed: {name}"
    if str(exc).strip():  # python-pkcs11 messages name search attributes, never PINs
        detail += f" ({str(exc).strip()})"
    for kinds, cls, code_hint in _ERRORS:
        if isinstance(exc, kinds):
            code, _, hint = code_hint.partition(": ")
            return cls(f"{detail}: {hint}" if hint else detail, code=f"sign.pkcs11.{code}", pkcs11=name)
    return SigningError(detail, code="sign.pkcs11.error", pkcs11=name)


# --- process-wide state: one library handle, one lock and one login per token -------------------

_STATE_LOCK = threading.Lock()
_LOCKS: dict[str, threading.RLock] = {}
_LOGINS: dict[tuple[str, str], _TokenLogin] = {}
_SPELLINGS: dict[str, str] = {}  # real path → the path text python-pkcs11 was given
_GENERATIONS: dict[str, int] = {}  # bumped by reinitialize_pkcs11_library: every handle is void
_PIN_SALT: Final = os.urandom(32)  # PINs are compared as salted HMACs; the registry holds no PIN


def _module_key(module: str | os.PathLike[str]) -> str:
    # Locks, logins and generations are per file, however its path is written.
    return os.path.realpath(os.fspath(module))


def pkcs11_lock(module: str | os.PathLike[str]) -> threading.RLock:
    """The process-wide lock of a PKCS#11 module: hold it around *every* call into the module."""
    with _STATE_LOCK:
        return _LOCKS.setdefault(_module_key(module), threading.RLock())


@contextmanager
def _holding(lock: threading.RLock, timeout: float) -> Iterator[None]:
    if not lock.acquire(timeout=timeout):
        raise SignerUnavailable(f"the PKCS#11 module stayed busy for {timeout} s", code="sign.pkcs11.busy")
    try:
        yield
    finally:
        lock.release()


def load_pkcs11_library(module: str | os.PathLike[str]) -> _pkcs11.lib:
    """Load and initialise a PKCS#11 module once per process (python-pkcs11 caches it by path)."""
    path = _module_key(module)
    if not os.path.isfile(path):
        raise SignerUnavailable(
            f"PKCS#11 module {os.fspath(module)!r} does not exist (SoftHSM2 on Debian/Ubuntu: "
            "/usr/lib/softhsm/libsofthsm2.so, package softhsm2)",
            code="sign.pkcs11.module_missing",
        )
    with pkcs11_lock(path):
        # python-pkcs11 caches by the path text and a second spelling of the same file would
        # C_Initialize it twice; always use the spelling seen first (usually the one users write).
        spelling = _SPELLINGS.setdefault(path, os.fspath(module))
        try:
            return pkcs11.lib(spelling)
        except p11e.PKCS11Error as exc:
            raise SignerUnavailable(
                f"PKCS#11 module {spelling!r} cannot be loaded: {exc}", code="sign.pkcs11.module_load"
            ) from None


def reinitialize_pkcs11_library(module: str | os.PathLike[str]) -> None:
    """``C_Finalize`` + ``C_Initialize`` a module, e.g. after new tokens were created on disk.

    Every session and login of the process ends. Signers notice and open new sessions (and log
    in again) on their next signature; their old handles are forgotten, never closed, because the
    module hands the same numbers out again.
    """
    path = _module_key(module)
    with pkcs11_lock(path):
        lib = load_pkcs11_library(path)
        try:
            lib.reinitialize()
        except p11e.PKCS11Error as exc:
            raise SignerUnavailable(
                f"re-initialising {path!r} failed: {exc}", code="sign.pkcs11.module_load"
            ) from None
        _GENERATIONS[path] = _GENERATIONS.get(path, 0) + 1
        for (owner, _), login in _LOGINS.items():
            if owner == path:
                login.session = None


class _TokenLogin:
    """The application's login to one token, shared by every signer using it."""

    def __init__(self) -> None:
        self.session: pkcs11.Session | None = None  # None: logged in by other code of this process
        self.pin_tag = b""
        self.users = 0

    def login(self, token: pkcs11.Token, pin: str) -> bool:
        """Log in; ``False`` if the application already was (then nothing changes)."""
        try:
            session = token.open(user_pin=pin)
        except p11e.UserAlreadyLoggedIn:
            if self.session is None:
                logger.warning(
                    "token %r was already logged in by other code; reusing that login", token.label
                )
                self.pin_tag = self.pin_tag or _pin_tag(pin)
            return False
        # An older login session died with the old login. It is dropped, not closed: after a module
        # re-initialisation its handle number may already belong to someone else's new session.
        self.session, self.pin_tag = session, _pin_tag(pin)
        return True


def _pin_tag(pin: str) -> bytes:
    return hmac.new(_PIN_SALT, pin.encode("utf-8"), hashlib.sha256).digest()


def _acquire_login(module: str, token: pkcs11.Token, pin: str) -> _TokenLogin:
    """Log in, or join the process's login after checking the PIN; the module lock is held."""
    login = _LOGINS.get((module, token.label))
    if login is None:
        login = _TokenLogin()
        login.login(token, pin)
        _LOGINS[(module, token.label)] = login
    elif not hmac.compare_digest(login.pin_tag, _pin_tag(pin)):
        raise SignerUnavailable(
            f"the PIN for token {token.label!r} differs from the one this process logged in with",
            code="sign.pkcs11.pin_incorrect",
        )
    login.users += 1
    return login


def _release_login(module: str, token_label: str, login: _TokenLogin) -> None:
    login.users -= 1
    if login.users > 0:
        return
    if _LOGINS.get((module, token_label)) is login:
        del _LOGINS[(module, token_label)]
    if login.session is not None:
        session, login.session = login.session, None
        _close_quietly(session)  # C_Logout + C_CloseSession: ends the login for the whole process


class Pkcs11Signer(SignerIdentity):
    """A :class:`~cbec_declare.signing.base.Signer` whose RSA key lives on a PKCS#11 token.

    ``module``: path of the PKCS#11 library (no default; e.g. ``/usr/lib/softhsm/libsofthsm2.so``).
    ``token_label``: the token's label. ``key_label`` / ``key_id`` (bytes, or hex text): the private
    key. ``pin``, or ``pin_env``: the name of an environment variable, read from ``environ``
    (default ``os.environ``). ``certificate``: DER/PEM/base64 bytes or text, a file (``Path``), or
    ``None`` to read the CKO_CERTIFICATE with the key's label/id from the token. ``mechanism``: see
    :class:`MechanismChoice`. ``key_name`` overrides ``ds:KeyName`` (default: the certificate serial
    in lower-case hex). ``lock_timeout``: how long a call waits for the module (other signatures).

    Construction loads the module, logs in, finds the key and checks the certificate belongs to it.
    Errors: :class:`~cbec_declare.errors.SignerUnavailable` (module, token, PIN),
    :class:`~cbec_declare.errors.KeyMaterialError` (key, certificate),
    :class:`~cbec_declare.errors.UnsupportedAlgorithm` (SM2, non-RSA key, mechanism),
    :class:`~cbec_declare.errors.ConfigError` (arguments). If the token's session is lost (token
    re-inserted, module re-initialised), the next :meth:`sign` logs in again once. Call
    :meth:`close`, or use ``with``.
    """

    def __init__(
        self,
        module: str | os.PathLike[str],
        *,
        token_label: str,
        key_label: str | None = None,
        key_id: bytes | str | None = None,
        pin: str | None = None,
        pin_env: str | None = None,
        environ: Mapping[str, str] | None = None,
        certificate: bytes | str | os.PathLike[str] | None = None,
        algorithm: SignatureAlgorithm | str = SignatureAlgorithm.RSA_SHA1,
        mechanism: MechanismChoice | str = MechanismChoice.AUTO,
        key_name: str | None = None,
        lock_timeout: float = 60.0,
    ) -> None:
        self._algorithm = SignatureAlgorithm.coerce(algorithm)
        if self._algorithm.is_sm2:
            raise UnsupportedAlgorithm(SM2_PKCS11_REASON, code="sign.pkcs11.sm2", field="algorithm")
        choice: MechanismChoice = _coerce(MechanismChoice, mechanism, "mechanism")
        if not isinstance(token_label, str) or not token_label:
            raise ConfigError("token_label must be a non-empty string", field="token_label")
        if key_label is None and key_id is None:
            raise ConfigError("give key_label or key_id (or both)", field="key_label")
        self._key_label = key_label
        self._key_id = _coerce_key_id(key_id)
        self._token_label = token_label
        self._pin = resolve_secret(pin, pin_env, environ=environ, what="token PIN")
        self._module = _module_key(module)
        self._lock = pkcs11_lock(self._module)
        self._lock_timeout = lock_timeout
        self._closed = False
        self._session: pkcs11.Session | None = None
        self._key: Any = None
        self._generation = 0

        load_pkcs11_library(self._module)
        with _holding(self._lock, lock_timeout):
            self._token = self._find_token()
            self._login: _TokenLogin | None = self._p11(
                lambda: _acquire_login(self._module, self._token, self._pin), "logging in"
            )
            try:
                self._open_session()
                self._check_key()
                available = self._p11(self._token.slot.get_mechanisms, "listing mechanisms")
                self._mechanism = resolve_mechanism(self._algorithm, choice, available)
                der = self._token_certificate() if certificate is None else _given_certificate(certificate)
                self._check_certificate(der)
            except BaseException:
                self._drop_session()
                _release_login(self._module, self._token_label, self._login)
                self._login = None
                raise
        self._certificate = der
        self._key_name = key_name or certificate_info(der).key_name
        logger.debug("opened %r, signing with %s", self, self._mechanism.value)

    # -- Signer protocol --

    @property
    def mechanism(self) -> MechanismChoice:
        """How this signer signs: ``COMBINED`` or ``RSA_PKCS`` (``AUTO`` is resolved at opening)."""
        return self._mechanism

    def sign(self, data: bytes) -> bytes:
        """PKCS#1 v1.5 signature by the token key over ``data``, hashed as :attr:`algorithm` says."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise SigningError(f"data to sign must be bytes, got {type(data).__name__}", code="sign.input")
        if self._mechanism is MechanismChoice.COMBINED:
            payload, mechanism = bytes(data), _COMBINED[self._algorithm]
        else:
            payload, mechanism = digest_info(self._algorithm, bytes(data)), Mechanism.RSA_PKCS
        with _holding(self._lock, self._lock_timeout):
            if self._closed:
                raise SignerUnavailable(f"{self!r} is closed", code="sign.pkcs11.closed")
            self._forget_if_reinitialized()
            try:
                return self._sign_once(payload, mechanism)
            except p11e.PKCS11Error as exc:
                if not isinstance(exc, _SESSION_LOST):
                    raise translate_pkcs11_error(exc, action="signing", token=self._token_label) from None
                # Closed now, while the lock still guarantees the dead handle was not handed out again.
                logger.info("token %r: session lost (%s); opening a new one", self._token_label, exc)
                self._drop_session()
            try:
                self._token = self._find_token()
                return self._sign_once(payload, mechanism)
            except p11e.PKCS11Error as exc:
                self._drop_session()
                raise translate_pkcs11_error(exc, action="signing", token=self._token_label) from None

    # -- lifetime --

    def close(self) -> None:
        """Close the session; the last signer of a token logs the process out of it. Idempotent."""
        with _holding(self._lock, self._lock_timeout):
            if self._closed:
                return
            self._closed = True
            self._forget_if_reinitialized()
            self._drop_session()
            if self._login is not None:
                _release_login(self._module, self._token_label, self._login)
                self._login = None

    def __enter__(self) -> Pkcs11Signer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        closed = ", closed" if self._closed else ""
        module = _SPELLINGS.get(self._module, self._module)
        return (
            f"Pkcs11Signer(module={module!r}, token={self._token_label!r}, "
            f"key={self._describe_key()!r}, algorithm={self._algorithm.value!r}{closed})"
        )

    # -- internals; the module lock is held by every caller --

    def _p11(self, call: Any, action: str) -> Any:
        try:
            return call()
        except p11e.PKCS11Error as exc:
            raise translate_pkcs11_error(exc, action=action, token=self._token_label) from None

    def _find_token(self) -> pkcs11.Token:
        lib = load_pkcs11_library(self._module)
        token: pkcs11.Token = self._p11(
            lambda: lib.get_token(token_label=self._token_label), "finding the token"
        )
        return token

    def _sign_once(self, payload: bytes, mechanism: Mechanism) -> bytes:
        if self._session is None:
            self._open_session()
        signature: bytes = self._key.sign(payload, mechanism=mechanism)
        return signature

    def _open_session(self) -> None:
        session = self._p11(self._token.open, "opening a session")  # no PIN: the login covers it
        query = {"object_class": ObjectClass.PRIVATE_KEY, "label": self._key_label, "id": self._key_id}
        try:
            try:
                key = session.get_key(**query)
            except p11e.NoSuchKey:
                # Private objects are invisible while logged out (the login died with the token or
                # the module): log in again, then look once more.
                login, token = self._login, self._token
                if login is None or not self._p11(lambda: login.login(token, self._pin), "logging in"):
                    raise
                key = session.get_key(**query)
        except p11e.PKCS11Error as exc:
            _close_quietly(session)
            raise translate_pkcs11_error(
                exc, action=f"finding private key {self._describe_key()}", token=self._token_label
            ) from None
        self._session, self._key = session, key
        self._generation = _GENERATIONS.get(self._module, 0)

    def _forget_if_reinitialized(self) -> None:
        if self._generation != _GENERATIONS.get(self._module, 0):
            # The module was re-initialised: our handles are void and their numbers may be reused.
            self._session = self._key = None
            self._token = self._find_token()

    def _drop_session(self) -> None:
        session, self._session, self._key = self._session, None, None
        if session is not None:
            _close_quietly(session)

    def _describe_key(self) -> str:
        parts = [] if self._key_label is None else [f"label={self._key_label}"]
        if self._key_id is not None:
            parts.append(f"id={self._key_id.hex()}")
        return " ".join(parts)

    def _check_key(self) -> None:
        if self._key.key_type is not KeyType.RSA:
            raise UnsupportedAlgorithm(
                f"key {self._describe_key()} is {self._key.key_type.name}, not RSA. {SM2_PKCS11_REASON}",
                code="sign.pkcs11.key_type",
            )

    def _token_certificate(self) -> bytes:
        assert self._session is not None
        session = self._session
        query: dict[Attribute, Any] = {Attribute.CLASS: ObjectClass.CERTIFICATE}
        if self._key_label is not None:
            query[Attribute.LABEL] = self._key_label
        if self._key_id is not None:
            query[Attribute.ID] = self._key_id
        found = self._p11(lambda: list(session.get_objects(query)), "finding the certificate")
        if len(found) != 1:
            raise KeyMaterialError(
                f"{len(found) or 'no'} certificate(s) with {self._describe_key()} on token "
                f"{self._token_label!r}; store exactly one there, or give the certificate (cert = file)",
                code=f"sign.pkcs11.certificate_{'ambiguous' if found else 'not_found'}",
            )
        return load_certificate(
            bytes(self._p11(lambda: found[0][Attribute.VALUE], "reading the certificate"))
        )

    def _check_certificate(self, der: bytes) -> None:
        info = certificate_info(der)
        public = public_key(der) if info.key_algorithm == "rsa" else None
        if not isinstance(public, rsa.RSAPublicKey):
            raise KeyMaterialError(
                f"the certificate holds a {info.key_algorithm} key, but the token key is RSA",
                code="sign.pkcs11.certificate_mismatch",
            )
        try:
            modulus = int.from_bytes(self._key[Attribute.MODULUS], "big")
        except p11e.PKCS11Error:  # some tokens hide it; a verifier will catch a mismatch instead
            logger.debug("token %r hides the key modulus; certificate not matched", self._token_label)
            return
        if public.public_numbers().n != modulus:
            raise KeyMaterialError(
                f"the certificate (serial {info.key_name}) does not belong to key {self._describe_key()}",
                code="sign.pkcs11.certificate_mismatch",
            )


def _given_certificate(certificate: bytes | str | os.PathLike[str]) -> bytes:
    if not isinstance(certificate, os.PathLike):
        return load_certificate(certificate)
    try:
        with open(certificate, "rb") as file:
            return load_certificate(file.read())
    except OSError as exc:
        raise KeyMaterialError(
            f"certificate file {os.fspath(certificate)!r} cannot be read: {exc.strerror}",
            code="sign.pkcs11.certificate_file",
            field="certificate",
        ) from None


def _close_quietly(session: pkcs11.Session) -> None:
    try:
        session.close()
    except p11e.PKCS11Error as exc:  # already gone; nothing left to release
        logger.debug("closing a token session failed: %s", type(exc).__name__)


def _coerce(enum_type: Any, value: Any, field: str) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in enum_type)
        raise ConfigError(f"{field} must be one of {allowed}, got {value!r}", field=field) from None


def _coerce_key_id(key_id: bytes | str | None) -> bytes | None:
    if key_id is None or isinstance(key_id, bytes):
        return key_id
    if isinstance(key_id, str):
        try:
            return bytes.fromhex(key_id)
        except ValueError:
            raise ConfigError(
                f"key_id must be hex text such as '01', got {key_id!r}", field="key_id"
            ) from None
    raise ConfigError(f"key_id must be bytes or hex text, got {type(key_id).__name__}", field="key_id")
