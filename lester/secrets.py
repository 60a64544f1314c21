"""What is a secret, and how it is kept out of everything lester prints, writes or passes on.

One module decides this for all of lester: the sandbox's environment, error messages,
reports, the LLM cache and the modules ``lester rewrite`` writes.

* :func:`is_secret_name` and :func:`is_secret_value` recognise credentials by the name of
  their environment variable or by their shape;
* :func:`safe_environment` is an environment without them, for child processes;
* :func:`mask` replaces secrets in a text by ``***``;
* :func:`remember` adds a value to the process-wide registry that :func:`mask` always
  hides, so code that prints or writes can mask without being handed the key;
* :func:`scrub_process_environment` (run by the ``lester`` command at start-up) moves the
  secret variables out of the process's environment into that registry, and re-executes
  the command once when the kernel's copy of the initial environment
  (``/proc/<pid>/environ``) still holds them; :func:`getenv` finds them afterwards.

Example:
    >>> mask("calling https://bot:hunter22@api.example.org/v1 with sk-abcdefghijklmnop")
    'calling https://***@api.example.org/v1 with ***'
    >>> sorted(safe_environment({"PATH": "/bin", "DATABASE_URL": "postgres://db/app"}))
    ['PATH']
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

MASK = "***"
SECRETS_FD_VARIABLE = "LESTER_SECRETS_FD"
# Shorter values would mask ordinary words everywhere: a local server's dummy key "test" or
# the password "pass" would hide every X_test and every `pass` statement. A URL's
# credentials are masked whatever their length, by shape.
_MIN_LENGTH = 4  # for secrets a caller names
_MIN_REMEMBERED = 8  # for the registry, which masks everything lester writes

# Names that say the value is a credential: the value is also masked wherever it shows up.
_CREDENTIAL_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSW(?:OR)?D|PASS(?:PHRASE|FILE)?$|CREDENTIAL|PRIVATE|(?:^|_)PAT$|AUTH|"
    r"(?:^|_)DSN$|(?:^|_)DATABASE_URL$|WEBHOOK|COOKIE|SESSION"
)
# Families of a provider's settings: kept from children whole, but a value such as an API
# version or a region is not masked in output.
_PROVIDER_NAME = re.compile(r"^(?:OPENAI|AZURE|AWS|GH|GITHUB|GITLAB|HF|HUGGING_?FACE|ANTHROPIC|GOOGLE_APPLICATION)_")
# Desktop-session plumbing that the name rules would catch but that holds no credential.
_NOT_SECRET_NAME = re.compile(
    r"XDG_SESSION_\w+|DBUS_SESSION_BUS_ADDRESS|SESSION_MANAGER|DESKTOP_SESSION|GDMSESSION|"
    r"XAUTHORITY|KEYBOARD\w*|XKB_\w+"
)
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/?#\s@'\"<>]+)@")
_TOKEN_SHAPES = re.compile(
    r"\bsk-[A-Za-z0-9_\-*]{6,}"                     # OpenAI, Anthropic (sk-ant-...)
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"                # GitHub tokens
    r"|\bgithub_pat_[A-Za-z0-9_]{20,}"
    r"|\bglpat-[A-Za-z0-9_\-]{20,}"                 # GitLab
    r"|\bxox[abprs]-[A-Za-z0-9\-]{10,}"             # Slack
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"               # AWS access key ids
    r"|\bhf_[A-Za-z0-9]{20,}"                       # Hugging Face
    r"|\bAIza[0-9A-Za-z_\-]{35}"                    # Google API keys
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
    r"|\bBearer\s+[A-Za-z0-9._~+/=\-]{3,}"
)

_remembered: set[str] = set()
_scrubbed: dict[str, str] = {}  # environment variables moved out of os.environ, by name


def is_secret_name(name: str) -> bool:
    """Whether an environment variable of this name holds a credential, whatever its value.

    Parameters
    ----------
    name : str
        The variable's name (case does not matter).

    Returns
    -------
    bool
        True for names such as ``*KEY*``, ``*TOKEN*``, ``*PASSWORD*``, ``PGPASS``, ``*_PAT``,
        ``*AUTH*``, ``*_DSN``, ``DATABASE_URL``, ``*WEBHOOK*``, ``*SESSION*`` and every
        ``OPENAI_*``, ``AZURE_*``, ``AWS_*``, ``GH_*``/``GITHUB_*`` and ``HF_*`` variable.

    Examples
    --------
    >>> is_secret_name("OPENAI_BASE_URL"), is_secret_name("GITHUB_PAT"), is_secret_name("PGPASS")
    (True, True, True)
    >>> is_secret_name("PATH"), is_secret_name("XDG_SESSION_TYPE")
    (False, False)
    """
    upper = name.upper()
    if upper == SECRETS_FD_VARIABLE:
        return True  # an fd number, but a child must never read from it
    if _NOT_SECRET_NAME.fullmatch(upper):
        return False
    return bool(_CREDENTIAL_NAME.search(upper) or _PROVIDER_NAME.search(upper))


def is_secret_value(value: str) -> bool:
    """Whether a value looks like a credential: a URL with a user (and password), or a token.

    Parameters
    ----------
    value : str
        Any text, typically an environment variable's value.

    Returns
    -------
    bool
        True for ``scheme://user:pass@host`` URLs and well-known token shapes (``sk-...``,
        ``ghp_...``, ``github_pat_...``, ``xoxb-...``, ``AKIA...``, ``Bearer ...``).

    Examples
    --------
    >>> is_secret_value("redis://default:pw@cache:6379"), is_secret_value("ghp_" + 36 * "x")
    (True, True)
    >>> is_secret_value("http://localhost:8000/v1")
    False
    """
    return bool(_URL_USERINFO.search(value) or _TOKEN_SHAPES.search(value))


def safe_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without its secrets (by name or by value), for a child process.

    Parameters
    ----------
    env : Mapping[str, str], optional
        The environment to filter; ``os.environ`` by default.

    Returns
    -------
    dict[str, str]
        A new dict; ``env`` is left alone.

    Examples
    --------
    >>> safe_environment({"HOME": "/home/a", "SLACK_WEBHOOK_URL": "https://hooks/x",
    ...                   "CACHE": "redis://u:p4ss@h"})
    {'HOME': '/home/a'}
    """
    source = os.environ if env is None else env
    return {name: value for name, value in source.items()
            if not is_secret_name(name) and not is_secret_value(value)}


def remember(value: str | None) -> None:
    """Add ``value`` to the secrets :func:`mask` hides in this process from now on.

    Of a URL with credentials only its user and password are remembered (masked even where
    they appear without the URL; the host stays readable). Values shorter than eight
    characters are ignored (a URL's credentials are masked by shape anyway).

    Parameters
    ----------
    value : str or None
        A key, token, password or URL with credentials; None is ignored.

    Examples
    --------
    >>> remember("tiger-4711")
    >>> mask("the password is tiger-4711")
    'the password is ***'
    """
    if not value:
        return
    # of a URL only the user and password: the host stays visible in errors
    for part in _url_credentials(value) or [value]:
        if len(part) >= _MIN_REMEMBERED:
            _remembered.add(part)


def mask(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with secrets replaced by ``***``.

    Masked are: the given ``secrets``, every value :func:`remember`-ed in this process, the
    user and password of URLs (``scheme://user:pass@host`` becomes ``scheme://***@host``) and
    well-known token shapes (``sk-...``, ``ghp_...``, ``xoxb-...``, ``AKIA...``, ``Bearer ...``).

    Parameters
    ----------
    text : str
        What is about to be printed, written or sent.
    secrets : iterable of str, optional
        More values to hide (shorter than four characters: ignored).

    Returns
    -------
    str
        The masked text (``text`` itself when nothing was secret).

    Examples
    --------
    >>> mask("key sk-abcdef123456 and Bearer xyz and secret!", ["secret!"])
    'key *** and *** and ***'
    >>> mask("postgres://app:pw@db:5432/app")
    'postgres://***@db:5432/app'
    """
    values = {s for s in secrets if s and len(s) >= _MIN_LENGTH} | _remembered
    # longest first, so that a key is not half-masked by a shorter secret inside it
    for value in sorted(values, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    return _TOKEN_SHAPES.sub(MASK, text)


def contains_secret(text: str, secrets: Iterable[str | None] = ()) -> bool:
    """Whether :func:`mask` would change ``text``.

    Examples
    --------
    >>> contains_secret('KEY = "sk-abcdefghijkl"'), contains_secret("x = 1")
    (True, False)
    """
    return mask(text, secrets) != text


def getenv(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """An environment variable's value, also after :func:`scrub_process_environment` moved it.

    Parameters
    ----------
    name : str
        The variable's name.
    environ : Mapping[str, str], optional
        Look only here (as given by a caller that brings its own environment); by default
        ``os.environ``, then the variables moved out of it.

    Returns
    -------
    str or None
        The value, or None when it is unset or empty.

    Examples
    --------
    >>> getenv("LESTER_EXAMPLE", {"LESTER_EXAMPLE": "1"})
    '1'
    """
    if environ is not None:
        return environ.get(name) or None
    return os.environ.get(name) or _scrubbed.get(name) or None


def scrub_process_environment(
    argv: Sequence[str] | None = None,
    *,
    extra_names: Iterable[str] = (),
    environ: MutableMapping[str, str] | None = None,
) -> None:
    """Move secret variables out of this process's environment, into the registry.

    ``del os.environ[...]`` does not change the kernel's copy of a process's initial
    environment, which ``/proc/<pid>/environ`` shows to any process of the same user. So
    when that copy holds secrets and ``argv`` is given, the process re-executes itself
    (``os.execve``, same pid) with an environment without them; the values travel through
    an inherited pipe whose fd is named by ``$LESTER_SECRETS_FD`` (a number, never a value),
    which the new process reads and closes when it calls this function again. On systems
    without ``/proc`` the variables are only moved.

    Parameters
    ----------
    argv : sequence of str, optional
        The command line to re-execute (``[sys.executable, ...]``); None: never re-execute.
    extra_names : iterable of str
        More variables to treat as secret, e.g. the one named by ``--api-key-env``.
    environ : MutableMapping[str, str], optional
        Scrub this mapping instead of ``os.environ`` (never re-executes).

    Examples
    --------
    >>> env = {"HOME": "/home/a", "LESTER_DOCTEST_TOKEN": "doctest-token-value"}
    >>> scrub_process_environment(environ=env)
    >>> env, getenv("LESTER_DOCTEST_TOKEN")
    ({'HOME': '/home/a'}, 'doctest-token-value')
    >>> mask("doctest-token-value")
    '***'
    """
    extra = {n for n in extra_names if n}
    target = os.environ if environ is None else environ
    inherited = _receive_inherited() if environ is None else None
    moved = {name: value for name, value in target.items()
             if name in extra or is_secret_name(name) or is_secret_value(value)}
    for name in moved:
        del target[name]  # for os.environ also unsetenv(), for C code and children
    _keep({**(inherited or {}), **moved}, extra)
    if inherited is not None or argv is None or environ is not None:
        return  # this process is the re-executed one (never loop), or may not be replaced
    if _initial_environment_holds(set(moved)):
        _reexec(argv, {**_scrubbed})


def _keep(values: Mapping[str, str], extra: set[str]) -> None:
    for name, value in values.items():
        _scrubbed[name] = value
        if name in extra or _CREDENTIAL_NAME.search(name.upper()) or is_secret_value(value):
            remember(value)


def _url_credentials(value: str) -> list[str]:
    match = _URL_USERINFO.search(value)
    if not match:
        return []
    try:
        parts = urlsplit(value[match.start():].split()[0])
    except ValueError:
        return [match["userinfo"]]
    found = [match["userinfo"]]
    if parts.password:
        found += [parts.password, unquote(parts.password)]
    return found


def _receive_inherited() -> dict[str, str] | None:
    """The variables a parent lester passed through ``$LESTER_SECRETS_FD``; None without one."""
    named = os.environ.pop(SECRETS_FD_VARIABLE, None)
    if named is None:
        return None
    try:
        fd = int(named)
    except ValueError:
        return {}
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except OSError:
        return {}
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        values = json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {}


def _initial_environment_holds(names: set[str]) -> bool:
    try:
        block = Path("/proc/self/environ").read_bytes()
    except OSError:
        return False  # no /proc (macOS, Windows): moving them out of os.environ is all we can do
    for entry in block.split(b"\0"):
        name, _, value = entry.decode("utf-8", "replace").partition("=")
        if name and (name in names or is_secret_name(name) or is_secret_value(value)):
            return True
    return False


def _reexec(argv: Sequence[str], values: Mapping[str, str]) -> None:
    payload = json.dumps(dict(values)).encode()
    read_end, write_end = os.pipe()
    if len(payload) > 60000 and hasattr(os, "memfd_create"):
        # more than a pipe buffers before a reader exists: a memory file instead
        os.close(read_end)
        os.close(write_end)
        read_end = os.memfd_create("lester-secrets")
        os.write(read_end, payload)
        os.lseek(read_end, 0, os.SEEK_SET)
    else:
        os.write(write_end, payload)
        os.close(write_end)
    os.set_inheritable(read_end, True)
    env = dict(os.environ)
    env[SECRETS_FD_VARIABLE] = str(read_end)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os.execve(argv[0], list(argv), env)
