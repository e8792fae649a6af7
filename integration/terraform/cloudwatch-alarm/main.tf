# Alarms as teams write them for an ECS service behind an ALB: CPU high
# (M out of N, missing data not breaching), a p99 latency alarm, and a
# 5XX error rate computed with metric math; tags on each, actions to an
# SNS topic (which berth records as not run).

variable "name" {
  type    = string
  default = "web"
}

data "aws_caller_identity" "current" {}

locals {
  topic = "arn:aws:sns:${var.region}:${data.aws_caller_identity.current.account_id}:${var.name}-alerts"
  tags = {
    team        = "platform"
    environment = "staging"
  }
}

resource "aws_cloudwatch_metric_alarm" "cpu_high" {
  alarm_name          = "${var.name}-cpu-high"
  alarm_description   = "CPU of ${var.name} at or above 80% for 2 of 3 minutes"
  namespace           = "AWS/ECS"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = 80
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.topic]
  ok_actions          = [local.topic]

  dimensions = {
    ClusterName = "staging"
    ServiceName = var.name
  }

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "latency_p99" {
  alarm_name          = "${var.name}-latency-p99"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1.5
  comparison_operator = "GreaterThanThreshold"
  unit                = "Seconds"
  actions_enabled     = false
  alarm_actions       = [local.topic]

  dimensions = {
    LoadBalancer = "app/${var.name}/50dc6c495c0c9188"
  }

  tags = merge(local.tags, { severity = "page" })
}

resource "aws_cloudwatch_metric_alarm" "error_rate" {
  alarm_name                = "${var.name}-5xx-rate"
  alarm_description         = "More than 5% of requests answered 5XX"
  comparison_operator       = "GreaterThanThreshold"
  evaluation_periods        = 2
  threshold                 = 5
  treat_missing_data        = "ignore"
  alarm_actions             = [local.topic]
  insufficient_data_actions = []

  metric_query {
    id          = "rate"
    expression  = "100 * errors / requests"
    label       = "5XX rate (%)"
    return_data = true
  }

  metric_query {
    id = "requests"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      period      = 60
      stat        = "Sum"
      unit        = "Count"

      dimensions = {
        LoadBalancer = "app/${var.name}/50dc6c495c0c9188"
      }
    }
  }

  metric_query {
    id = "errors"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      period      = 60
      stat        = "Sum"
      unit        = "Count"

      dimensions = {
        LoadBalancer = "app/${var.name}/50dc6c495c0c9188"
      }
    }
  }

  tags = local.tags
}

output "cpu_alarm_arn" {
  value = aws_cloudwatch_metric_alarm.cpu_high.arn
}

output "error_rate_alarm" {
  value = aws_cloudwatch_metric_alarm.error_rate.alarm_name
}
