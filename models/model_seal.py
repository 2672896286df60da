"""A registered model sealed for a local cache: pickled and signed with a key derived from the deployment's
secret, so a copy is only ever unpickled when this deployment wrote it (docs/design/model-cache.md)."""

from __future__ import annotations

import hashlib
import hmac
import pickle
import platform
from importlib.metadata import version as package_version
from typing import Any

MAGIC = b"FQMODEL1"
TAG_BYTES = hashlib.sha256().digest_size
_PURPOSE = b"fengqiao model cache v1"
# The libraries a pickled model's meaning depends on: a copy sealed under other versions is not opened.
_LIBRARIES = ("scikit-learn", "numpy", "scipy", "pandas")


def cache_key(secret: bytes) -> bytes:
    """The signing key of the cache, derived from the deployment's secret (never the secret itself)."""
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


def runtime_versions() -> str:
    """Python's and the model libraries' versions, as one text a copy's name depends on."""
    return ";".join(
        [f"python={platform.python_version()}"] + [f"{n}={package_version(n)}" for n in _LIBRARIES]
    )


def copy_name(tracking_uri: str, model_name: str, version: str, run_id: str, runtime: str) -> str:
    """The file name of a registered version's copy: a digest of where it is registered, which version and
    run, and the runtime that may open it."""
    identity = "\n".join((tracking_uri, model_name, version, run_id, runtime)).encode()
    return f"{hashlib.sha256(identity).hexdigest()[:32]}.model"


def seal(value: Any, key: bytes) -> bytes:
    """`value` pickled, behind a signature of the pickle under `key`."""
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return MAGIC + hmac.new(key, payload, hashlib.sha256).digest() + payload


def unseal(data: bytes, key: bytes) -> Any | None:
    """What `seal` sealed under `key`, or None when the bytes are not such a copy (another key, altered,
    cut short): nothing is unpickled before its signature is checked."""
    head = len(MAGIC) + TAG_BYTES
    if len(data) <= head or not data.startswith(MAGIC):
        return None
    tag, payload = data[len(MAGIC) : head], data[head:]
    if not hmac.compare_digest(tag, hmac.new(key, payload, hashlib.sha256).digest()):
        return None
    return pickle.loads(payload)  # signed by this deployment's key, checked above
