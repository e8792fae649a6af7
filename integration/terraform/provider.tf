# The provider block a user points at berth: every service at one endpoint,
# and the checks that would reach AWS itself turned off. The tests copy this
# file into each configuration.
variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:4566"
}

variable "region" {
  type    = string
  default = "us-east-1"
}

provider "aws" {
  region                      = var.region
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = false

  endpoints {
    applicationautoscaling = var.endpoint
    autoscaling            = var.endpoint
    ec2                    = var.endpoint
    ecs                    = var.endpoint
    elbv2                  = var.endpoint
    iam                    = var.endpoint
    sts                    = var.endpoint
    cloudwatch             = var.endpoint
    cloudwatchlogs         = var.endpoint
    secretsmanager         = var.endpoint
    ssm                    = var.endpoint
    servicediscovery       = var.endpoint
    route53                = var.endpoint
    acm                    = var.endpoint
  }
}

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}
