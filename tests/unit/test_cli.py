"""The `marketplace` command line: one exit-status table, shown in every --help and the README,
and a clear message with the right status for each kind of bad input."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from marketplace import build as build_module
from marketplace.chain.anvil import free_port
from marketplace.chain.deployment import Deployment, save_deployment
from marketplace.cli import COMMANDS, main
from marketplace.cli.exits import MEANING, CommandFailed, ExitCode
from marketplace.errors import MarketplaceError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting leaks in from the shell running the tests; records go to a scratch folder."""
    for name in ("MARKETPLACE_RPC_URL", "MARKETPLACE_DEPLOYMENT", "DATABASE_URL",
                 "MARKETPLACE_CONFIRMATIONS", "MARKETPLACE_RETRY_FOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MARKETPLACE_DEPLOYMENTS", str(tmp_path / "deployments"))


def run(*args: str, input: str | None = None) -> Result:
    """`marketplace ARGS` in-process; a crash (not a SystemExit) fails the test with a traceback."""
    result = CliRunner().invoke(main, list(args), input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def a_dead_node() -> str:
    return f"http://127.0.0.1:{free_port()}"


def a_deployment_file(tmp_path: Path) -> Path:
    """A well-formed record of a deployment on the local chain (no node needs to exist)."""
    owner = "0x" + "01" * 20
    return save_deployment(
        Deployment(chain_id=31337, address="0x" + "42" * 20, start_block=1,
                   tx_hash="0x" + "00" * 32, deployer=owner, owner=owner, fee_bps=250,
                   min_stake=10**15, windows={}),
        tmp_path / "deployment.json",
    )


# ---------------------------------------------------------------- the table and its documentation


def test_every_status_has_one_number_and_a_meaning() -> None:
    assert len({int(status) for status in ExitCode}) == len(ExitCode)
    assert set(MEANING) == set(ExitCode)


def test_the_top_level_help_lists_every_command_and_the_whole_table() -> None:
    result = run("--help")

    assert result.exit_code == ExitCode.OK
    for name in COMMANDS:
        assert re.search(rf"^\s+{name}\s", result.output, re.MULTILINE), name
    for status in ExitCode:
        assert f"{int(status):>3}  {MEANING[status]}" in result.output


@pytest.mark.parametrize(
    "command", [[name] for name in COMMANDS] + [["db", "init"], ["db", "status"]],
    ids=lambda command: " ".join(command),
)
def test_every_command_s_help_ends_with_the_statuses_it_returns(command: list[str]) -> None:
    result = run(*command, "--help")

    assert result.exit_code == ExitCode.OK
    epilog = result.output.split("Exit status:")[1]
    statuses = [int(n) for n in re.findall(r"^\s+(\d+)\s", epilog, re.MULTILINE)]
    assert statuses[0] == ExitCode.OK and ExitCode.USAGE in statuses
    assert set(statuses) <= {int(status) for status in ExitCode}


def test_the_readme_table_matches_the_code() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| (\d+) \| `(\w+)` \|", readme, re.MULTILINE))

    assert {int(n): name for n, name in rows.items()} == {int(s): s.name for s in ExitCode}


def test_python_dash_m_runs_the_same_command_line() -> None:
    result = subprocess.run([sys.executable, "-m", "marketplace.cli", "index", "--help"],
                            capture_output=True, text=True, cwd=ROOT, check=False)

    assert result.returncode == ExitCode.OK, result.stderr
    assert "Usage: marketplace index" in result.stdout and "Exit status:" in result.stdout


# ---------------------------------------------------------------- usage errors: status 2


def test_an_unknown_command_is_a_usage_error() -> None:
    result = run("indx")

    assert result.exit_code == ExitCode.USAGE
    assert "No such command 'indx'" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["index", "--confirmations", "0"], "'--confirmations': 0 is not in the range x>=1"),
        (["audit", "--format", "xml"], "'xml' is not one of 'text', 'json', 'csv'"),
        (["deploy", "--fee-bps", "1001"], "1001 is not in the range 0<=x<=1000"),
        (["deploy", "--owner", "alice"], "'alice' is not an Ethereum address"),
        (["index", "--deployment", "missing.json"], "'missing.json' does not exist"),
        (["web", "--port", "0"], "0 is not in the range 1<=x<=65535"),
        (["db", "init", "--colour"], "No such option '--colour'"),
    ],
    ids=["range", "choice", "fee cap", "address", "missing file", "port", "unknown option"],
)
def test_bad_options_exit_two_and_name_the_problem(args: list[str], message: str) -> None:
    result = run(*args)

    assert result.exit_code == ExitCode.USAGE
    assert message in result.output


def test_a_bad_setting_in_the_environment_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MARKETPLACE_CONFIRMATIONS", "twelve")

    result = run("index", "--rpc", a_dead_node(), "--deployment", str(a_deployment_file(tmp_path)))

    assert result.exit_code == ExitCode.USAGE
    assert "MARKETPLACE_CONFIRMATIONS='twelve' is not a valid int" in result.stderr


# ---------------------------------------------------------------- node unreachable: status 3


def test_index_with_no_node_exits_node_unreachable(tmp_path: Path) -> None:
    dead = a_dead_node()

    result = run("index", "--rpc", dead, "--deployment", str(a_deployment_file(tmp_path)),
                 "--database", f"sqlite:///{tmp_path / 'store.sqlite'}", "--retry-for", "0")

    assert result.exit_code == ExitCode.NODE_UNREACHABLE
    assert f"no node answers at {dead}" in result.stderr


def test_audit_with_no_node_exits_node_unreachable() -> None:
    dead = a_dead_node()

    result = run("audit", "--rpc", dead)

    assert result.exit_code == ExitCode.NODE_UNREACHABLE
    assert f"no node answers at {dead}" in result.stderr


def test_deploy_with_no_node_exits_node_unreachable() -> None:
    dead = a_dead_node()

    result = run("deploy", "--rpc", dead)

    assert result.exit_code == ExitCode.NODE_UNREACHABLE
    assert f"no Ethereum node answers at {dead}" in result.stderr


def test_the_environment_names_the_node_when_no_option_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dead = a_dead_node()
    monkeypatch.setenv("MARKETPLACE_RPC_URL", dead)

    result = run("deploy")

    assert result.exit_code == ExitCode.NODE_UNREACHABLE
    assert dead in result.stderr


# ---------------------------------------------------------------- failed: status 5


def test_a_store_without_tables_exits_failed_and_says_what_to_run(tmp_path: Path) -> None:
    result = run("db", "status", "--database", f"sqlite:///{tmp_path / 'empty.sqlite'}")

    assert result.exit_code == ExitCode.FAILED
    assert "run `marketplace db init`" in result.stderr


def test_an_unsupported_database_exits_failed() -> None:
    result = run("db", "init", "--database", "mysql://localhost/market")

    assert result.exit_code == ExitCode.FAILED
    assert "unsupported database 'mysql'" in result.stderr


def test_a_failed_build_exits_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_module, "build", _raise(MarketplaceError("solc said no")))

    result = run("build", "--force")

    assert result.exit_code == ExitCode.FAILED
    assert "build: error: solc said no" in result.stderr


def test_db_init_then_status_succeed_on_a_fresh_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"

    init = run("db", "init", "--database", url)
    status = run("db", "status", "--database", url)

    assert (init.exit_code, status.exit_code) == (ExitCode.OK, ExitCode.OK)
    assert "indexed      nothing yet" in status.output


def test_prune_pictures_removes_only_unnamed_old_uploads_and_says_so(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, update

    from marketplace.web.db import create_web_schema, pictures, put_metadata, put_picture
    from marketplace.web.demo_pictures import demo_picture
    from marketplace.web.pictures import inspect

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    assert "no pictures are stored" in run("db", "prune-pictures", "--database", url).output
    engine = create_engine(url)
    create_web_schema(engine)
    named, abandoned = (put_picture(engine, inspect(demo_picture("repairs", v))) for v in (0, 1))
    put_metadata(engine, {"name": "A", "description": "d", "picture": named})
    with engine.begin() as conn:
        conn.execute(update(pictures).values(stored_at=0.0))
    engine.dispose()

    dry = run("db", "prune-pictures", "--database", url, "--dry-run")
    done = run("db", "prune-pictures", "--database", url)
    again = run("db", "prune-pictures", "--database", url)
    bad = run("db", "prune-pictures", "--database", url, "--grace-hours", "-1")

    assert dry.exit_code == done.exit_code == again.exit_code == ExitCode.OK
    assert f"would remove {abandoned}" in dry.output and named not in dry.output
    assert f"removed {abandoned}" in done.output and "removed 1 pictures" in done.output
    assert "removed 0 pictures" in again.output and "kept 1" in again.output
    assert bad.exit_code == ExitCode.USAGE and "-1.0 is not in the range x>=0" in bad.output


# ---------------------------------------------------------------- interrupted: status 130


def test_declining_the_reset_question_exits_interrupted_and_drops_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    assert run("db", "init", "--database", url).exit_code == ExitCode.OK

    result = run("db", "init", "--database", url, "--reset", input="n\n")

    assert result.exit_code == ExitCode.INTERRUPTED
    assert "nothing was dropped" in result.stderr
    assert run("db", "status", "--database", url).exit_code == ExitCode.OK


def test_ctrl_c_in_any_command_exits_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_module, "build", _raise(KeyboardInterrupt()))

    result = run("build")

    assert result.exit_code == ExitCode.INTERRUPTED
    assert "interrupted" in result.stderr


def test_a_command_failure_is_a_project_error_with_its_status() -> None:
    failure = CommandFailed("the node is down", ExitCode.NODE_UNREACHABLE)

    assert isinstance(failure, MarketplaceError) and isinstance(failure, click.ClickException)
    assert failure.exit_code == 3 and failure.format_message() == "the node is down"


def _raise(error: BaseException) -> Callable[..., None]:
    """A stand-in for a function that raises `error` whatever it is given."""

    def fail(*_args: object, **_kwargs: object) -> None:
        raise error

    return fail
