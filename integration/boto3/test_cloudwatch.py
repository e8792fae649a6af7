"""CloudWatch metrics with boto3, which sends AWS JSON 1.0
(X-Amz-Target: GraniteServiceVersion20100801.*, x-amzn-query-mode)."""

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from conftest import error_code


def minute_ago(n):
    return datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=n)


def test_put_and_read_metrics(aws):
    cw = aws("cloudwatch")
    at = minute_ago(3)
    dims = [{"Name": "ServiceName", "Value": "api"}]
    cw.put_metric_data(Namespace="Shop", MetricData=[
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": at, "Values": [10, 30], "Counts": [1, 3], "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": at, "Value": 50, "Unit": "Milliseconds"},
    ])
    stats = cw.get_metric_statistics(Namespace="Shop", MetricName="Latency", Dimensions=dims, StartTime=at,
                                     EndTime=at + timedelta(minutes=1), Period=60,
                                     Statistics=["SampleCount", "Sum", "Average", "Maximum"])
    [dp] = stats["Datapoints"]
    assert (dp["SampleCount"], dp["Sum"], dp["Average"], dp["Maximum"], dp["Unit"]) == (5, 150, 30, 50, "Milliseconds")
    assert dp["Timestamp"] == at

    data = cw.get_metric_data(StartTime=at, EndTime=at + timedelta(minutes=1), MetricDataQueries=[
        {"Id": "lat", "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": "Latency", "Dimensions": dims},
                                     "Period": 60, "Stat": "p50"}},
        {"Id": "half", "Expression": "lat / 2"},
    ])
    results = {r["Id"]: r for r in data["MetricDataResults"]}
    assert results["lat"]["Values"] == [30] and results["half"]["Values"] == [15]
    assert results["lat"]["StatusCode"] == "Complete"

    metrics = cw.list_metrics(Namespace="Shop", Dimensions=[{"Name": "ServiceName", "Value": "api"}])["Metrics"]
    assert metrics == [{"Namespace": "Shop", "MetricName": "Latency", "Dimensions": dims}]
    assert cw.list_metrics(Namespace="Other")["Metrics"] == []


def test_errors(aws):
    cw = aws("cloudwatch")
    with pytest.raises(ClientError) as e:
        cw.put_metric_data(Namespace="Shop", MetricData=[{"MetricName": "m", "Value": 1, "StatisticValues": {
            "SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}])
    assert error_code(e) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as e:
        cw.put_metric_data(Namespace="AWS/ECS", MetricData=[{"MetricName": "m", "Value": 1}])
    assert error_code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        cw.get_metric_statistics(Namespace="Shop", MetricName="m", StartTime=minute_ago(60 * 48), EndTime=minute_ago(0),
                                 Period=60, Statistics=["Sum"])
    assert error_code(e) == "InvalidParameterCombination"
    assert "exceeds the limit of 1,440" in str(e.value)
