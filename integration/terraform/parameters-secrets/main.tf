# An application's configuration as teams keep it: settings in SSM
# Parameter Store (plain, list and encrypted, one an AMI id checked as
# such), credentials in Secrets Manager with a resource policy, and the
# data sources other stacks read them back with, the AWS public
# parameters included.

variable "name" {
  type    = string
  default = "billing"
}

data "aws_caller_identity" "current" {}

resource "aws_ssm_parameter" "log_level" {
  name        = "/${var.name}/log-level"
  description = "Log level of the billing workers"
  type        = "String"
  value       = "info"

  tags = {
    team = "payments"
  }
}

resource "aws_ssm_parameter" "allowed_origins" {
  name  = "/${var.name}/allowed-origins"
  type  = "StringList"
  value = "https://a.example.com,https://b.example.com"
}

resource "aws_ssm_parameter" "stripe_key" {
  name  = "/${var.name}/stripe-key"
  type  = "SecureString"
  tier  = "Advanced"
  value = "sk_test_51H8x"
}

data "aws_ssm_parameter" "ecs_ami" {
  name = "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id"
}

data "aws_ssm_parameter" "ecs_ami_document" {
  name = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended"
}

resource "aws_ssm_parameter" "worker_ami" {
  name      = "/${var.name}/worker-ami"
  type      = "String"
  data_type = "aws:ec2:image"
  value     = data.aws_ssm_parameter.ecs_ami.value
}

resource "aws_secretsmanager_secret" "db" {
  name_prefix             = "${var.name}-db-"
  description             = "Billing database credentials"
  recovery_window_in_days = 7

  tags = {
    team = "payments"
  }
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id = aws_secretsmanager_secret.db.id
  secret_string = jsonencode({
    username = "billing"
    password = "correct-horse-battery"
    port     = 5432
  })
}

resource "aws_secretsmanager_secret_policy" "db" {
  secret_arn = aws_secretsmanager_secret.db.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "secretsmanager:GetSecretValue"
      Resource  = "*"
    }]
  })
}

data "aws_ssm_parameter" "stripe_key" {
  name = aws_ssm_parameter.stripe_key.name
}

data "aws_ssm_parameters_by_path" "billing" {
  path       = "/${var.name}"
  depends_on = [aws_ssm_parameter.log_level, aws_ssm_parameter.allowed_origins, aws_ssm_parameter.stripe_key, aws_ssm_parameter.worker_ami]
}

data "aws_secretsmanager_secret" "db" {
  arn = aws_secretsmanager_secret.db.arn
}

data "aws_secretsmanager_secret_version" "db" {
  secret_id     = aws_secretsmanager_secret.db.id
  version_stage = "AWSCURRENT"
  depends_on    = [aws_secretsmanager_secret_version.db]
}

output "db_username" {
  value     = jsondecode(data.aws_secretsmanager_secret_version.db.secret_string)["username"]
  sensitive = true
}

output "db_secret_name" {
  value = data.aws_secretsmanager_secret.db.name
}

output "stripe_key" {
  value     = data.aws_ssm_parameter.stripe_key.value
  sensitive = true
}

output "parameter_names" {
  value = join(",", sort(data.aws_ssm_parameters_by_path.billing.names))
}

output "ami" {
  value     = data.aws_ssm_parameter.ecs_ami.value
  sensitive = true
}

output "ami_from_document" {
  value     = jsondecode(data.aws_ssm_parameter.ecs_ami_document.value)["image_id"]
  sensitive = true
}
