# DNS for a shop, in one configuration (one apply, as the Terraform AWS
# provider waits 15 s on every Route 53 change and 30 s twice on an ALB):
#
# - Route 53: a public zone with A and CNAME records and an alias to an
#   internal ALB, and a private zone in the default VPC with a record of
#   its own.
# - Cloud Map: a private DNS namespace in the default VPC with a service of
#   A records and a custom health check and one instance, and an HTTP
#   namespace with a service, read back by the namespace data source.
# - An ECS service on the EC2 launch type (bridge networking, dynamic host
#   ports) that registers its tasks in a Cloud Map service of SRV records
#   of the namespace, by container name and port: each task's record holds
#   its host port.
# - ECS Service Connect, as the public ECS module's examples write it: an
#   HTTP namespace that is the cluster's default, a service that publishes
#   its port under a client alias, and a client-only service that calls it
#   by that alias.

variable "image" {
  type = string
}

data "aws_vpc" "default" {
  default = true
}

data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }
}

resource "aws_lb" "web" {
  name               = "web-dns"
  internal           = true
  load_balancer_type = "application"
  subnets            = slice(data.aws_subnets.default.ids, 0, 2)
}

resource "aws_route53_zone" "public" {
  name    = "berth-tf.example.com"
  comment = "public zone"
  tags = {
    team = "dns"
  }
}

resource "aws_route53_zone" "private" {
  name = "berth-tf.internal"

  vpc {
    vpc_id = data.aws_vpc.default.id
  }
}

resource "aws_route53_record" "a" {
  zone_id = aws_route53_zone.public.zone_id
  name    = "api.berth-tf.example.com"
  type    = "A"
  ttl     = 300
  records = ["192.0.2.10", "192.0.2.11"]
}

resource "aws_route53_record" "cname" {
  zone_id = aws_route53_zone.public.zone_id
  name    = "www"
  type    = "CNAME"
  ttl     = 60
  records = ["api.berth-tf.example.com"]
}

resource "aws_route53_record" "alias" {
  zone_id = aws_route53_zone.public.zone_id
  name    = "web.berth-tf.example.com"
  type    = "A"

  alias {
    name                   = aws_lb.web.dns_name
    zone_id                = aws_lb.web.zone_id
    evaluate_target_health = true
  }
}

# HTTPS on the ALB with a certificate validated by a DNS record in the
# public zone, as the ACM guide and most public stacks write it.
resource "aws_acm_certificate" "web" {
  domain_name       = "web.berth-tf.example.com"
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "validation" {
  for_each = {
    for dvo in aws_acm_certificate.web.domain_validation_options : dvo.domain_name => {
      name   = dvo.resource_record_name
      record = dvo.resource_record_value
      type   = dvo.resource_record_type
    }
  }

  allow_overwrite = true
  name            = each.value.name
  records         = [each.value.record]
  ttl             = 60
  type            = each.value.type
  zone_id         = aws_route53_zone.public.zone_id
}

resource "aws_acm_certificate_validation" "web" {
  certificate_arn         = aws_acm_certificate.web.arn
  validation_record_fqdns = [for record in aws_route53_record.validation : record.fqdn]
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.web.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = aws_acm_certificate_validation.web.certificate_arn

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "web"
      status_code  = "200"
    }
  }
}

resource "aws_route53_record" "db" {
  zone_id = aws_route53_zone.private.zone_id
  name    = "db.berth-tf.internal"
  type    = "A"
  ttl     = 30
  records = ["10.0.0.5"]
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

# Bridge tasks are registered with SRV records: the host's address alone
# would not say which task a port belongs to.
resource "aws_service_discovery_service" "api" {
  name = "api"
  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.internal.id
    routing_policy = "MULTIVALUE"
    dns_records {
      ttl  = 10
      type = "SRV"
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_ecs_cluster" "shop" {
  name = "shop"

  service_connect_defaults {
    namespace = aws_service_discovery_http_namespace.connect.arn
  }
}

resource "aws_service_discovery_http_namespace" "connect" {
  name        = "shop.connect"
  description = "Service Connect for the shop"
}

resource "aws_ecs_task_definition" "connect" {
  for_each = toset(["backend", "frontend"])

  family                   = each.key
  requires_compatibilities = ["EC2"]
  network_mode             = "bridge"

  container_definitions = jsonencode([{
    name        = each.key
    image       = var.image
    memory      = 64
    essential   = true
    environment = [{ name = "APP_NAME", value = each.key }]
    portMappings = [{
      name          = "http"
      containerPort = 8080
      hostPort      = 0
      protocol      = "tcp"
      appProtocol   = "http"
    }]
  }])
}

resource "aws_ecs_service" "backend" {
  name            = "backend"
  cluster         = aws_ecs_cluster.shop.id
  task_definition = aws_ecs_task_definition.connect["backend"].arn
  desired_count   = 2
  launch_type     = "EC2"

  service_connect_configuration {
    enabled   = true
    namespace = aws_service_discovery_http_namespace.connect.arn

    service {
      discovery_name = "backend"
      port_name      = "http"

      client_alias {
        dns_name = "backend.shop"
        port     = 8080
      }
    }
  }

  wait_for_steady_state = true
}

# A client only: it publishes nothing, and calls backend.shop:8080.
resource "aws_ecs_service" "frontend" {
  name            = "frontend"
  cluster         = aws_ecs_cluster.shop.id
  task_definition = aws_ecs_task_definition.connect["frontend"].arn
  desired_count   = 1
  launch_type     = "EC2"

  service_connect_configuration {
    enabled   = true
    namespace = aws_service_discovery_http_namespace.connect.arn
  }

  wait_for_steady_state = true
  depends_on            = [aws_ecs_service.backend]
}

resource "aws_ecs_task_definition" "api" {
  family                   = "api"
  requires_compatibilities = ["EC2"]
  network_mode             = "bridge"

  container_definitions = jsonencode([{
    name         = "api"
    image        = var.image
    memory       = 64
    essential    = true
    environment  = [{ name = "APP_NAME", value = "api" }]
    portMappings = [{ containerPort = 8080, hostPort = 0, protocol = "tcp" }]
  }])
}

resource "aws_ecs_service" "api" {
  name            = "api"
  cluster         = aws_ecs_cluster.shop.id
  task_definition = aws_ecs_task_definition.api.arn
  desired_count   = 2
  launch_type     = "EC2"

  service_registries {
    registry_arn   = aws_service_discovery_service.api.arn
    container_name = "api"
    container_port = 8080
  }

  wait_for_steady_state = true
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

output "public_zone_id" {
  value = aws_route53_zone.public.zone_id
}

output "name_servers" {
  value = join(",", aws_route53_zone.public.name_servers)
}

output "alias_fqdn" {
  value = aws_route53_record.alias.fqdn
}

output "lb_zone_id" {
  value = aws_lb.web.zone_id
}

output "validation_fqdn" {
  value = one([for record in aws_route53_record.validation : record.fqdn])
}

output "validation_target" {
  value = one([for record in aws_route53_record.validation : one(record.records)])
}
