import json

import pytest

from conftest import ACCOUNT, REGION, error_code


def test_versions_and_stages(aws):
    sm = aws("secretsmanager")
    created = sm.create_secret(Name="app/db", SecretString=json.dumps({"user": "a"}), Description="db",
                               Tags=[{"Key": "team", "Value": "core"}])
    assert created["ARN"].startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/db-")
    assert len(created["ARN"]) == len(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/db-") + 6
    second = sm.put_secret_value(SecretId="app/db", SecretString=json.dumps({"user": "b"}))
    assert second["VersionStages"] == ["AWSCURRENT"]

    current = sm.get_secret_value(SecretId=created["ARN"])
    assert json.loads(current["SecretString"]) == {"user": "b"}
    previous = sm.get_secret_value(SecretId="app/db", VersionStage="AWSPREVIOUS")
    assert previous["VersionId"] == created["VersionId"]

    described = sm.describe_secret(SecretId="app/db")
    assert described["VersionIdsToStages"] == {created["VersionId"]: ["AWSPREVIOUS"], second["VersionId"]: ["AWSCURRENT"]}
    assert described["RotationEnabled"] is False
    assert described["Tags"] == [{"Key": "team", "Value": "core"}]

    sm.update_secret_version_stage(SecretId="app/db", VersionStage="AWSCURRENT",
                                   MoveToVersionId=created["VersionId"], RemoveFromVersionId=second["VersionId"])
    assert json.loads(sm.get_secret_value(SecretId="app/db")["SecretString"]) == {"user": "a"}


def test_paginators(aws):
    sm = aws("secretsmanager")
    for i in range(5):
        sm.create_secret(Name=f"svc/{i}", SecretString=f"value-{i}")
    pages = list(sm.get_paginator("list_secrets").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["SecretList"]) for p in pages] == [2, 2, 1]
    assert [s["Name"] for p in pages for s in p["SecretList"]] == [f"svc/{i}" for i in range(5)]

    for i in range(3):
        sm.put_secret_value(SecretId="svc/0", SecretString=f"again-{i}")
    # This botocore has no paginator for ListSecretVersionIds: page by hand.
    versions, token = [], {}
    while True:
        page = sm.list_secret_version_ids(SecretId="svc/0", IncludeDeprecated=True, MaxResults=1, **token)
        versions += page["Versions"]
        if "NextToken" not in page:
            break
        token = {"NextToken": page["NextToken"]}
    assert len(versions) == 4
    assert [v["VersionStages"] for v in versions[:2]] == [["AWSCURRENT"], ["AWSPREVIOUS"]]

    if hasattr(sm, "batch_get_secret_value"):  # botocore 1.33 and later
        batch = sm.get_paginator("batch_get_secret_value").paginate(
            Filters=[{"Key": "name", "Values": ["svc/"]}], PaginationConfig={"PageSize": 2})
        values = sorted(v["SecretString"] for p in batch for v in p["SecretValues"])
        assert values == ["again-2"] + [f"value-{i}" for i in range(1, 5)]


def test_errors(aws):
    sm = aws("secretsmanager")
    with pytest.raises(sm.exceptions.ResourceNotFoundException) as e:
        sm.get_secret_value(SecretId="ghost")
    assert e.value.response["Error"]["Message"] == "Secrets Manager can't find the specified secret."

    sm.create_secret(Name="once", SecretString="x")
    with pytest.raises(sm.exceptions.ResourceExistsException):
        sm.create_secret(Name="once", SecretString="y")
    with pytest.raises(sm.exceptions.InvalidParameterException):
        sm.delete_secret(SecretId="once", RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    with pytest.raises(sm.exceptions.MalformedPolicyDocumentException):
        sm.put_resource_policy(SecretId="once", ResourcePolicy="{")

    deleted = sm.delete_secret(SecretId="once", RecoveryWindowInDays=7)
    assert "DeletionDate" in deleted
    with pytest.raises(sm.exceptions.InvalidRequestException) as e:
        sm.get_secret_value(SecretId="once")
    assert error_code(e) == "InvalidRequestException"
    sm.restore_secret(SecretId="once")
    assert sm.get_secret_value(SecretId="once")["SecretString"] == "x"

    with pytest.raises(sm.exceptions.InvalidRequestException):
        sm.rotate_secret(SecretId="once", RotationLambdaARN=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rotate")


def test_random_password_and_binary(aws):
    sm = aws("secretsmanager")
    pw = sm.get_random_password(PasswordLength=40, ExcludeCharacters="abc", IncludeSpace=True)["RandomPassword"]
    assert len(pw) == 40 and not set(pw) & set("abc")
    sm.create_secret(Name="blob", SecretBinary=b"\x00\xffbytes")
    assert sm.get_secret_value(SecretId="blob")["SecretBinary"] == b"\x00\xffbytes"
