# A PostgreSQL primary with streaming replicas, a pgBackRest repository host and a monitoring host
# (which also collects the fleet's logs), tagged with groundwork.infra's scheme so that the
# groundwork.infra.ec2 inventory plugin places them in the collection's groups (README: Inventory
# groups): site.yml then runs against them unchanged. Security groups, volumes and IAM are the
# account's own; the collection's hardening role runs the host firewall.

resource "aws_instance" "pg_primary" {
  ami           = var.ami_id
  instance_type = var.instance_type
  subnet_id     = var.subnet_id
  key_name      = var.key_name

  tags = {
    Name                 = "${var.cluster_name}-pg1"
    "groundwork:roles"   = "postgresql"
    "groundwork:pg_role" = "primary"
    "groundwork:cluster" = var.cluster_name
  }
}

resource "aws_instance" "pg_replica" {
  count         = var.replica_count
  ami           = var.ami_id
  instance_type = var.instance_type
  subnet_id     = var.subnet_id
  key_name      = var.key_name

  tags = {
    Name                 = "${var.cluster_name}-pg${count.index + 2}"
    "groundwork:roles"   = "postgresql"
    "groundwork:pg_role" = "replica"
    "groundwork:cluster" = var.cluster_name
  }
}

resource "aws_instance" "backup_repository" {
  ami           = var.ami_id
  instance_type = var.support_instance_type
  subnet_id     = var.subnet_id
  key_name      = var.key_name

  tags = {
    Name               = "${var.cluster_name}-backup1"
    "groundwork:roles" = "backup_repository"
  }
}

resource "aws_instance" "monitoring" {
  ami           = var.ami_id
  instance_type = var.support_instance_type
  subnet_id     = var.subnet_id
  key_name      = var.key_name

  tags = {
    Name               = "mon1"
    "groundwork:roles" = "monitoring,log_collector"
  }
}
