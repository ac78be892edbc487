{{/*
The mesh's components and who calls whom. The NetworkPolicies, the *_ADDR variables and the Envoy clusters all
come from this one table; scripts/k8s/network-policy.test.ts checks it against the services' own configuration.
*/}}
{{- define "flash-sale.components" -}}
gateway:   { port: 8080,  http: true, calls: [promotion, inventory, order, payment], infrastructure: [redis] }
promotion: { port: 50051, http: false, calls: [inventory], infrastructure: [redis, postgres] }
inventory: { port: 50052, http: false, calls: [], infrastructure: [redis, postgres, kafka] }
order:     { port: 50053, http: false, calls: [inventory], infrastructure: [redis, postgres, kafka] }
payment:   { port: 50054, http: false, calls: [order], infrastructure: [redis, postgres, kafka] }
{{- end }}

{{- define "flash-sale.services" -}}
[promotion, inventory, order, payment]
{{- end }}

{{- define "flash-sale.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{/* Labels of every object; "component" is given by the caller: (dict "root" $ "component" "gateway") */}}
{{- define "flash-sale.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "flash-sale.selectorLabels" . }}
{{- end }}

{{- define "flash-sale.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "flash-sale.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.repository .component (.root.Values.image.tag | default .root.Chart.AppVersion) -}}
{{- end }}

{{/* host:port of a component's Service; with "headless" true, of its headless twin, whose name resolves to the
ready pods (what gRPC callers are given) */}}
{{- define "flash-sale.address" -}}
{{- $components := include "flash-sale.components" .root | fromYaml -}}
{{- printf "%s-%s%s:%v" (include "flash-sale.fullname" .root) .component (ternary "-headless" "" (default false .headless)) (get (get $components .component) "port") -}}
{{- end }}

{{- define "flash-sale.secretName" -}}
{{- printf "%s-secrets" (include "flash-sale.fullname" .) -}}
{{- end }}

{{- define "flash-sale.jwtSecretName" -}}
{{- .Values.auth.existingSecret | default (include "flash-sale.secretName" .) -}}
{{- end }}

{{- define "flash-sale.databaseSecretName" -}}
{{- .Values.infrastructure.postgres.existingSecret | default (include "flash-sale.secretName" .) -}}
{{- end }}

{{/* Secret data: one database URL per service (the role's schema has the role's name), for the release's Secret
and the migration hook's. */}}
{{- define "flash-sale.databaseUrls" -}}
{{- $pg := .Values.infrastructure.postgres -}}
{{- range $service := include "flash-sale.services" . | fromYamlArray }}
{{- $user := get $pg.users $service }}
{{ $service }}-database-url: {{ printf "postgresql://%s:%s@%s:%v/%s?schema=%s" (urlquery $user.user) (urlquery $user.password) $pg.host $pg.port $pg.database $user.user | b64enc | quote }}
{{- end }}
{{- end }}

{{/* The Secret's data: the database URLs, and the JWT secret (random, kept across upgrades). */}}
{{- define "flash-sale.secretData" -}}
{{- if not .Values.infrastructure.postgres.existingSecret }}
{{- include "flash-sale.databaseUrls" . }}
{{- end }}
{{- if not .Values.auth.existingSecret }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "flash-sale.secretName" .) }}
{{- $kept := "" }}
{{- if and $existing $existing.data }}{{ $kept = index $existing.data "jwt-secret" | default "" }}{{ end }}
jwt-secret: {{ if .Values.auth.jwtSecret }}{{ .Values.auth.jwtSecret | b64enc | quote }}{{ else if $kept }}{{ $kept | quote }}{{ else }}{{ randAlphaNum 48 | b64enc | quote }}{{ end }}
{{- end }}
{{- end }}

{{/* Pod security settings shared by every pod of the chart. */}}
{{- define "flash-sale.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "flash-sale.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
{{- end }}

{{/* Variables every process of the mesh reads (services, Jobs). */}}
{{- define "flash-sale.commonEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: OTEL_SERVICE_NAME
  value: {{ .component | quote }}
{{- end }}
