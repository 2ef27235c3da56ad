{{/*
Expand the name of the chart.
*/}}
{{- define "stripe-connector.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
We truncate at 63 chars because some Kubernetes name fields are limited to this (by the DNS naming spec).
If release name contains chart name it will be used as a full name.
*/}}
{{- define "stripe-connector.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "stripe-connector.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "stripe-connector.labels" -}}
helm.sh/chart: {{ include "stripe-connector.chart" . }}
{{ include "stripe-connector.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: stripe-connector
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "stripe-connector.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stripe-connector.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Selector labels of the operator pods.
*/}}
{{- define "stripe-connector.operatorSelectorLabels" -}}
{{ include "stripe-connector.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/*
Selector labels of the chart-managed Redis pod.
*/}}
{{- define "stripe-connector.redisSelectorLabels" -}}
{{ include "stripe-connector.selectorLabels" . }}
app.kubernetes.io/component: redis
{{- end }}

{{/*
Create the name of the service account to use
*/}}
{{- define "stripe-connector.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "stripe-connector.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An image reference: repository:tag, the tag defaulting to the chart's appVersion.
Usage: include "stripe-connector.image" (dict "image" .Values.operator.image "context" $)
*/}}
{{- define "stripe-connector.image" -}}
{{- printf "%s:%s" .image.repository (default .context.Chart.AppVersion .image.tag) }}
{{- end }}

{{/*
The Redis URL handed to the operator (and by it to every node).
*/}}
{{- define "stripe-connector.redisUrl" -}}
{{- if .Values.redis.enabled }}
{{- printf "redis://%s-redis.%s.svc.%s:6379" (include "stripe-connector.fullname" .) .Release.Namespace .Values.clusterDomain }}
{{- else }}
{{- required "redis.externalUrl is required when redis.enabled is false" .Values.redis.externalUrl }}
{{- end }}
{{- end }}

{{/*
Pod-level security context meeting Pod Security "restricted".
*/}}
{{- define "stripe-connector.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Container-level security context meeting Pod Security "restricted".
*/}}
{{- define "stripe-connector.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
The operator's permissions on the objects of the namespaces it watches: exactly the calls it makes.
It reads and watches StripeConnections and writes only their status; it creates its children and
server-side applies them (create, patch), and never deletes them (ownerReferences do); it watches
Secrets for API key rotation; it records events through events.k8s.io.
*/}}
{{- define "stripe-connector.watchRules" -}}
{{- /* Exactly operator/src/rbac.rs (`stripe-operator rbac`); tests/python/test_rbac.py compares. */}}
- apiGroups: ["connectors.integration.dev"]
  resources: ["stripeconnections"]
  verbs: ["list", "watch"]
- apiGroups: ["connectors.integration.dev"]
  resources: ["stripeconnections/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["secrets", "configmaps", "services", "serviceaccounts"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/*
The prometheus-adapter rule for the nodes' offered-load gauge.
*/}}
{{- define "stripe-connector.adapterRule" -}}
- seriesQuery: 'stripe_connector_offered_requests_per_second{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace:
        resource: namespace
      pod:
        resource: pod
  name:
    matches: "^stripe_connector_offered_requests_per_second$"
    as: "stripe_connector_offered_requests_per_second"
  metricsQuery: 'sum(avg_over_time(<<.Series>>{<<.LabelMatchers>>}[{{ .Values.prometheusAdapter.rule.window }}])) by (<<.GroupBy>>)'
{{- end }}
