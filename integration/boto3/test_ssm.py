"""Parameter Store through boto3: parameters with versions and labels,
paging with paginators, the public parameters, and the modeled errors.
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Operations.html
"""

import base64
import json

import pytest

from conftest import ACCOUNT, REGION


def test_put_get_versions_labels(aws):
    ssm = aws("ssm")
    assert ssm.put_parameter(Name="/svc/url", Value="http://a", Type="String")["Version"] == 1
    with pytest.raises(ssm.exceptions.ParameterAlreadyExists):
        ssm.put_parameter(Name="/svc/url", Value="http://b", Type="String")
    out = ssm.put_parameter(Name="/svc/url", Value="http://b", Overwrite=True)
    assert (out["Version"], out["Tier"]) == (2, "Standard")

    p = ssm.get_parameter(Name="/svc/url")["Parameter"]
    assert (p["Value"], p["Version"], p["Type"], p["DataType"]) == ("http://b", 2, "String", "text")
    assert p["ARN"] == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/svc/url"
    assert ssm.get_parameter(Name="/svc/url:1")["Parameter"]["Value"] == "http://a"

    labeled = ssm.label_parameter_version(Name="/svc/url", ParameterVersion=1, Labels=["stable", "ssm-no"])
    assert (labeled["ParameterVersion"], labeled["InvalidLabels"]) == (1, ["ssm-no"])
    p = ssm.get_parameter(Name="/svc/url:stable")["Parameter"]
    assert (p["Value"], p["Selector"]) == ("http://a", ":stable")
    history = ssm.get_parameter_history(Name="/svc/url")["Parameters"]
    assert [(h["Version"], h["Labels"]) for h in history] == [(1, ["stable"]), (2, [])]
    removed = ssm.unlabel_parameter_version(Name="/svc/url", ParameterVersion=1, Labels=["stable", "other"])
    assert (removed["RemovedLabels"], removed["InvalidLabels"]) == (["stable"], ["other"])

    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name="/svc/missing")
    with pytest.raises(ssm.exceptions.ParameterVersionNotFound):
        ssm.get_parameter(Name="/svc/url:7")
    with pytest.raises(ssm.exceptions.ParameterVersionLabelLimitExceeded):
        ssm.label_parameter_version(Name="/svc/url", Labels=[f"l{i}" for i in range(10)])
        ssm.label_parameter_version(Name="/svc/url", Labels=["one-more"])


def test_secure_string(aws):
    ssm = aws("ssm")
    ssm.put_parameter(Name="/svc/token", Value="t0ken", Type="SecureString")
    hidden = ssm.get_parameter(Name="/svc/token")["Parameter"]["Value"]
    assert hidden != "t0ken" and b"t0ken" not in base64.b64decode(hidden)
    assert ssm.get_parameter(Name="/svc/token", WithDecryption=True)["Parameter"]["Value"] == "t0ken"
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/svc/token"]}])["Parameters"]
    assert [(m["Name"], m["Type"], m["KeyId"]) for m in meta] == [("/svc/token", "SecureString", "alias/aws/ssm")]
    with pytest.raises(ssm.exceptions.InvalidKeyId):
        ssm.put_parameter(Name="/svc/token2", Value="x", Type="SecureString", KeyId="no-such-key")


def test_paging(aws):
    ssm = aws("ssm")
    names = [f"/paged/{i:02d}" for i in range(25)] + [f"/paged/deep/{i}" for i in range(3)]
    for name in names:
        ssm.put_parameter(Name=name, Value=name, Type="String")

    pages = ssm.get_paginator("get_parameters_by_path").paginate(Path="/paged", Recursive=True, PaginationConfig={"PageSize": 10})
    seen = [p["Name"] for page in pages for p in page["Parameters"]]
    assert sorted(seen) == sorted(names)
    top = ssm.get_paginator("get_parameters_by_path").paginate(Path="/paged")
    assert len([p for page in top for p in page["Parameters"]]) == 25

    described = ssm.get_paginator("describe_parameters").paginate(
        ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": ["/paged"]}], PaginationConfig={"PageSize": 7})
    assert sorted(m["Name"] for page in described for m in page["Parameters"]) == sorted(names)

    got = ssm.get_parameters(Names=["/paged/00", "/paged/nope"])
    assert [p["Name"] for p in got["Parameters"]] == ["/paged/00"]
    assert got["InvalidParameters"] == ["/paged/nope"]
    deleted = ssm.delete_parameters(Names=["/paged/00", "/paged/nope"])
    assert (deleted["DeletedParameters"], deleted["InvalidParameters"]) == (["/paged/00"], ["/paged/nope"])


def test_tags_and_errors(aws):
    ssm = aws("ssm")
    ssm.put_parameter(Name="tagged", Value="v", Type="StringList", Tags=[{"Key": "team", "Value": "core"}])
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="tagged", Tags=[{"Key": "env", "Value": "dev"}])
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId="tagged", TagKeys=["team"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="tagged")["TagList"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ssm.exceptions.InvalidResourceId):
        ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="ghost")
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.delete_parameter(Name="ghost")
    with pytest.raises(ssm.exceptions.HierarchyLevelLimitExceededException):
        ssm.put_parameter(Name="/" + "/".join("abcdefghijklmnop"), Value="v", Type="String")
    with pytest.raises(ssm.exceptions.ParameterPatternMismatchException):
        ssm.put_parameter(Name="/port", Value="http", Type="String", AllowedPattern=r"^\d+$")
    with pytest.raises(ssm.exceptions.InvalidFilterKey):
        ssm.get_parameters_by_path(Path="/", ParameterFilters=[{"Key": "Tier", "Values": ["Standard"]}])
    with pytest.raises(ssm.exceptions.InvalidNextToken):
        ssm.describe_parameters(NextToken="not a token")
    with pytest.raises(ssm.exceptions.ClientError) as e:
        ssm.put_parameter(Name="/aws/service/mine", Value="v", Type="String")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"


def test_public_parameters(aws):
    ssm, ec2 = aws("ssm"), aws("ec2")
    doc = json.loads(ssm.get_parameter(Name="/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended")["Parameter"]["Value"])
    assert doc["os"] == "Amazon Linux 2023" and doc["schema_version"] == 1
    by_path = ssm.get_parameters_by_path(Path="/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended")["Parameters"]
    assert {p["Name"].rsplit("/", 1)[1] for p in by_path} >= {"image_id", "image_name", "ecs_agent_version", "os"}
    ami = ssm.get_parameter(Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")["Parameter"]
    assert ami["DataType"] == "aws:ec2:image"
    images = ec2.describe_images(ImageIds=[doc["image_id"], ami["Value"]])["Images"]
    assert {i["ImageId"] for i in images} == {doc["image_id"], ami["Value"]}
    assert {i["Architecture"] for i in images} == {"x86_64"}
