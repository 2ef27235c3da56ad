# The Stripe connector's connection settings as Terraform variables.

variable "kubeconfig_path" {
  description = "Kubeconfig of the cluster where the stripe-connector chart is installed."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "Kubeconfig context to use (null: the current context)."
  type        = string
  default     = null
}

variable "namespace" {
  description = "Namespace of the connection (the operator must watch it)."
  type        = string
  default     = "default"
}

variable "connection_name" {
  description = "Connection name: lowercase letters, digits and hyphens, starting with a letter, ending with a letter or digit, at most 49 characters."
  type        = string
  default     = "stripe-connection"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$", var.connection_name))
    error_message = "connection_name: lowercase letters, digits and hyphens, start with a letter, end with a letter or digit, at most 49 characters."
  }
}

variable "description" {
  description = "Optional description of the connection."
  type        = string
  default     = ""
}

variable "connector_version" {
  description = "Connector version."
  type        = string
  default     = "1"
}

variable "api_key" {
  description = "Stripe API key (sk_live_... or sk_test_...), stored in a Kubernetes Secret."
  type        = string
  sensitive   = true
}

variable "account_id" {
  description = "Stripe account to act for (sent as the Stripe-Account header); empty for the key's own account."
  type        = string
  default     = ""
}

variable "verbosity" {
  description = "How much of each Stripe exchange is logged, 1 to 5 (5: everything but secrets)."
  type        = number
  default     = 5

  validation {
    condition     = var.verbosity >= 1 && var.verbosity <= 5 && floor(var.verbosity) == var.verbosity
    error_message = "verbosity must be a whole number from 1 to 5."
  }
}

variable "logging_enabled" {
  description = "Whether the nodes log at all."
  type        = bool
  default     = true
}

variable "min_nodes" {
  description = "Minimum number of connection nodes."
  type        = number
  default     = 2
}

variable "max_nodes" {
  description = "Maximum number of connection nodes."
  type        = number
  default     = 50

  validation {
    condition     = var.max_nodes >= 1 && var.max_nodes <= 50
    error_message = "max_nodes must be from 1 to 50."
  }
}

variable "proxy_enabled" {
  description = "Send the nodes' outbound traffic through a proxy."
  type        = bool
  default     = false
}

variable "proxy_auth_scheme" {
  description = "Proxy authentication: BASIC, DIGEST or NONE."
  type        = string
  default     = "NONE"

  validation {
    condition     = contains(["NONE", "BASIC", "DIGEST"], var.proxy_auth_scheme)
    error_message = "proxy_auth_scheme must be NONE, BASIC or DIGEST."
  }
}

variable "proxy_user" {
  description = "User name for the proxy."
  type        = string
  default     = ""
}

variable "proxy_password" {
  description = "Password for the proxy, stored in a Kubernetes Secret."
  type        = string
  default     = ""
  sensitive   = true
}

variable "proxy_ssltype" {
  description = "SSL type towards the proxy: AUTO, ALWAYS or TUNNEL (NEVER is in the CRD enum but refused while the proxy is enabled)."
  type        = string
  default     = "AUTO"

  validation {
    condition     = contains(["AUTO", "ALWAYS", "NEVER", "TUNNEL"], var.proxy_ssltype)
    error_message = "proxy_ssltype must be AUTO, ALWAYS, NEVER or TUNNEL."
  }
}

variable "proxy_host" {
  description = "Host name or address of the proxy server."
  type        = string
  default     = ""
}

variable "proxy_port" {
  description = "Port of the proxy server."
  type        = number
  default     = 3128
}

variable "labels" {
  description = "Labels copied to every object of the connection."
  type        = map(string)
  default     = {}
}
