# The Stripe connector's example connection through Terraform's kubernetes provider. The CRD must already be
# installed (helm install ... charts/stripe-connector): kubernetes_manifest reads it at plan time.

locals {
  api_key_secret        = "${var.connection_name}-api-key"
  proxy_password_secret = "${var.connection_name}-proxy-password"
  proxy_needs_password  = var.proxy_enabled && var.proxy_auth_scheme != "NONE"

  # Optional fields are left out (null entries are filtered) rather than sent empty.
  proxy = var.proxy_enabled ? { for k, v in {
    enabled    = true
    authScheme = var.proxy_auth_scheme
    user       = var.proxy_user == "" ? null : var.proxy_user
    passwordSecretRef = local.proxy_needs_password ? {
      name = local.proxy_password_secret
      key  = "password"
    } : null
    sslType = var.proxy_ssltype
    host    = var.proxy_host
    port    = var.proxy_port
  } : k => v if v != null } : null

  spec = { for k, v in {
    connectorVersion = var.connector_version
    description      = var.description == "" ? null : var.description
    accountId        = var.account_id == "" ? null : var.account_id
    auth = {
      apiKeySecretRef = {
        name = local.api_key_secret
        key  = "api-key"
      }
    }
    logging = {
      enabled = var.logging_enabled
    }
    verbosity = var.verbosity
    nodes = {
      min = var.min_nodes
      max = var.max_nodes
    }
    proxy  = local.proxy
    labels = length(var.labels) == 0 ? null : var.labels
  } : k => v if v != null }
}

resource "kubernetes_secret" "api_key" {
  metadata {
    name      = local.api_key_secret
    namespace = var.namespace
    labels = {
      "app.kubernetes.io/part-of" = "stripe-connector"
    }
  }

  data = {
    "api-key" = var.api_key
  }
}

resource "kubernetes_secret" "proxy_password" {
  count = local.proxy_needs_password ? 1 : 0

  metadata {
    name      = local.proxy_password_secret
    namespace = var.namespace
    labels = {
      "app.kubernetes.io/part-of" = "stripe-connector"
    }
  }

  data = {
    password = var.proxy_password
  }
}

resource "kubernetes_manifest" "connection" {
  manifest = {
    apiVersion = "connectors.integration.dev/v1"
    kind       = "StripeConnection"
    metadata = {
      name      = var.connection_name
      namespace = var.namespace
    }
    spec = local.spec
  }

  # Terraform finishes when the operator reports the connection Ready.
  wait {
    condition {
      type   = "Ready"
      status = "True"
    }
  }

  timeouts {
    create = "10m"
    update = "10m"
    delete = "5m"
  }

  lifecycle {
    precondition {
      condition     = var.min_nodes >= 1 && var.min_nodes <= var.max_nodes
      error_message = "min_nodes must be at least 1 and at most max_nodes."
    }
    precondition {
      condition     = !var.proxy_enabled || var.proxy_host != ""
      error_message = "proxy_host is required when proxy_enabled is true."
    }
    precondition {
      condition     = !local.proxy_needs_password || (var.proxy_user != "" && var.proxy_password != "")
      error_message = "proxy_user and proxy_password are required when proxy_auth_scheme is BASIC or DIGEST."
    }
    precondition {
      condition     = !var.proxy_enabled || var.proxy_ssltype != "NEVER"
      error_message = "proxy_ssltype NEVER is refused by the operator: the nodes call Stripe over https and NEVER would send the API key to the proxy in clear text; use AUTO, TUNNEL or ALWAYS."
    }
  }

  depends_on = [kubernetes_secret.api_key, kubernetes_secret.proxy_password]
}
