"""Any ``bytes -> signature`` function as a signer: a remote signing service, a vendor HSM SDK.

The function receives exactly the bytes to sign (the C14N SignedInfo, or the 179 sign string) and
must hash them itself, as the customs cards do. Its output is checked against the certificate by
default, so a misconfigured service (wrong key, wrong hash, DER instead of raw SM2) fails here with
a clear error instead of at customs with "验签失败".
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import CbecError, SigningError, UnsupportedAlgorithm
from .base import SignatureAlgorithm, SignerIdentity
from .certs import CertificateInput, certificate_info, load_certificate, public_key
from .sm2 import SM2_SIGNATURE_SIZE, Sm2PublicKey, sm2_der_to_raw

__all__ = ["CallableSigner"]

_RSA_HASHES: dict[SignatureAlgorithm, hashes.HashAlgorithm] = {
    SignatureAlgorithm.RSA_SHA1: hashes.SHA1(),  # noqa: S303 - the customs RSA profile is SHA-1
    SignatureAlgorithm.RSA_SHA256: hashes.SHA256(),
}


class CallableSigner(SignerIdentity):
    """Wrap ``function(data) -> signature bytes`` as a :class:`~cbec_declare.signing.base.Signer`.

    ``certificate`` (DER, PEM or base64) is the signing certificate; ``algorithm`` what the
    function computes; ``key_name`` defaults to the certificate serial (lower-case hex). An SM2
    function may return raw ``r‖s`` or DER; the signer always hands out raw ``r‖s``. With
    ``check_output`` (default) every signature is verified against the certificate before use.
    """

    __slots__ = ("_algorithm", "_certificate", "_check", "_function", "_key_name")

    def __init__(
        self,
        function: Callable[[bytes], bytes],
        *,
        certificate: CertificateInput,
        algorithm: SignatureAlgorithm | str,
        key_name: str | None = None,
        check_output: bool = True,
    ) -> None:
        if not callable(function):
            raise SigningError(
                f"function must be callable, got {type(function).__name__}", code="sign.config"
            )
        self._function = function
        self._algorithm = SignatureAlgorithm.coerce(algorithm)
        self._certificate = load_certificate(certificate)
        info = certificate_info(self._certificate)
        if (info.key_algorithm == "sm2") != self._algorithm.is_sm2:
            raise UnsupportedAlgorithm(
                f"algorithm {self._algorithm.value} does not fit the certificate's {info.key_algorithm} key",
                code="sign.algorithm.mismatch",
            )
        self._key_name = info.key_name if key_name is None else key_name
        self._check = check_output

    def sign(self, data: bytes) -> bytes:
        """Call the function; normalise and (by default) verify its output."""
        try:
            result = self._function(bytes(data))
        except CbecError:
            raise
        except Exception as exc:
            # Chained for debugging; our message carries only the type, as the function's own text
            # may include whatever the remote service echoed.
            raise SigningError(
                f"the signing function raised {type(exc).__name__}", code="sign.backend"
            ) from exc
        if not isinstance(result, (bytes, bytearray)):
            raise SigningError(
                f"the signing function returned {type(result).__name__}; bytes expected "
                "(decode base64 text before returning it)",
                code="sign.backend.type",
            )
        signature = bytes(result)
        if self._algorithm.is_sm2 and len(signature) != SM2_SIGNATURE_SIZE:
            signature = sm2_der_to_raw(signature)
        if self._check:
            self._verify(signature, bytes(data))
        return signature

    def _verify(self, signature: bytes, data: bytes) -> None:
        key = public_key(self._certificate)
        if isinstance(key, Sm2PublicKey):
            ok = key.verify(signature, data)
        else:
            assert isinstance(key, rsa.RSAPublicKey)
            try:
                key.verify(signature, data, padding.PKCS1v15(), _RSA_HASHES[self._algorithm])
                ok = True
            except InvalidSignature:
                ok = False
        if not ok:
            raise SigningError(
                f"the signing function's output does not verify with the certificate "
                f"(serial {self._key_name}) as {self._algorithm.value}: wrong key, hash or format",
                code="sign.backend.output",
            )

    def __repr__(self) -> str:
        name = getattr(self._function, "__qualname__", type(self._function).__name__)
        return f"CallableSigner({name}, algorithm={self._algorithm.value!r}, key_name={self._key_name!r})"
