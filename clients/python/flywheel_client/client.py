"""HTTP client for Flywheel's api: standard library only (urllib, json, base64, array)."""

import base64
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from array import array
from typing import Any, BinaryIO, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from .errors import FlywheelError, FlywheelUnavailableError, error_for

__all__ = ["FlywheelClient", "ExportResult", "encode_features"]

USER_AGENT = "flywheel-client-python/0.1.0"
MAX_REWARD_CANDIDATES = 2048


def encode_features(vector: Any) -> str:
    """One feature vector as base64 of little-endian float32s (the api's ``featuresBase64``).

    Takes a list or tuple of numbers, an ``array('f')``/``array('d')``, or anything numpy-like (``astype`` and
    ``tobytes``: a 1-D numpy array, a torch tensor's ``.numpy()``), without importing numpy.
    """
    if hasattr(vector, "astype") and hasattr(vector, "tobytes"):
        data = vector.astype("<f4").tobytes()
    else:
        values = array("f", vector)
        if sys.byteorder == "big":
            values.byteswap()
        data = values.tobytes()
    return base64.b64encode(data).decode("ascii")


def _as_list(vector: Any) -> List[float]:
    if hasattr(vector, "tolist"):
        return [float(x) for x in vector.tolist()]
    return [float(x) for x in vector]


class ExportResult:
    """What an export wrote: where, how many bytes, and the response headers (counts, hashes and the like)."""

    def __init__(self, path: Optional[str], bytes_written: int, content_type: str, headers: Dict[str, str]):
        self.path = path
        self.bytes = bytes_written
        self.content_type = content_type
        self.headers = headers

    def __repr__(self) -> str:
        return f"ExportResult(path={self.path!r}, bytes={self.bytes}, content_type={self.content_type!r})"


class FlywheelClient:
    """A project's client, authenticated with its secret key (``fw_secret_…``).

    Every error answer raises a :class:`FlywheelError` subclass carrying the service's code and field details.
    Scoring calls and reads are retried on 429/503 and connection failures (``retries`` times, honouring
    ``Retry-After``); writes are not. ``timeout`` is per HTTP call (120 s, as Flow-GRPO's reward clients use).
    """

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 120.0, retries: int = 3):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries

    # ---- scoring -------------------------------------------------------------------------------------------

    def rewards(
        self,
        prompts: Sequence[str],
        groups: Sequence[Union[str, int]],
        features: Optional[Iterable[Any]] = None,
        video_ids: Optional[Sequence[Optional[str]]] = None,
        *,
        model_id: Optional[str] = None,
        advantages: bool = False,
        encoding: str = "base64",
    ) -> Dict[str, Any]:
        """POST /v1/rewards: rewards of a batch of rollouts (at most 2,048), in request order.

        Candidate ``i`` has ``prompts[i]``, ``groups[i]`` and either ``features[i]`` (a vector of the project's
        dimension; ``None`` to use ``video_ids[i]`` instead) or ``video_ids[i]``. ``features`` may be a 2-D numpy
        array. ``encoding="base64"`` (default) sends float32 base64, ``"json"`` arrays of numbers.

        Returns the service's answer: ``{"modelId", "modelVersion", "dimensions", "count", "groups", "rewards":
        {"overall": [...], <dimension>: [...]}, "advantages": {...}}`` (advantages only when asked for: per group,
        ``(r - mean) / population std``, 0 for a group of one or of equal rewards).
        """
        n = len(prompts)
        if len(groups) != n:
            raise ValueError(f"groups has {len(groups)} entries for {n} prompts")
        rows = list(features) if features is not None else [None] * n
        ids = list(video_ids) if video_ids is not None else [None] * n
        if len(rows) != n or len(ids) != n:
            raise ValueError(f"features ({len(rows)}) and video_ids ({len(ids)}) must have one entry per prompt ({n})")
        candidates = []
        for i in range(n):
            candidate: Dict[str, Any] = {"prompt": prompts[i], "group": groups[i]}
            _put_features(candidate, rows[i], ids[i], encoding)
            candidates.append(candidate)
        body: Dict[str, Any] = {"candidates": candidates, "advantages": bool(advantages)}
        if model_id is not None:
            body["modelId"] = model_id
        return self._json("POST", "/v1/rewards", body, retry=True)

    def score(
        self,
        features: Optional[Iterable[Any]] = None,
        video_ids: Optional[Sequence[Optional[str]]] = None,
        *,
        model_id: Optional[str] = None,
        encoding: str = "base64",
    ) -> Dict[str, Any]:
        """POST /v1/score: rewards and ranking of up to 1,000 candidates (features or stored video ids)."""
        rows = list(features) if features is not None else []
        ids = list(video_ids) if video_ids is not None else []
        n = max(len(rows), len(ids))
        rows += [None] * (n - len(rows))
        ids += [None] * (n - len(ids))
        candidates = []
        for i in range(n):
            candidate: Dict[str, Any] = {}
            _put_features(candidate, rows[i], ids[i], encoding)
            candidates.append(candidate)
        body: Dict[str, Any] = {"candidates": candidates}
        if model_id is not None:
            body["modelId"] = model_id
        return self._json("POST", "/v1/score", body, retry=True)

    # ---- preference sets -----------------------------------------------------------------------------------

    def create_preference_set(self, **request: Any) -> Dict[str, Any]:
        """POST /v1/preference-sets with the API's own field names (``scopes=["request"], minMargin=0.05, ...``)."""
        return self._json("POST", "/v1/preference-sets", request)

    def preference_set(self, set_id: str) -> Dict[str, Any]:
        return self._json("GET", f"/v1/preference-sets/{_quote(set_id)}", retry=True)

    def preference_sets(self) -> List[Dict[str, Any]]:
        return self._json("GET", "/v1/preference-sets", retry=True)

    def wait_for_preference_set(self, set_id: str, *, timeout: float = 600.0, poll: float = 1.0) -> Dict[str, Any]:
        """Polls until the set is ``ready`` or ``failed`` (then returns it, with ``error`` on failure)."""
        return self._wait(lambda: self.preference_set(set_id), ("ready", "failed"), timeout, poll, f"preference set {set_id}")

    def export_preference_set(
        self,
        set_id: str,
        destination: Union[str, "os.PathLike[str]", BinaryIO],
        format: str = "dpo-jsonl",
        **params: Any,
    ) -> ExportResult:
        """GET /v1/preference-sets/:id/export, streamed to a path or a binary file object in 1 MiB chunks.

        ``params`` go to the query string as they are (``split="train"`` and whatever else the service's export
        takes), so the client need not change when the service adds one; an unknown one is the service's 400.
        A partly written file is removed when the transfer fails.
        """
        query = {"format": format, **{k: v for k, v in params.items() if v is not None}}
        response = self._open("GET", f"/v1/preference-sets/{_quote(set_id)}/export", query=query, retry=True)
        headers = {k.lower(): v for k, v in response.headers.items()}
        with response:
            if hasattr(destination, "write"):
                written = _copy(response, destination)  # type: ignore[arg-type]
                return ExportResult(None, written, headers.get("content-type", ""), headers)
            path = os.fspath(destination)  # type: ignore[arg-type]
            try:
                with open(path, "wb") as out:
                    written = _copy(response, out)
            except BaseException:
                if os.path.exists(path):
                    os.remove(path)
                raise
        return ExportResult(path, written, headers.get("content-type", ""), headers)

    def publish_preference_set(self, set_id: str) -> Dict[str, Any]:
        """POST /v1/preference-sets/:id/publish: queues its publication to Kafka (asking again resumes it)."""
        return self._json("POST", f"/v1/preference-sets/{_quote(set_id)}/publish", {})

    def publication(self, set_id: str, publication_id: str) -> Dict[str, Any]:
        return self._json("GET", f"/v1/preference-sets/{_quote(set_id)}/publications/{_quote(publication_id)}", retry=True)

    def wait_for_publication(self, set_id: str, publication_id: str, *, timeout: float = 600.0, poll: float = 1.0) -> Dict[str, Any]:
        """Polls until the publication is ``done`` or ``failed``."""
        return self._wait(lambda: self.publication(set_id, publication_id), ("done", "failed"), timeout, poll, f"publication {publication_id}")

    # ---- HTTP ----------------------------------------------------------------------------------------------

    def _wait(self, read, settled, timeout: float, poll: float, what: str) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            current = read()
            if current.get("status") in settled:
                return current
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{what} still {current.get('status')} after {timeout} s")
            time.sleep(poll)

    def _json(self, method: str, path: str, body: Any = None, *, retry: bool = False) -> Any:
        with self._open(method, path, body=body, retry=retry) as response:
            return json.loads(response.read().decode("utf-8"))

    def _open(self, method: str, path: str, *, body: Any = None, query: Optional[Mapping[str, Any]] = None, retry: bool = False):
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: _query_value(v) for k, v in query.items()})
        data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8") if body is not None else None
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json", "User-Agent": USER_AGENT}
        if data is not None:
            headers["Content-Type"] = "application/json"
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            try:
                return urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers, method=method), timeout=self.timeout)
            except urllib.error.HTTPError as answer:
                error = _error_of(answer)
            except (urllib.error.URLError, ConnectionError, TimeoutError) as failure:
                reason = getattr(failure, "reason", failure)
                error = FlywheelUnavailableError(0, "UNREACHABLE", f"{method} {url}: {reason}")
            if not isinstance(error, FlywheelUnavailableError) or attempt == attempts - 1:
                raise error
            time.sleep(error.retry_after if error.retry_after is not None else 0.5 * 2 ** attempt)
        raise AssertionError("unreachable")


def _put_features(candidate: Dict[str, Any], vector: Any, video_id: Optional[str], encoding: str) -> None:
    if vector is not None:
        if encoding == "base64":
            candidate["featuresBase64"] = encode_features(vector)
        elif encoding == "json":
            candidate["features"] = _as_list(vector)
        else:
            raise ValueError(f'encoding must be "base64" or "json", not {encoding!r}')
    if video_id is not None:
        candidate["videoId"] = video_id


def _error_of(answer: urllib.error.HTTPError) -> FlywheelError:
    raw = answer.read()
    retry_after = answer.headers.get("Retry-After")
    try:
        error = json.loads(raw.decode("utf-8"))["error"]
        code, message, details = str(error["code"]), str(error["message"]), error.get("details")
    except (ValueError, KeyError, TypeError):
        code, message, details = f"HTTP_{answer.code}", raw.decode("utf-8", "replace")[:500], None
    return error_for(answer.code, code, message, details, float(retry_after) if retry_after and retry_after.isdigit() else None)


def _copy(source, destination: BinaryIO) -> int:
    written = 0
    while True:
        chunk = source.read(1 << 20)
        if not chunk:
            return written
        destination.write(chunk)
        written += len(chunk)


def _quote(segment: str) -> str:
    return urllib.parse.quote(str(segment), safe="")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)
