"""Fixtures of berth's boto3 suite, written as suites for moto's server mode
are: every test starts from an empty berth (POST /moto-api/reset) and builds
its clients with the endpoint URL and made-up credentials.

The Go test TestBoto3Suite starts a berth of its own and runs this suite
against it, with BERTH_ENDPOINT and BERTH_TEST_IMAGE set.
"""

import os
import urllib.request

import boto3
import pytest

ENDPOINT = os.environ["BERTH_ENDPOINT"]
REGION = "eu-west-1"
ACCOUNT = "000000000000"


@pytest.fixture(autouse=True)
def reset():
    urllib.request.urlopen(urllib.request.Request(ENDPOINT + "/moto-api/reset", method="POST"), timeout=30)


@pytest.fixture
def aws():
    """aws("ecs") is a boto3 client of berth."""

    def client(service, **kwargs):
        kwargs.setdefault("aws_access_key_id", "testing")
        kwargs.setdefault("aws_secret_access_key", "testing")
        return boto3.client(service, endpoint_url=ENDPOINT, region_name=REGION, **kwargs)

    return client


@pytest.fixture
def image():
    return os.environ["BERTH_TEST_IMAGE"]


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def status(excinfo):
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]
