"""The command-line tools that `make run` and operators use."""

from app.extensions import db
from app.models import Customer, ProcessDefinition, Team, User


def test_processes_deploy_is_idempotent(runner):
    first = runner.invoke(args=["processes", "deploy"])
    assert first.exit_code == 0, first.output
    assert "return v1 (deployed)" in first.output
    again = runner.invoke(args=["processes", "deploy"])
    assert "return v1 (unchanged)" in again.output
    assert db.session.execute(db.select(db.func.count(ProcessDefinition.id))).scalar() == 6  # 4 BPMN + 2 DMN


def test_processes_deploy_reports_a_rejected_file(runner, tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_text("<not-bpmn/>")
    result = runner.invoke(args=["processes", "deploy", str(bad)])
    assert result.exit_code == 1
    assert "REJECTED" in result.output and "not a BPMN" in result.output


def test_seed_creates_demo_data_once(runner):
    assert runner.invoke(args=["seed"]).exit_code == 0
    assert runner.invoke(args=["seed"]).output.strip() == "demo data already present"
    assert db.session.execute(db.select(db.func.count(Team.id))).scalar() == 4
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
