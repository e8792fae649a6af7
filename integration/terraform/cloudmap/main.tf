# Cloud Map: a private DNS namespace in the default VPC with a service of
# A records and a custom health check and one instance, and an HTTP
# namespace with a service, read back by the namespace data source.
data "aws_vpc" "default" {
  default = true
}

resource "aws_service_discovery_private_dns_namespace" "internal" {
  name        = "internal.example"
  description = "service discovery for the shop"
  vpc         = data.aws_vpc.default.id
  tags = {
    team = "shop"
  }
}

resource "aws_service_discovery_service" "orders" {
  name = "orders"
  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.internal.id
    routing_policy = "MULTIVALUE"
    dns_records {
      ttl  = 10
      type = "A"
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_service_discovery_instance" "orders_1" {
  instance_id = "orders-1"
  service_id  = aws_service_discovery_service.orders.id
  attributes = {
    AWS_INSTANCE_IPV4 = "10.0.7.1"
    stage             = "prod"
  }
}

resource "aws_service_discovery_http_namespace" "jobs" {
  name = "jobs"
}

resource "aws_service_discovery_service" "worker" {
  name         = "worker"
  namespace_id = aws_service_discovery_http_namespace.jobs.id
}

data "aws_service_discovery_dns_namespace" "internal" {
  name = aws_service_discovery_private_dns_namespace.internal.name
  type = "DNS_PRIVATE"
}

output "hosted_zone" {
  value = aws_service_discovery_private_dns_namespace.internal.hosted_zone
}

output "looked_up" {
  value = data.aws_service_discovery_dns_namespace.internal.id == aws_service_discovery_private_dns_namespace.internal.id
}

output "orders_arn" {
  value = aws_service_discovery_service.orders.arn
}

output "http_name" {
  value = aws_service_discovery_http_namespace.jobs.http_name
}
