"""Compile `contracts/**/*.sol` into `artifacts/<ContractName>.json` plus `artifacts/manifest.json`.

Settings are pinned (solc 0.8.37, evmVersion cancun, optimizer runs 10000, OpenZeppelin from
node_modules). The build is skipped when sources, settings, compiler and dependencies match the
manifest. Run it as `python -m marketplace.build` or `marketplace build`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marketplace._paths import artifacts_dir, repo_root
from marketplace._solc import Compiler, compile_standard, find_compiler
from marketplace.errors import CompilationError, MarketplaceError

SOLC_VERSION = "0.8.37"
EVM_VERSION = "cancun"
OPTIMIZER_RUNS = 10_000
CONTRACTS_DIR = "contracts"
REMAPPINGS = ("@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/",)
DEPENDENCIES = ("@openzeppelin/contracts",)
MANIFEST = "manifest.json"
FORMAT = 1
ABI_ONLY = frozenset({"IMarketplace"})
"""Interfaces written as artifacts too (ABI only, empty bytecode): the marketplace's one address
is two code units, and clients bind the whole interface's ABI there (docs/contract-v2.md,
Deployment)."""

# What artifacts keep; the analysis input (for slither) also needs source maps and the AST.
ARTIFACT_OUTPUTS = (
    "abi",
    "devdoc",
    "userdoc",
    "storageLayout",
    "evm.bytecode.object",
    "evm.bytecode.linkReferences",
    "evm.deployedBytecode.object",
    "evm.deployedBytecode.linkReferences",
    "evm.methodIdentifiers",
)
ANALYSIS_OUTPUTS = ("abi", "devdoc", "userdoc", "evm.bytecode", "evm.deployedBytecode")


@dataclass
class BuildResult:
    """What a build did: whether it compiled, the contracts it wrote and project warnings."""

    compiled: bool
    contracts: list[str]
    compiler: str
    origin: str
    warnings: list[str] = field(default_factory=list)
    dependency_warnings: int = 0


def compiler_settings(
    outputs: tuple[str, ...] = ARTIFACT_OUTPUTS, ast: bool = False
) -> dict[str, Any]:
    """Return the pinned standard-json `settings` with the given output selection."""
    return {
        "evmVersion": EVM_VERSION,
        "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
        "viaIR": False,
        "remappings": list(REMAPPINGS),
        "outputSelection": {"*": {"*": list(outputs), "": ["ast"] if ast else []}},
    }


def collect_sources(root: Path) -> dict[str, bytes]:
    """Return every `contracts/**/*.sol` file as {source unit name: bytes}, sorted by name."""
    files = sorted((root / CONTRACTS_DIR).rglob("*.sol"))
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in files}


def combined_hash(hashes: dict[str, str]) -> str:
    """Return one sha256 over all (source name, source sha256) pairs."""
    digest = hashlib.sha256()
    for name in sorted(hashes):
        digest.update(f"{name}\0{hashes[name]}\n".encode())
    return digest.hexdigest()


def standard_input(sources: dict[str, bytes], settings: dict[str, Any]) -> dict[str, Any]:
    """Return a solc standard-json input with the sources inlined."""
    return {
        "language": "Solidity",
        "sources": {name: {"content": data.decode("utf-8")} for name, data in sources.items()},
        "settings": settings,
    }


def dependency_versions(root: Path) -> dict[str, str]:
    """Return the installed npm version of each Solidity dependency (or "missing")."""
    versions = {}
    for package in DEPENDENCIES:
        manifest = root / "node_modules" / package / "package.json"
        try:
            versions[package] = str(json.loads(manifest.read_text())["version"])
        except (OSError, ValueError, KeyError):
            versions[package] = "missing"
    return versions


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _read_manifest(out: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data


def _fingerprint(
    compiler: Compiler, settings: dict[str, Any], sources_sha: str, deps: dict[str, str]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "compiler": compiler.version,
        "settings": settings,
        "sourcesSha256": sources_sha,
        "dependencies": deps,
    }


def _up_to_date(manifest: dict[str, Any], fingerprint: dict[str, Any], out: Path) -> bool:
    if any(manifest.get(key) != value for key, value in fingerprint.items()):
        return False
    return all((out / f"{name}.json").is_file() for name in manifest.get("contracts", {}))


def _split_errors(output: dict[str, Any]) -> tuple[list[str], list[str], int]:
    errors, warnings, dependency_warnings = [], [], 0
    for entry in output.get("errors", []):
        text = str(entry.get("formattedMessage") or entry.get("message")).rstrip()
        if entry.get("severity") == "error":
            errors.append(text)
        elif entry.get("sourceLocation", {}).get("file", "").startswith(f"{CONTRACTS_DIR}/"):
            warnings.append(text)
        else:
            dependency_warnings += 1
    return errors, warnings, dependency_warnings


def _artifact(name: str, source: str, data: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    evm = data.get("evm", {})
    return {
        "contractName": name,
        "sourceName": source,
        "abi": data.get("abi", []),
        "bytecode": "0x" + evm.get("bytecode", {}).get("object", ""),
        "deployedBytecode": "0x" + evm.get("deployedBytecode", {}).get("object", ""),
        "linkReferences": evm.get("bytecode", {}).get("linkReferences", {}),
        "deployedLinkReferences": evm.get("deployedBytecode", {}).get("linkReferences", {}),
        "methodIdentifiers": evm.get("methodIdentifiers", {}),
        "devdoc": data.get("devdoc", {}),
        "userdoc": data.get("userdoc", {}),
        "storageLayout": data.get("storageLayout", {}),
        **meta,
    }


def build(root: Path | None = None, *, force: bool = False) -> BuildResult:
    """Compile the project's contracts into the artifacts directory unless already up to date.

    Raises `CompilationError` listing the compiler errors, `CompilerNotFoundError` when no
    solc 0.8.37 is available.
    """
    root = root or repo_root()
    out = artifacts_dir(root)
    sources = collect_sources(root)
    if not sources:
        raise CompilationError(f"no Solidity sources under {root / CONTRACTS_DIR}")
    compiler = find_compiler(root, SOLC_VERSION)
    settings = compiler_settings()
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in sources.items()}
    fingerprint = _fingerprint(compiler, settings, combined_hash(hashes), dependency_versions(root))
    manifest = _read_manifest(out)
    if not force and _up_to_date(manifest, fingerprint, out):
        return BuildResult(False, sorted(manifest["contracts"]), compiler.version, compiler.origin)

    output = compile_standard(compiler, standard_input(sources, settings), root)
    errors, warnings, dependency_warnings = _split_errors(output)
    if errors:
        raise CompilationError(
            f"solc {compiler.version} reported {len(errors)} error(s):\n\n" + "\n\n".join(errors)
        )

    contracts: dict[str, dict[str, Any]] = {}
    out.mkdir(parents=True, exist_ok=True)
    compiler_meta = {"name": "solc", "version": compiler.version, "settings": settings}
    for source, units in sorted(output.get("contracts", {}).items()):
        if source not in sources:
            continue  # a dependency such as OpenZeppelin: not a project artifact
        for name, data in sorted(units.items()):
            if not data.get("evm", {}).get("bytecode", {}).get("object") and name not in ABI_ONLY:
                continue  # interface or abstract contract
            if name in contracts:
                raise CompilationError(
                    f"contract name {name} is defined in both {contracts[name]['sourceName']} "
                    f"and {source}; artifacts are named by contract, rename one"
                )
            meta = {
                "compiler": compiler_meta,
                "sourceSha256": hashes[source],
                "sourcesSha256": fingerprint["sourcesSha256"],
            }
            _write_json(out / f"{name}.json", _artifact(name, source, data, meta))
            contracts[name] = {"artifact": f"{name}.json", "sourceName": source}

    for stale in set(manifest.get("contracts", {})) - set(contracts):
        (out / f"{stale}.json").unlink(missing_ok=True)
    _write_json(out / MANIFEST, {**fingerprint, "sources": hashes, "contracts": contracts})
    return BuildResult(
        True, sorted(contracts), compiler.version, compiler.origin, warnings, dependency_warnings
    )


def write_analysis_input(path: Path, root: Path | None = None) -> None:
    """Write the standard-json input of the whole project, with AST and source maps, to `path`.

    slither reads it with `--compile-force-framework solc-json`, so it analyses exactly what
    `build` compiles, with the same settings.
    """
    root = root or repo_root()
    sources = collect_sources(root)
    if not sources:
        raise CompilationError(f"no Solidity sources under {root / CONTRACTS_DIR}")
    settings = compiler_settings(ANALYSIS_OUTPUTS, ast=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_json(path, standard_input(sources, settings))


def run(*, force: bool = False, emit_input: Path | None = None) -> int:
    """Run a build (or write the analysis input) for the command line; return the exit status."""
    started = time.monotonic()
    try:
        if emit_input is not None:
            write_analysis_input(emit_input)
            print(f"build: wrote standard-json input to {emit_input}")
            return 0
        result = build(force=force)
    except MarketplaceError as exc:
        print(f"build: error: {exc}", file=sys.stderr)
        return 1
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    if result.compiled:
        hidden = f", {result.dependency_warnings} dependency warning(s) not shown"
        print(
            f"build: compiled {len(result.contracts)} contract(s) with solc {result.compiler} "
            f"({result.origin}) in {time.monotonic() - started:.1f}s -> {artifacts_dir()}"
            f"{hidden if result.dependency_warnings else ''}"
        )
    else:
        print(f"build: artifacts up to date ({len(result.contracts)} contract(s))")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m marketplace.build`."""
    parser = argparse.ArgumentParser(prog="python -m marketplace.build", description=__doc__)
    parser.add_argument("--force", action="store_true", help="compile even if up to date")
    parser.add_argument(
        "--emit-input",
        type=Path,
        metavar="PATH",
        help="write the standard-json input (for slither) instead of compiling",
    )
    args = parser.parse_args(argv)
    return run(force=args.force, emit_input=args.emit_input)


if __name__ == "__main__":
    sys.exit(main())
