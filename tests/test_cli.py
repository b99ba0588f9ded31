"""The command-line tools that `make run` and operators use."""

import pytest

from app import create_app
from app.extensions import db
from app.models import Customer, ProcessDefinition, Team, User
from tests.factories import ROOT
from tests.test_migrations import _fresh_url as fresh_database_url


def test_processes_deploy_is_idempotent(runner):
    first = runner.invoke(args=["processes", "deploy"])
    assert first.exit_code == 0, first.output
    assert "return v1 (deployed)" in first.output
    again = runner.invoke(args=["processes", "deploy"])
    assert "return v1 (unchanged)" in again.output
    assert db.session.execute(db.select(db.func.count(ProcessDefinition.id))).scalar() == 8  # 6 BPMN + 2 DMN


def test_processes_deploy_reports_a_rejected_file(runner, tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_text("<not-bpmn/>")
    result = runner.invoke(args=["processes", "deploy", str(bad)])
    assert result.exit_code == 1
    assert "REJECTED" in result.output and "not a BPMN" in result.output


def test_seed_creates_demo_data_once(runner):
    assert runner.invoke(args=["seed"]).exit_code == 0
    assert runner.invoke(args=["seed"]).output.strip() == "demo data already present"
    assert db.session.execute(db.select(db.func.count(Team.id))).scalar() == 5  # with billing
    assert db.session.execute(db.select(User).where(User.username == "admin")).scalar().role == "admin"
    assert db.session.execute(db.select(db.func.count(Customer.id))).scalar() == 5


def test_create_token_prints_a_working_api_token(runner, client):
    runner.invoke(args=["users", "create", "ops", "--role", "admin"])
    token = runner.invoke(args=["users", "create-token", "ops"]).output.strip()
    assert token.startswith("tf_")
    answer = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200


def test_create_customer_user_gets_a_profile(runner):
    result = runner.invoke(args=["users", "create", "zoe", "--role", "customer", "--password", "pw"])
    assert result.exit_code == 0, result.output
    user = db.session.execute(db.select(User).where(User.username == "zoe")).scalar()
    assert db.session.execute(db.select(Customer).where(Customer.user_id == user.id)).scalar() is not None


def test_create_token_for_unknown_user_fails_clearly(runner):
    result = runner.invoke(args=["users", "create-token", "ghost"])
    assert result.exit_code != 0 and "no user 'ghost'" in result.output


def test_processes_deploy_sends_processes_and_forms_as_one_bundle(runner):
    from app.models import Deployment, FormDefinition

    result = runner.invoke(args=["processes", "deploy"])
    assert result.exit_code == 0, result.output
    assert db.session.execute(db.select(db.func.count(Deployment.id))).scalar() == 1
    shipped = len(list((ROOT / "forms").glob("*.json")))
    assert db.session.execute(db.select(db.func.count(FormDefinition.id))).scalar() == shipped
    assert "forms: " in result.output


def _write_bundle(folder, operator="ticket.set_status"):
    from tests.diagrams import service_task_process, user_task_process

    folder.mkdir()
    (folder / "tiny.bpmn").write_bytes(user_task_process())
    (folder / "svc.bpmn").write_bytes(service_task_process(operator))
    return folder


def test_processes_check_prints_a_table_and_deploys_nothing(runner, tmp_path):
    folder = _write_bundle(tmp_path / "bundle")
    result = runner.invoke(args=["processes", "check", str(folder)])
    assert result.exit_code == 0, result.output
    assert "tiny" in result.output and "svc" in result.output and "ACCEPTED" in result.output
    assert db.session.execute(db.select(db.func.count(ProcessDefinition.id))).scalar() == 0


def test_processes_check_lists_every_reason_by_file_and_element(runner, tmp_path):
    folder = _write_bundle(tmp_path / "bundle", operator="payments.steal")
    (folder / "form.json").write_text("{broken")
    result = runner.invoke(args=["processes", "check", str(folder)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any("svc.bpmn" in line and "call" in line and "payments.steal" in line for line in lines)
    assert any("form.json" in line and "not valid JSON" in line for line in lines)
    assert any("tiny.bpmn" in line and "no problem" in line for line in lines)
    assert "REFUSED" in result.output


@pytest.mark.parametrize(
    "args", [["processes", "test"], ["processes", "deploy", "processes/general.bpmn"], ["seed"]]
)
def test_a_command_on_a_database_without_tables_says_to_migrate_first(tmp_path, postgres_url, args):
    empty = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url(tmp_path, postgres_url)})
    with empty.app_context():  # as `flask` gives every command
        result = empty.test_cli_runner().invoke(args=args)
        db.session.remove()
        db.engine.dispose()  # PostgreSQL drops that database for the next test
    assert result.exit_code == 1
    assert "run `flask db upgrade` first" in result.output and "Traceback" not in result.output
