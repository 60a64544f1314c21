"""The LLM client: any OpenAI-compatible chat-completions endpoint, through the ``openai`` package.

Configuration comes from (first wins) explicit arguments or CLI flags, the environment
(``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``LESTER_MODEL``; ``AZURE_OPENAI_ENDPOINT``,
``AZURE_OPENAI_API_KEY``, ``OPENAI_API_VERSION`` for Azure), and the ``[llm]`` table of
``lester.toml``::

    [llm]
    model = "gpt-4o-mini"
    base_url = "http://localhost:8000/v1"    # a local OpenAI-compatible server
    api_key_env = "OPENAI_API_KEY"           # the key itself never goes into a file
    timeout = 60                             # seconds per call, retries included (lester rewrite's
                                             # --timeout too: the shorter one counts)
    max_retries = 3                          # retries of 429, 5xx and lost connections, within it
    max_answer_bytes = 262144                # longer answers are refused (no module is that long)
    token_budget = 6000                      # prompt tokens per call before the script is chunked
    cache_dir = ".lester/llm-cache"          # answers keyed by model and prompt
    input_cost_per_million = 0.15            # optional, for the cost summary
    output_cost_per_million = 0.60
    # Azure OpenAI: azure_endpoint = "https://NAME.openai.azure.com", api_version = "2024-06-01",
    # and model = the deployment name

Only usable answers are cached (``keep``, once the engine found a module that parses in
one); refusals, empty and prose-only answers are asked again next time. ``cache_dir = ""``
(or ``lester rewrite --no-cache``) turns the cache off.

The API key is read from the environment when the client is made (also after the ``lester``
command moved it out of the environment, see :mod:`lester.secrets`) and is kept nowhere else:
not in the configuration, the cache, reports or error messages. Everything this module shows
or stores passes :func:`lester.secrets.mask`, which also hides the user and password of a
base URL (``http://user:pass@host/v1`` is shown as ``http://***@host/v1``).

Example:
    >>> config = LLMConfig.resolve(model="gpt-4o-mini")                     # doctest: +SKIP
    >>> client = LLMClient(config)                                           # doctest: +SKIP
    >>> client.complete([{"role": "user", "content": "hi"}]).text            # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from lester.errors import LesterError
from lester.secrets import getenv, is_secret_value, mask, remember

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

DEFAULT_MODEL = "gpt-4o-mini"  # used only with OpenAI's own endpoint and a key


class LLMError(LesterError, RuntimeError):
    """The LLM endpoint failed: bad key, unreachable, timeouts, rate limits, server errors."""


class LLMNotConfigured(LLMError):
    """No model or key is configured; the message says how to configure one."""


HOW_TO_CONFIGURE = (
    "configure an LLM: set OPENAI_API_KEY (OpenAI), or OPENAI_BASE_URL and LESTER_MODEL for a local "
    "OpenAI-compatible server, or AZURE_OPENAI_ENDPOINT for Azure; or pass --model/--base-url/"
    "--api-key-env, or add an [llm] table to lester.toml"
)


redact = mask  # the name this module had for it; one masking function, in lester.secrets


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to ask the LLM. Holds the *name* of the key's variable, never the key."""

    model: str | None = None
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = 60.0
    max_retries: int = 3
    temperature: float = 0.0
    max_output_tokens: int | None = None
    token_budget: int = 6000
    cache_dir: str | None = ".lester/llm-cache"
    max_answer_bytes: int = 256 * 1024
    azure_endpoint: str | None = None
    api_version: str | None = None
    input_cost_per_million: float | None = None
    output_cost_per_million: float | None = None

    @classmethod
    def resolve(
        cls,
        *,
        config_file: str | os.PathLike | None = None,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> LLMConfig:
        """Arguments (None means unset), then the environment, then ``[llm]`` of ``lester.toml``."""
        values: dict[str, Any] = {}
        path = Path(config_file) if config_file else Path("lester.toml")
        if path.exists():
            with open(path, "rb") as handle:
                table = tomllib.load(handle).get("llm", {})
            if "api_key" in table:
                raise LesterError(f"{path}: [llm] must not hold the key; name its variable with api_key_env")
            known = {f.name for f in fields(cls)}
            unknown = sorted(set(table) - known)
            if unknown:
                raise LesterError(f"{path}: [llm] has unknown keys {unknown}; known keys are {sorted(known)}")
            values.update(table)
        # OPENAI_* and AZURE_* count as secrets: the lester command keeps them out of
        # os.environ, and getenv finds them there
        from_env = {
            "model": getenv("LESTER_MODEL", environ),
            "base_url": getenv("OPENAI_BASE_URL", environ),
            "azure_endpoint": getenv("AZURE_OPENAI_ENDPOINT", environ),
            "api_version": getenv("OPENAI_API_VERSION", environ),
        }
        values.update({k: v for k, v in from_env.items() if v})
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values.get("azure_endpoint") and "api_key_env" not in overrides and "api_key_env" not in values:
            values["api_key_env"] = "AZURE_OPENAI_API_KEY"
        config = cls(**values)
        if config.model is None and config.base_url is None and not config.azure_endpoint and config.api_key(environ):
            config = replace(config, model=DEFAULT_MODEL)
        return config

    def api_key(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The key from ``$api_key_env`` (``environ``, or the process's, scrubbed or not)."""
        key = getenv(self.api_key_env, environ)
        remember(key)  # whoever prints anything later masks it without being handed it
        return key

    def problem(self, environ: Mapping[str, str] | None = None) -> str | None:
        """Why this configuration cannot be used, or None when it can."""
        if not self.model:
            if self.base_url or self.azure_endpoint:
                return "no model named: pass --model or set LESTER_MODEL (or model in [llm])"
            return f"no LLM configured; {HOW_TO_CONFIGURE}"
        if not self.api_key(environ) and not self.base_url:
            return f"no API key: ${self.api_key_env} is not set; {HOW_TO_CONFIGURE}"
        return None

    @property
    def configured(self) -> bool:
        return self.problem() is None

    @property
    def endpoint(self) -> str:
        """Where the requests go, for people to read: without a URL's user and password."""
        _remember_credentials(self.base_url, self.azure_endpoint)
        return mask(self.azure_endpoint or self.base_url or "api.openai.com")

    def describe(self) -> str:
        return f"model {self.model} at {self.endpoint} (key from ${self.api_key_env})"

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values.update({k: mask(v) for k, v in values.items() if k in ("base_url", "azure_endpoint") and v})
        return values


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None
    cached: bool
    seconds: float
    key: str | None = None  # the cache entry it is (or would be) stored as; None without a cache


@dataclass
class Usage:
    """Calls, tokens, time and (when prices are configured) cost of one rewrite."""

    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cost: float | None = None
    models: list[str] = field(default_factory=list)

    def add(self, completion: Completion, config: LLMConfig) -> None:
        self.calls += 1
        self.seconds += completion.seconds
        if config.model and config.model not in self.models:
            self.models.append(config.model)
        if completion.cached:
            self.cached_calls += 1
            return  # a cached answer costs nothing
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        if config.input_cost_per_million is not None and config.output_cost_per_million is not None:
            self.cost = (self.cost or 0.0) + (
                completion.prompt_tokens * config.input_cost_per_million
                + completion.completion_tokens * config.output_cost_per_million
            ) / 1e6

    def merge(self, other: Usage) -> None:
        self.calls += other.calls
        self.cached_calls += other.cached_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.seconds += other.seconds
        if other.cost is not None:
            self.cost = (self.cost or 0.0) + other.cost
        self.models += [m for m in other.models if m not in self.models]

    def describe(self) -> str:
        if not self.calls:
            return "no LLM calls"
        cost = f", ${self.cost:.4f}" if self.cost is not None else ""
        cached = f" ({self.cached_calls} from the cache)" if self.cached_calls else ""
        return (f"{self.calls} LLM calls{cached}, {self.prompt_tokens} prompt + "
                f"{self.completion_tokens} completion tokens{cost}, {self.seconds:.1f} s")


class LLMClient:
    """Chat completions with bounded retries, a deadline per call and a cache of usable answers.

    ``config.timeout`` bounds a whole :meth:`complete` call, retries and their waits included:
    the openai client's own retries are off (each of them would get the full timeout again:
    4 x 60 s for one slow answer), and this client retries only while time is left.
    """

    def __init__(self, config: LLMConfig, *, environ: Mapping[str, str] | None = None):
        problem = config.problem(environ)
        if problem:
            raise LLMNotConfigured(problem)
        self.config = config
        key = config.api_key(environ)
        self._secrets = [key] if key else []
        _remember_credentials(config.base_url, config.azure_endpoint)
        import openai

        # local servers often need no key, but the client insists on one
        common = {"api_key": key or "no-key", "timeout": config.timeout, "max_retries": 0}
        if config.azure_endpoint:
            self._client = openai.AzureOpenAI(azure_endpoint=config.azure_endpoint,
                                              api_version=config.api_version or "2024-06-01", **common)
        else:
            self._client = openai.OpenAI(base_url=config.base_url, **common)

    def redact(self, text: str) -> str:
        return mask(text, self._secrets)

    def _cache_path(self, messages: Sequence[Mapping[str, str]]) -> Path | None:
        if not self.config.cache_dir:
            return None
        # keyed by model and prompt (not the endpoint: the same model behind another URL answers alike)
        payload = json.dumps({"model": self.config.model,
                              "temperature": self.config.temperature,
                              "max_output_tokens": self.config.max_output_tokens,
                              "messages": list(messages)}, sort_keys=True)
        return Path(self.config.cache_dir) / f"{hashlib.sha256(payload.encode()).hexdigest()}.json"

    def complete(self, messages: Sequence[Mapping[str, str]]) -> Completion:
        """One answer for ``messages``; from the cache when a usable answer to the same prompt
        was kept before. Nothing is cached here: call :meth:`keep` once the answer proved usable.

        No secret is sent: a key the endpoint echoed earlier, or a password in the user's
        script, is masked in the prompt too. Raises :class:`LLMError` for an endpoint that
        fails, answers too late, or answers with something that is not a chat completion.
        """
        messages = [{**m, "content": self.redact(m["content"])} if "content" in m else m for m in messages]
        cache = self._cache_path(messages)
        stored = self._cached(cache) if cache is not None else None
        if stored is not None:
            return stored
        started = time.perf_counter()
        options: dict[str, Any] = {"model": self.config.model, "messages": list(messages),
                                   "temperature": self.config.temperature}
        if self.config.max_output_tokens:
            options["max_tokens"] = self.config.max_output_tokens
        raw = self._request(options, started + self.config.timeout)
        text, prompt_tokens, completion_tokens, finish_reason = self._parse(raw)
        size = len(text.encode("utf-8"))
        self._check_size(size, f"the answer is {_size(size)}")
        return Completion(text, prompt_tokens, completion_tokens, finish_reason, False,
                          time.perf_counter() - started, cache.name if cache is not None else None)

    def keep(self, completion: Completion) -> None:
        """Cache ``completion``: the caller found it usable (it held a module that parses)."""
        if completion.cached or completion.key is None or completion.finish_reason == "length":
            return
        if len(completion.text.encode("utf-8")) > self.config.max_answer_bytes:
            return
        folder = Path(self.config.cache_dir or ".")
        temporary: str | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # a temporary file of its own: two rewrites may keep the same answer at once
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"model": self.config.model, "text": self.redact(completion.text),
                           "prompt_tokens": completion.prompt_tokens,
                           "completion_tokens": completion.completion_tokens,
                           "finish_reason": completion.finish_reason}, out)
            os.replace(temporary, folder / completion.key)
        except OSError:
            # the cache only saves calls: a read-only or full disk must not fail the rewrite
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)

    def discard(self, completion: Completion) -> None:
        """Drop ``completion`` from the cache: it proved unusable (kept by an older lester)."""
        if completion.key is not None and self.config.cache_dir:
            try:
                (Path(self.config.cache_dir) / completion.key).unlink(missing_ok=True)
            except OSError:
                pass  # asked again next time anyway, once it fails again

    def _cached(self, path: Path) -> Completion | None:
        try:
            if path.stat().st_size > 2 * self.config.max_answer_bytes + 4096:
                path.unlink(missing_ok=True)  # an oversized answer from an older lester
                return None
            stored = json.loads(path.read_text(encoding="utf-8"))
            text = stored["text"]
            tokens = int(stored.get("prompt_tokens") or 0), int(stored.get("completion_tokens") or 0)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing, or a damaged entry: asked again
        if not isinstance(text, str) or not text.strip():
            return None
        if len(text.encode("utf-8")) > self.config.max_answer_bytes:
            return None
        return Completion(text, tokens[0], tokens[1], stored.get("finish_reason"), True, 0.0, path.name)

    def _request(self, options: dict[str, Any], deadline: float) -> Any:
        """The raw HTTP answer, retried (429, 5xx, lost connections) while ``deadline`` allows."""
        import openai

        retries = 0
        while True:
            remaining = deadline - time.perf_counter()
            try:
                return self._client.chat.completions.with_raw_response.create(
                    **options, timeout=max(remaining, 0.01))
            except openai.APIError as exc:
                wait = _retry_wait(exc, retries)
                left = deadline - time.perf_counter()
                if wait is None or retries >= self.config.max_retries or wait + _MIN_ATTEMPT_S > left:
                    spent = wait is not None and retries < self.config.max_retries
                    raise LLMError(self.redact(self._explain(exc, retries, spent))) from None
            time.sleep(wait)
            retries += 1

    def _parse(self, raw: Any) -> tuple[str, int, int, str | None]:
        """Text, prompt and completion tokens, finish reason of a chat-completion HTTP body.

        Read by hand rather than through the openai models: those accept any JSON (or, for
        another content type, hand back the text), and fail later with an AttributeError.
        """
        where = self._where()
        body: bytes = raw.content
        # not worth parsing: even escaped as \\uXXXX throughout, its text would be too long
        self._check_size(len(body) // 6, f"the HTTP body is {_size(len(body))}: its answer is")
        try:
            data = json.loads(body)
        except ValueError:
            kind = (raw.headers.get("content-type") or "no content type").split(";")[0].strip()
            start = body[:120].decode("utf-8", "replace")
            raise LLMError(self.redact(f"{where}: the answer is not JSON (HTTP {raw.status_code}, {kind}): "
                                       f"{start!r}{' ...' if len(body) > 120 else ''}")) from None
        bad = f"{where}: the answer is not a chat completion:"
        if not isinstance(data, dict):
            raise LLMError(f"{bad} a {_kind(data)}, not an object")
        choices = data.get("choices")
        if choices is None or choices == []:
            error = data.get("error")
            if isinstance(error, dict):
                error = error.get("message", error)
            detail = f"; it says {self.redact(str(error))[:300]!r}" if error else ""
            raise LLMError(f"{where}: the answer has no choices{detail}")
        if not isinstance(choices, list):
            raise LLMError(f'{bad} "choices" is not a list but a {_kind(choices)}')
        choice = choices[0]
        if not isinstance(choice, dict):
            raise LLMError(f"{bad} choices[0] is a {_kind(choice)}, not an object")
        message = choice.get("message")
        if not isinstance(message, dict):
            raise LLMError(f"{bad} choices[0] has no message")
        content = message.get("content")
        if content is None:  # a refusal field, or tool calls: no module either way
            content = message.get("refusal") if isinstance(message.get("refusal"), str) else ""
        if not isinstance(content, str):
            raise LLMError(f"{bad} choices[0].message.content is a {_kind(content)}, not text")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        finish = choice.get("finish_reason")
        return (content, _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens")),
                finish if isinstance(finish, str) else None)

    def _check_size(self, size: int, measured: str) -> None:
        cap = self.config.max_answer_bytes
        if size > cap:
            raise LLMError(f"{self._where()}: {measured}, more than the {_size(cap)} a pipeline module may take "
                           "(max_answer_bytes in [llm]); it was refused: not cached, not sent back")

    def _where(self) -> str:
        return f"LLM {self.config.model} at {self.config.endpoint}"

    def _explain(self, exc: Exception, retries: int = 0, spent: bool = False) -> str:
        import openai

        where = self._where()
        after = f" after {retries} retries" if retries else ""
        if spent:  # a retry was due, but the time was up
            after += f" (no time left for another within the {self.config.timeout:g} s limit)"
        if isinstance(exc, openai.APITimeoutError):
            return (f"{where}: no answer within {self.config.timeout:g} s{after} (the limit of each LLM call, "
                    "retries included: lester rewrite --timeout, or timeout in [llm] when shorter)")
        if isinstance(exc, openai.APIConnectionError):
            return f"{where}: cannot connect{after} ({exc})"
        if isinstance(exc, openai.AuthenticationError):
            return (f"{where}: the API key was rejected (HTTP 401); check ${self.config.api_key_env} "
                    "(or --api-key-env)")
        if isinstance(exc, openai.PermissionDeniedError):
            return f"{where}: the API key may not use this model (HTTP 403)"
        if isinstance(exc, openai.NotFoundError):
            return f"{where}: not found (HTTP 404): check the model name and the base URL"
        if isinstance(exc, openai.RateLimitError):
            return f"{where}: rate limited (HTTP 429){after}: {_body(exc)}"
        if isinstance(exc, openai.APIStatusError):
            return f"{where}: HTTP {exc.status_code}{after}: {_body(exc)}"
        return f"{where}: {type(exc).__name__}: {exc}"


# a retry is only worth it with this much time left for the request itself
_MIN_ATTEMPT_S = 0.2
_RETRIED_STATUS = {408, 409, 429}


def _retry_wait(exc: Exception, retries: int) -> float | None:
    """Seconds to wait before retrying after ``exc``, or None when it is not worth a retry.

    The statuses, headers and backoff the openai client uses (it would retry the same ones).
    """
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return None  # each request may take all the time left: after a timeout none is
    if isinstance(exc, openai.APIConnectionError):
        return _backoff(retries)
    if not isinstance(exc, openai.APIStatusError):
        return None
    headers = exc.response.headers
    should = (headers.get("x-should-retry") or "").lower()
    if should == "false" or (should != "true" and exc.status_code not in _RETRIED_STATUS and exc.status_code < 500):
        return None
    for name, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        try:
            asked = float(headers.get(name, "")) / divisor
        except ValueError:
            continue
        if 0 <= asked <= 60:
            return asked
    return _backoff(retries)


def _backoff(retries: int) -> float:
    return min(0.5 * 2.0 ** retries, 8.0) * (1 - 0.25 * random.random())


def _kind(value: object) -> str:
    return type(value).__name__


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def _remember_credentials(*urls: str | None) -> None:
    # the user and password of a URL, should it have them; the URL itself is no secret
    for url in urls:
        if url and is_secret_value(url):
            remember(url)


def _body(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        body = body.get("message") or body.get("error") or body
    text = str(body if body is not None else getattr(exc, "message", exc))
    return text[:300]
