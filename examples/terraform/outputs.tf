output "endpoint" {
  description = "In-cluster URL of the connection's node API."
  value       = "http://${var.connection_name}.${var.namespace}.svc:8080"
}

output "client_token_secret" {
  description = "Secret (key \"token\") holding the bearer token callers send to the nodes."
  value       = "${var.connection_name}-client-token"
}
