variable "region" {
  description = "The region the cluster runs in."
  type        = string
  default     = "eu-central-1"
}

variable "ami_id" {
  description = "A Debian 12 or 13 image (the collection's platform), e.g. Debian's official cloud image."
  type        = string
}

variable "subnet_id" {
  description = "The private subnet every host is placed in."
  type        = string
}

variable "key_name" {
  description = "The EC2 key pair the admin logs in with (the server role then manages admin keys)."
  type        = string
}

variable "cluster_name" {
  description = "The PostgreSQL cluster's name: the groundwork:cluster tag, pgBackRest's stanza (lower-case letters, digits, _ and -)."
  type        = string
  default     = "main"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_-]{0,62}$", var.cluster_name))
    error_message = "A cluster name is lower-case letters, digits, _ and -, starting with a letter, at most 63 characters."
  }
}

variable "replica_count" {
  description = "Streaming replicas beside the primary."
  type        = number
  default     = 2
}

variable "instance_type" {
  description = "The instance type of the database hosts."
  type        = string
  default     = "m6i.large"
}

variable "support_instance_type" {
  description = "The instance type of the repository and monitoring hosts."
  type        = string
  default     = "t3.medium"
}
