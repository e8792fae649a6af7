"""CloudWatch alarms with boto3: the query protocol from Debian's boto3
(botocore 1.29), AWS JSON 1.0 from newer ones."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, error_code, status


def put_alarm(cw, name, **overrides):
    args = dict(AlarmName=name, AlarmDescription="p99 latency of the api",
                Namespace="Shop", MetricName="Latency", Dimensions=[{"Name": "Service", "Value": "api"}],
                ExtendedStatistic="p99", Period=300, EvaluationPeriods=2, Threshold=250.0,
                ComparisonOperator="GreaterThanOrEqualToThreshold", Unit="Milliseconds",
                OKActions=["arn:aws:sns:%s:%s:ops" % (REGION, ACCOUNT)],
                Tags=[{"Key": "team", "Value": "shop"}])
    args.update(overrides)
    cw.put_metric_alarm(**args)


def test_alarm_lifecycle(aws):
    cw = aws("cloudwatch")
    put_alarm(cw, "api-latency")
    put_alarm(cw, "api-latency-strict", Threshold=100.0, DatapointsToAlarm=1)
    cw.get_waiter("alarm_exists").wait(AlarmNames=["api-latency"])

    [alarm] = cw.describe_alarms(AlarmNames=["api-latency"])["MetricAlarms"]
    assert alarm["AlarmArn"] == "arn:aws:cloudwatch:%s:%s:alarm:api-latency" % (REGION, ACCOUNT)
    assert (alarm["StateValue"], alarm["StateReason"]) == ("INSUFFICIENT_DATA", "Unchecked: Initial alarm creation")
    assert (alarm["ExtendedStatistic"], alarm["Period"], alarm["Unit"], alarm["Threshold"]) == ("p99", 300, "Milliseconds", 250.0)
    assert alarm["ActionsEnabled"] is True and alarm["TreatMissingData"] == "missing"
    assert "Statistic" not in alarm

    names = [a["AlarmName"] for a in cw.describe_alarms(AlarmNamePrefix="api-")["MetricAlarms"]]
    assert names == ["api-latency", "api-latency-strict"]
    pages = cw.get_paginator("describe_alarms").paginate(PaginationConfig={"PageSize": 1})
    assert [a["AlarmName"] for p in pages for a in p["MetricAlarms"]] == names
    by_action = cw.describe_alarms(ActionPrefix="arn:aws:sns:")["MetricAlarms"]
    assert len(by_action) == 2
    for_metric = cw.describe_alarms_for_metric(Namespace="Shop", MetricName="Latency",
                                               Dimensions=[{"Name": "Service", "Value": "api"}], ExtendedStatistic="p99")
    assert len(for_metric["MetricAlarms"]) == 2

    arn = alarm["AlarmArn"]
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "shop"}]
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "checkout"}])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "checkout"}]
    cw.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == []

    cw.set_alarm_state(AlarmName="api-latency", StateValue="OK", StateReason="manual check",
                       StateReasonData=json.dumps({"recentDatapoints": [120.0]}))
    [alarm] = cw.describe_alarms(AlarmNames=["api-latency"], StateValue="OK")["MetricAlarms"]
    assert alarm["StateReason"] == "manual check"
    assert json.loads(alarm["StateReasonData"]) == {"recentDatapoints": [120.0]}

    history = cw.describe_alarm_history(AlarmName="api-latency")["AlarmHistoryItems"]
    assert [(h["HistoryItemType"], h["HistorySummary"]) for h in history] == [
        ("Action", 'Failed to execute action arn:aws:sns:%s:%s:ops. Received error: "berth does not run sns actions"' % (REGION, ACCOUNT)),
        ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to OK"),
        ("ConfigurationUpdate", 'Alarm "api-latency" created'),
    ]
    update = json.loads(history[1]["HistoryData"])
    assert update["oldState"]["stateValue"] == "INSUFFICIENT_DATA" and update["newState"]["stateReason"] == "manual check"
    created = json.loads(history[2]["HistoryData"])
    assert created["type"] == "Create" and created["createdAlarm"]["threshold"] == 250.0
    oldest = cw.describe_alarm_history(AlarmName="api-latency", ScanBy="TimestampAscending", MaxRecords=1)
    assert oldest["AlarmHistoryItems"][0]["HistorySummary"] == 'Alarm "api-latency" created' and "NextToken" in oldest

    cw.disable_alarm_actions(AlarmNames=["api-latency", "api-latency-strict"])
    assert [a["ActionsEnabled"] for a in cw.describe_alarms()["MetricAlarms"]] == [False, False]
    cw.enable_alarm_actions(AlarmNames=["api-latency"])
    assert cw.describe_alarms(AlarmNames=["api-latency"])["MetricAlarms"][0]["ActionsEnabled"] is True

    cw.delete_alarms(AlarmNames=["api-latency", "api-latency-strict", "never-was"])
    assert cw.describe_alarms()["MetricAlarms"] == []
    kinds = {h["HistorySummary"] for h in cw.describe_alarm_history(HistoryItemType="ConfigurationUpdate")["AlarmHistoryItems"]}
    assert 'Alarm "api-latency-strict" deleted' in kinds


def test_alarm_errors(aws):
    cw = aws("cloudwatch")
    put_alarm(cw, "exists")
    with pytest.raises(ClientError) as e:
        cw.set_alarm_state(AlarmName="missing", StateValue="ALARM", StateReason="x")
    assert error_code(e) == "ResourceNotFound" and status(e) == 404
    with pytest.raises(ClientError) as e:
        cw.set_alarm_state(AlarmName="exists", StateValue="ALARM", StateReason="x", StateReasonData="{")
    assert error_code(e) == "InvalidFormat"
    with pytest.raises(ClientError) as e:
        put_alarm(cw, "both", Statistic="Average")
    assert error_code(e) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as e:
        put_alarm(cw, "long", Period=3600, EvaluationPeriods=169)
    assert error_code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        cw.describe_alarms(AlarmNames=["a"], AlarmNamePrefix="a")
    assert error_code(e) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as e:
        cw.list_tags_for_resource(ResourceARN="arn:aws:cloudwatch:%s:%s:alarm:missing" % (REGION, ACCOUNT))
    assert error_code(e) == "ResourceNotFoundException" and status(e) == 404
