"""The LLM client: any OpenAI-compatible chat-completions endpoint, through the ``openai`` package.

Configuration comes from (first wins) explicit arguments or CLI flags, the environment
(``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``LESTER_MODEL``; ``AZURE_OPENAI_ENDPOINT``,
``AZURE_OPENAI_API_KEY``, ``OPENAI_API_VERSION`` for Azure), and the ``[llm]`` table of
``lester.toml``::

    [llm]
    model = "gpt-4o-mini"
    base_url = "http://localhost:8000/v1"    # a local OpenAI-compatible server
    api_key_env = "OPENAI_API_KEY"           # the key itself never goes into a file
    timeout = 60                             # seconds per request
    max_retries = 3                          # the openai client's retries (429, 5xx, timeouts)
    token_budget = 6000                      # prompt tokens per call before the script is chunked
    cache_dir = ".lester/llm-cache"          # answers keyed by model and prompt
    input_cost_per_million = 0.15            # optional, for the cost summary
    output_cost_per_million = 0.60
    # Azure OpenAI: azure_endpoint = "https://NAME.openai.azure.com", api_version = "2024-06-01",
    # and model = the deployment name

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
    """Chat completions with retries (the openai client's own), a timeout and an answer cache."""

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
        common = {"api_key": key or "no-key", "timeout": config.timeout, "max_retries": config.max_retries}
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
        """One answer for ``messages``; from the cache when the same prompt was asked before.

        No secret is sent: a key the endpoint echoed earlier, or a password in the user's
        script, is masked in the prompt too.
        """
        messages = [{**m, "content": self.redact(m["content"])} if "content" in m else m for m in messages]
        cache = self._cache_path(messages)
        if cache is not None and cache.exists():
            try:
                stored = json.loads(cache.read_text())
                return Completion(stored["text"], stored["prompt_tokens"], stored["completion_tokens"],
                                  stored.get("finish_reason"), True, 0.0)
            except (OSError, ValueError, KeyError):
                pass  # a damaged cache entry is asked again
        started = time.perf_counter()
        import openai

        options: dict[str, Any] = {"model": self.config.model, "messages": list(messages),
                                   "temperature": self.config.temperature}
        if self.config.max_output_tokens:
            options["max_tokens"] = self.config.max_output_tokens
        try:
            response = self._client.chat.completions.create(**options)
        except openai.APIError as exc:
            raise LLMError(self.redact(self._explain(exc))) from None
        seconds = time.perf_counter() - started
        if not getattr(response, "choices", None):
            raise LLMError(f"{self._where()}: the answer has no choices")
        choice = response.choices[0]
        text = (choice.message.content or "") if choice.message else ""
        usage = response.usage
        completion = Completion(
            text, getattr(usage, "prompt_tokens", 0) or 0, getattr(usage, "completion_tokens", 0) or 0,
            choice.finish_reason, False, seconds,
        )
        if cache is not None and completion.finish_reason != "length":
            cache.parent.mkdir(parents=True, exist_ok=True)
            temporary = cache.with_suffix(".tmp")
            temporary.write_text(json.dumps({
                "model": self.config.model, "text": self.redact(text),
                "prompt_tokens": completion.prompt_tokens,
                "completion_tokens": completion.completion_tokens,
                "finish_reason": completion.finish_reason,
            }))
            temporary.replace(cache)
        return completion

    def _where(self) -> str:
        return f"LLM {self.config.model} at {self.config.endpoint}"

    def _explain(self, exc: Exception) -> str:
        import openai

        where = self._where()
        retries = self.config.max_retries
        after = f" after {retries} retries" if retries else ""
        if isinstance(exc, openai.APITimeoutError):
            return f"{where}: no answer within {self.config.timeout:g} s{after}"
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
            return f"{where}: HTTP {exc.status_code}{after if exc.status_code >= 500 else ''}: {_body(exc)}"
        return f"{where}: {type(exc).__name__}: {exc}"


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
