"""Cloud Map through boto3: a private DNS namespace in the default VPC, a
service with a custom health check, instances discovered by health and
attributes with the host prefix turned off (Config(inject_host_prefix=False):
boto3 sends DiscoverInstances to data-<endpoint host> otherwise), and the
modeled errors.
https://docs.aws.amazon.com/cloud-map/latest/api/API_Operations.html
"""

import pytest
from botocore.config import Config

from conftest import ACCOUNT, REGION, error_code


def test_namespace_service_discovery(aws):
    sd = aws("servicediscovery", config=Config(inject_host_prefix=False))
    vpc = aws("ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]

    op = sd.create_private_dns_namespace(Name="corp.internal", Vpc=vpc)["OperationId"]
    operation = sd.get_operation(OperationId=op)["Operation"]
    assert (operation["Status"], operation["Type"]) == ("SUCCESS", "CREATE_NAMESPACE")
    ns_id = operation["Targets"]["NAMESPACE"]
    ns = sd.get_namespace(Id=ns_id)["Namespace"]
    assert ns["Arn"] == f"arn:aws:servicediscovery:{REGION}:{ACCOUNT}:namespace/{ns_id}"
    assert ns["Properties"]["HttpProperties"]["HttpName"] == "corp.internal"
    with pytest.raises(sd.exceptions.NamespaceAlreadyExists):
        sd.create_private_dns_namespace(Name="corp.internal", Vpc=vpc)

    svc = sd.create_service(
        Name="orders",
        NamespaceId=ns_id,
        DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 30}]},
        HealthCheckCustomConfig={},
    )["Service"]
    assert svc["Type"] == "DNS_HTTP"
    for i, (ip, health) in enumerate([("10.0.1.1", "HEALTHY"), ("10.0.1.2", "UNHEALTHY")]):
        sd.register_instance(
            ServiceId=svc["Id"],
            InstanceId=f"o{i}",
            Attributes={"AWS_INSTANCE_IPV4": ip, "AWS_INIT_HEALTH_STATUS": health, "zone": "a"},
        )
    found = sd.discover_instances(NamespaceName="corp.internal", ServiceName="orders", HealthStatus="HEALTHY")
    assert [i["InstanceId"] for i in found["Instances"]] == ["o0"]
    every = sd.discover_instances(NamespaceName="corp.internal", ServiceName="orders", HealthStatus="ALL",
                                  QueryParameters={"zone": "a"})
    assert sorted(i["InstanceId"] for i in every["Instances"]) == ["o0", "o1"]

    with pytest.raises(sd.exceptions.InvalidInput):  # an A record needs AWS_INSTANCE_IPV4
        sd.register_instance(ServiceId=svc["Id"], InstanceId="o9", Attributes={"zone": "a"})
    with pytest.raises(sd.exceptions.ResourceInUse) as e:
        sd.delete_service(Id=svc["Id"])
    assert error_code(e) == "ResourceInUse"
    with pytest.raises(sd.exceptions.ServiceNotFound):
        sd.get_service(Id="srv-0000000000000000")
