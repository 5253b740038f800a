output "primary_private_ip" {
  description = "The primary's address (the inventory plugin names hosts by their Name tag)."
  value       = aws_instance.pg_primary.private_ip
}

output "replica_private_ips" {
  description = "The replicas' addresses."
  value       = aws_instance.pg_replica[*].private_ip
}
