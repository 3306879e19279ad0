"""Find the pinned Solidity compiler and run it in standard-json mode.

A native `solc` installed through py-solc-x is preferred; otherwise the offline shim
(`tools/solc-shim.js`, npm's solcjs behind a native command line) is run with node.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marketplace.errors import CompilationError, CompilerNotFoundError

SHIM = Path("tools") / "solc-shim.js"
_VERSION_LINE = re.compile(r"^Version:\s*(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Compiler:
    """A runnable solc: the command that starts it, its long version and how it was found."""

    command: tuple[str, ...]
    version: str
    origin: str


def _solcx_executable(version: str) -> Path | None:
    try:
        from packaging.version import Version
        from solcx.install import get_executable, get_installed_solc_versions
    except ImportError:
        return None
    try:
        if Version(version) not in get_installed_solc_versions():
            return None
        return Path(get_executable(version))
    except Exception:  # any py-solc-x failure means "not installed"
        return None


def _long_version(command: tuple[str, ...]) -> str:
    try:
        proc = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, check=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise CompilerNotFoundError(f"cannot run {' '.join(command)} --version: {exc}") from exc
    match = _VERSION_LINE.search(proc.stdout)
    if not match:
        raise CompilerNotFoundError(f"unexpected `--version` output: {proc.stdout!r}")
    return match.group(1)


def find_compiler(root: Path, version: str) -> Compiler:
    """Return solc `version` from py-solc-x if installed there, else the node shim in `root`.

    Raises `CompilerNotFoundError` when neither is available or the version does not match.
    """
    native = _solcx_executable(version)
    if native is not None:
        command: tuple[str, ...] = (str(native),)
        origin = "py-solc-x"
    else:
        node = shutil.which("node")
        shim = root / SHIM
        if node is None or not shim.is_file():
            raise CompilerNotFoundError(
                f"no solc {version}: install it with py-solc-x, or run `make setup` "
                f"(needs node, {SHIM} and node_modules/solc)"
            )
        command, origin = (node, str(shim)), "shim"
    long_version = _long_version(command)
    if not long_version.startswith(f"{version}+"):
        raise CompilerNotFoundError(f"{' '.join(command)} is solc {long_version}, not {version}")
    return Compiler(command=command, version=long_version, origin=origin)


def compile_standard(compiler: Compiler, standard_input: dict[str, Any], root: Path) -> Any:
    """Run `compiler` on a standard-json input with `root` as base path; return parsed output."""
    proc = subprocess.run(
        [
            *compiler.command,
            "--standard-json",
            "--base-path",
            str(root),
            "--allow-paths",
            str(root),
        ],
        input=json.dumps(standard_input),
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )
    if proc.returncode != 0:
        raise CompilationError(f"solc exited with status {proc.returncode}:\n{proc.stderr}")
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise CompilationError(f"solc printed invalid JSON ({exc}):\n{proc.stderr}") from exc
