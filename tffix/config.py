"""`[tool.tffix]` in the nearest pyproject.toml, read into frozen Settings.

Keys (Ruff's spelling, with `-` or `_`): select, extend-select, ignore, exclude, extend-exclude,
per-file-ignores, unsafe-fixes, max-file-size, file-timeout, executor ("local" or "dask"), scheduler (a Dask
scheduler's address, tcp://HOST:PORT). Unknown keys and malformed values are errors that name the file
and the key, never silently ignored: a typo in `ignore` must not quietly turn a rule back on. A code that matches no rule
(`TFX999`) is refused by the CLI (`matches_a_rule`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    import pathspec


DEFAULT_MAX_FILE_SIZE = 1024 * 1024  # LibCST needs ~0.7 GB to parse 1 MB; no hand-written file here comes close
DEFAULT_FILE_TIMEOUT = 300.0


class ConfigError(Exception):
    """A configuration that cannot be used. The message names the file and the key."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("TFX",)  # codes or code prefixes
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()  # gitignore-style patterns, relative to `root`
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    unsafe_fixes: bool = False
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # bytes: larger files are skipped, and the run says so
    file_timeout: float = DEFAULT_FILE_TIMEOUT  # seconds one file may take; then it is reported and left as it was
    gates: bool = True  # False: every selected rule analyses every whole file (tffix.gates), for a suspected miss
    executor: str = "local"  # "local": a process pool here; "dask": a Dask cluster (tffix.executors)
    scheduler: str | None = None  # the Dask scheduler's address; None with "dask": a LocalCluster
    root: Path | None = None  # the folder of the pyproject.toml the settings came from
    source: Path | None = None  # that pyproject.toml
    _exclude_spec: pathspec.PathSpec | None = field(default=None, compare=False, repr=False)

    def exclude_spec(self) -> pathspec.PathSpec:
        """The `exclude` patterns, compiled (pathspec is imported only by settings that have some)."""
        if self._exclude_spec is not None:
            return self._exclude_spec
        return _gitignore_spec(self.exclude)

    def is_selected(self, rule: str | type, path: str | None = None) -> bool:
        """Is `rule` (a Rule class, or a code) selected, for `path` when given? A rule whose
        `default_selected` is False only when a select entry is its full code: no prefix or ALL selects it."""
        if isinstance(rule, str):
            code, explicit_only = rule, _explicit_only(rule)
        else:
            code, explicit_only = rule.code, not getattr(rule, "default_selected", True)
        if explicit_only and code not in self.select:
            return False
        selected = _most_specific(code, self.select)
        ignored = _most_specific(code, self.ignore)
        # As in Ruff: the more specific of select/ignore wins; an equally specific ignore wins.
        if selected is None or (ignored is not None and len(ignored) >= len(selected)):
            return False
        if path is not None:
            relative = self._relative(path)
            for pattern, codes in self.per_file_ignores:
                if _gitignore_spec([pattern]).match_file(relative):
                    if _most_specific(code, codes) is not None:
                        return False
        return True

    def _relative(self, path: str | Path) -> str:
        resolved = Path(path).resolve()
        if self.root is not None:
            try:
                return PurePosixPath(resolved.relative_to(self.root.resolve())).as_posix()
            except ValueError:
                pass
        return PurePosixPath(Path(path)).as_posix()


def _explicit_only(code: str) -> bool:
    from .catalogue import explicit_only  # the rules' facts, without importing the rules (and LibCST)

    return explicit_only(code)


def _most_specific(code: str, patterns: tuple[str, ...]) -> str | None:
    matches = [p for p in patterns if p == "ALL" or code.startswith(p)]
    return max(matches, key=lambda p: 0 if p == "ALL" else len(p), default=None)


_KEYS = {"select", "extend-select", "ignore", "exclude", "extend-exclude", "per-file-ignores", "unsafe-fixes",
         "max-file-size", "file-timeout", "gates", "executor", "scheduler"}
EXECUTORS = ("local", "dask")


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start` that has a [tool.tffix] table."""
    here = start.resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
                return candidate  # let load_settings report it
            if "tffix" in data.get("tool", {}):
                return candidate
    return None


def load_settings(start: Path | None = None, *, config: Path | None = None) -> Settings:
    """Settings from `config`, else from the nearest pyproject.toml above `start` (or the working directory)."""
    path = config if config is not None else find_pyproject(start or Path.cwd())
    if path is None:
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("tffix", {}) if path.name == "pyproject.toml" else data
    return settings_from_table(table, source=path)


def settings_from_table(table: dict, *, source: Path | None = None) -> Settings:
    where = f"{source}: [tool.tffix]" if source else "[tool.tffix]"
    normalised = {}
    for key, value in table.items():
        canonical_key = key.replace("_", "-")
        if canonical_key not in _KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(_KEYS))})")
        normalised[canonical_key] = value

    def codes(key: str) -> tuple[str, ...]:
        value = normalised.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key!r} must be a list of rule codes, like [\"TFX301\"]")
        for code in value:
            if code != "ALL" and not _looks_like_code(code):
                raise ConfigError(f"{where}: {key!r} has {code!r}, which is not a rule code or prefix (TFX...)")
        return tuple(value)

    def patterns(key: str) -> tuple[str, ...]:
        value = normalised.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key!r} must be a list of path patterns")
        return tuple(value)

    per_file = normalised.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{where}: 'per-file-ignores' must be a table of pattern = [codes]")
    per_file_ignores = []
    for pattern, value in per_file.items():
        if not isinstance(value, list) or not all(isinstance(v, str) and _looks_like_code(v) for v in value):
            raise ConfigError(f"{where}: per-file-ignores[{pattern!r}] must be a list of rule codes")
        per_file_ignores.append((pattern, tuple(value)))

    unsafe = normalised.get("unsafe-fixes", False)
    if not isinstance(unsafe, bool):
        raise ConfigError(f"{where}: 'unsafe-fixes' must be true or false")

    gates = normalised.get("gates", True)
    if not isinstance(gates, bool):
        raise ConfigError(f"{where}: 'gates' must be true or false")

    max_file_size = parse_size(normalised.get("max-file-size", DEFAULT_MAX_FILE_SIZE), f"{where}: 'max-file-size'")
    file_timeout = normalised.get("file-timeout", DEFAULT_FILE_TIMEOUT)
    if isinstance(file_timeout, bool) or not isinstance(file_timeout, (int, float)) or file_timeout <= 0:
        raise ConfigError(f"{where}: 'file-timeout' must be a number of seconds above 0, not {file_timeout!r}")

    executor = normalised.get("executor", "local")
    if executor not in EXECUTORS:
        raise ConfigError(f"{where}: 'executor' must be one of {', '.join(map(repr, EXECUTORS))}, not {executor!r}")
    scheduler = normalised.get("scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise ConfigError(f"{where}: 'scheduler' must be a Dask scheduler's address, like \"tcp://host:8786\"")

    select = codes("select") or ("TFX",)
    exclude = patterns("exclude") + patterns("extend-exclude")
    settings = Settings(
        select=select + codes("extend-select"),
        ignore=codes("ignore"),
        exclude=exclude,
        per_file_ignores=tuple(per_file_ignores),
        unsafe_fixes=unsafe,
        max_file_size=max_file_size,
        file_timeout=float(file_timeout),
        gates=gates,
        executor=executor,
        scheduler=scheduler,
        root=source.parent if source else None,
        source=source,
    )
    if exclude:
        settings = replace(settings, _exclude_spec=_gitignore_spec(exclude))
    return settings


def _gitignore_spec(patterns: Iterable[str]) -> pathspec.PathSpec:
    import pathspec  # 60 ms of start-up that a run without patterns (a warm one, say) does not need

    return pathspec.PathSpec.from_lines("gitignore", patterns)


def _looks_like_code(code: str) -> bool:
    return code.startswith("TFX") and code[3:].isdigit() and len(code) <= 6


def matches_a_rule(selector: str) -> bool:
    """`selector` (a code, a prefix or ALL) selects at least one of tffix's rules: `TFX999` or `TFX9` is a typo.
    The CLI checks the options and the configuration with it (`tffix.cli`); a server with rules of its own
    (the LSP tests' toy rules) may select codes tffix itself does not have."""
    from .catalogue import codes  # the rules' codes, without importing the rules (and LibCST)

    return selector == "ALL" or any(code.startswith(selector) for code in codes())


def valid_selectors() -> str:
    """The prefixes and codes there are, for an error message."""
    from .catalogue import codes as rule_codes

    codes = sorted(rule_codes())
    families = sorted({code[:4] for code in codes})
    return f"valid: ALL, TFX, {', '.join(families)}, or a code from {codes[0]} to {codes[-1]} (`tffix rules`)"


_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def parse_size(value: object, what: str) -> int:
    """A size in bytes from an integer (bytes) or a string such as "2MB", "512 KB" (binary units)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        text = value.strip().upper().replace(" ", "")
        number = text.rstrip("KMGB")
        unit = text[len(number):]
        try:
            size = float(number) * _UNITS[unit]
        except (ValueError, KeyError):
            size = 0
        if size >= 1:
            return int(size)
    raise ConfigError(f"{what} must be a size in bytes or a string like \"2MB\" or \"512KB\", not {value!r}")
