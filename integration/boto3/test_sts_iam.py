import json

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, error_code, status

TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def test_caller_identity(aws):
    me = aws("sts").get_caller_identity()
    assert me["Account"] == ACCOUNT
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"


def test_assume_role_credentials_work(aws):
    role = aws("iam").create_role(RoleName="deployer", AssumeRolePolicyDocument=TRUST)["Role"]
    out = aws("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="ci")
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci"

    assumed = aws("sts", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds["SessionToken"])
    assert assumed.get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci"

    token = aws("sts").get_session_token(DurationSeconds=900)["Credentials"]
    assert token["AccessKeyId"].startswith("ASIA")


def test_assume_role_validates(aws):
    with pytest.raises(ClientError) as e:
        aws("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/deployer", RoleSessionName="a b")
    assert error_code(e) == "ValidationError"


def test_roles_and_policies(aws):
    iam = aws("iam")
    role = iam.create_role(RoleName="ecsTaskExecutionRole", AssumeRolePolicyDocument=TRUST,
                           Tags=[{"Key": "team", "Value": "web"}])["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
    got = iam.get_role(RoleName="ecsTaskExecutionRole")["Role"]
    assert got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"] == "ecs-tasks.amazonaws.com"
    assert got["Tags"] == [{"Key": "team", "Value": "web"}]

    iam.attach_role_policy(RoleName="ecsTaskExecutionRole", PolicyArn=EXECUTION_POLICY)
    attached = iam.list_attached_role_policies(RoleName="ecsTaskExecutionRole")["AttachedPolicies"]
    assert attached == [{"PolicyName": "AmazonECSTaskExecutionRolePolicy", "PolicyArn": EXECUTION_POLICY}]
    managed = iam.get_policy(PolicyArn=EXECUTION_POLICY)["Policy"]
    version = iam.get_policy_version(PolicyArn=EXECUTION_POLICY, VersionId=managed["DefaultVersionId"])["PolicyVersion"]
    assert "ecr:GetAuthorizationToken" in json.dumps(version["Document"])

    inline = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName="ecsTaskExecutionRole", PolicyName="logs", PolicyDocument=json.dumps(inline))
    assert iam.list_role_policies(RoleName="ecsTaskExecutionRole")["PolicyNames"] == ["logs"]
    assert iam.get_role_policy(RoleName="ecsTaskExecutionRole", PolicyName="logs")["PolicyDocument"] == inline

    policy = iam.create_policy(PolicyName="read-s3", PolicyDocument=json.dumps(inline))["Policy"]
    assert policy["Arn"] == f"arn:aws:iam::{ACCOUNT}:policy/read-s3"
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]] == ["read-s3"]

    iam.create_instance_profile(InstanceProfileName="ecs-host")
    iam.add_role_to_instance_profile(InstanceProfileName="ecs-host", RoleName="ecsTaskExecutionRole")
    profiles = iam.list_instance_profiles_for_role(RoleName="ecsTaskExecutionRole")["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in profiles] == ["ecs-host"]

    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="ecsTaskExecutionRole")
    assert error_code(e) == "DeleteConflict" and status(e) == 409
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName="ecsTaskExecutionRole", AssumeRolePolicyDocument=TRUST)
    assert error_code(e) == "EntityAlreadyExists" and status(e) == 409
    with pytest.raises(ClientError) as e:
        iam.get_role(RoleName="nobody")
    assert error_code(e) == "NoSuchEntity" and status(e) == 404

    iam.remove_role_from_instance_profile(InstanceProfileName="ecs-host", RoleName="ecsTaskExecutionRole")
    iam.delete_role_policy(RoleName="ecsTaskExecutionRole", PolicyName="logs")
    iam.detach_role_policy(RoleName="ecsTaskExecutionRole", PolicyArn=EXECUTION_POLICY)
    iam.delete_role(RoleName="ecsTaskExecutionRole")
    assert iam.list_roles()["Roles"] == []



def test_aws_managed_policies_and_caller(aws):
    iam = aws("iam")
    # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/ReadOnlyAccess.html
    policy = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")["Policy"]
    assert policy["Description"] == "Provides read-only access to AWS services and resources."
    assert policy["DefaultVersionId"] == "v185"
    pages = iam.get_paginator("list_policies").paginate(Scope="AWS", PaginationConfig={"PageSize": 10})
    arns = [p["Arn"] for page in pages for p in page["Policies"]]
    assert "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess" in arns and len(arns) == len(set(arns))
    # With no UserName, IAM answers for the caller: berth's keys are the account root's.
    assert iam.get_user()["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName="nobody")
    assert error_code(e) == "NoSuchEntity" and status(e) == 404
