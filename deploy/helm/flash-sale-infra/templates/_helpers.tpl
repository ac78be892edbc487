{{- define "infra.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{- define "infra.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "infra.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{ include "infra.selectorLabels" . }}
{{- end }}

{{- define "infra.credentialsSecret" -}}
{{- .Values.credentials.existingSecret | default (printf "%s-credentials" (include "infra.fullname" .)) -}}
{{- end }}

{{/* An environment variable from a key of the credentials Secret: (dict "root" $ "name" "REDIS_PASSWORD" "key" "redis") */}}
{{- define "infra.credentialEnv" -}}
{{- dict "name" .name "valueFrom" (dict "secretKeyRef" (dict "name" (include "infra.credentialsSecret" .root) "key" (printf "%s-password" .key))) | toJson -}}
{{- end }}
