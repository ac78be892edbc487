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

{{/*
Where each credential comes from. Every one can come from a Secret the user manages (existingSecret,
passwordsSecret): then the chart renders none, and `helm template` renders (GitOps tools) are the same each time.
Given as values, credentials go to the release's Secret, never to a ConfigMap or an env value.
*/}}

{{/* The services whose database password is given as a value (users.<service>.password), as a YAML list. */}}
{{- define "flash-sale.inlineDatabasePasswords" -}}
{{- $pg := .Values.infrastructure.postgres -}}
{{- $inline := list -}}
{{- if not $pg.existingSecret }}
{{- range $service := include "flash-sale.services" . | fromYamlArray }}
{{- $user := get $pg.users $service }}
{{- if and $user.password $pg.passwordsSecret }}
{{- fail (printf "infrastructure.postgres: users.%s.password and passwordsSecret are both set; give the password one way" $service) }}
{{- end }}
{{- if and (not $user.password) (not $pg.passwordsSecret) }}
{{- fail (printf "infrastructure.postgres: no password for %s; set existingSecret, passwordsSecret or users.%s.password" $service $service) }}
{{- end }}
{{- if $user.password }}{{ $inline = append $inline $service }}{{ end }}
{{- end }}
{{- end }}
{{- toYaml $inline }}
{{- end }}

{{/* Secret data: the database passwords given as values (for the release's Secret and the migration hook's). */}}
{{- define "flash-sale.databasePasswords" -}}
{{- range $service := include "flash-sale.inlineDatabasePasswords" . | fromYamlArray }}
{{ $service }}-database-password: {{ (get $.Values.infrastructure.postgres.users $service).password | b64enc | quote }}
{{- end }}
{{- end }}

{{/*
A service's DATABASE_URL, and DATABASE_PASSWORD from a Secret: (dict "root" $ "service" "order" "secret" name), where
"secret" is the Secret holding the passwords given as values (the release's, or the migration hook's).
*/}}
{{- define "flash-sale.databaseEnv" -}}
{{- $pg := .root.Values.infrastructure.postgres -}}
{{- if $pg.existingSecret }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $pg.existingSecret }}
      key: {{ .service }}-database-url
{{- else }}
{{- $user := get $pg.users .service }}
- name: DATABASE_URL
  value: {{ printf "postgresql://%s@%s:%v/%s?schema=%s" (urlquery $user.user) $pg.host $pg.port $pg.database $user.user | quote }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      {{- if $user.password }}
      name: {{ .secret }}
      key: {{ .service }}-database-password
      {{- else }}
      name: {{ $pg.passwordsSecret }}
      key: {{ $user.user }}-password
      {{- end }}
{{- end }}
{{- end }}

{{/* REDIS_USERNAME and REDIS_PASSWORD, when Redis wants them. */}}
{{- define "flash-sale.redisEnv" -}}
{{- $redis := .Values.infrastructure.redis -}}
{{- with $redis.username }}
- name: REDIS_USERNAME
  value: {{ . | quote }}
{{- end }}
{{- if or $redis.existingSecret $redis.password }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      {{- if $redis.existingSecret }}
      name: {{ $redis.existingSecret }}
      key: {{ $redis.existingSecretKey }}
      {{- else }}
      name: {{ include "flash-sale.secretName" . }}
      key: redis-password
      {{- end }}
{{- end }}
{{- end }}

{{/* The release Secret's data: the JWT secret (random, kept across upgrades) and the credentials given as values. */}}
{{- define "flash-sale.secretData" -}}
{{- include "flash-sale.databasePasswords" . }}
{{- $redis := .Values.infrastructure.redis }}
{{- if and $redis.existingSecret $redis.password }}
{{- fail "infrastructure.redis: existingSecret and password are both set; give the password one way" }}
{{- end }}
{{- if $redis.password }}
redis-password: {{ $redis.password | b64enc | quote }}
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
