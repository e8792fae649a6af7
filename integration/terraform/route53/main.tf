# DNS for a service: a public zone with A and CNAME records and an alias
# to an internal ALB, and a private zone in the default VPC with a record
# of its own.

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

resource "aws_route53_record" "db" {
  zone_id = aws_route53_zone.private.zone_id
  name    = "db.berth-tf.internal"
  type    = "A"
  ttl     = 30
  records = ["10.0.0.5"]
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
