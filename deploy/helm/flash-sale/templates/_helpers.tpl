{{/*
The mesh's components. Who calls whom is not written here: "calls" comes from files/access-policy.yaml (see
flash-sale.callGraph), and the NetworkPolicies, the *_ADDR variables and the Envoy clusters all follow it;
deploy/test/network-policy.test.ts checks them against the allow-list, the design and the services' configuration.
"metrics": the plaintext HTTP port of /metrics, /healthz and /readyz (kubelet's probes cannot present a certificate).
*/}}
{{- define "flash-sale.components" -}}
{{- $graph := include "flash-sale.callGraph" . | fromYaml -}}
gateway:   { port: 8080,  http: true, calls: {{ get $graph "gateway" | default list | toJson }}, infrastructure: [redis] }
promotion: { port: 50051, http: false, metrics: 9090, calls: {{ get $graph "promotion" | default list | toJson }}, infrastructure: [redis, postgres] }
inventory: { port: 50052, http: false, metrics: 9090, calls: {{ get $graph "inventory" | default list | toJson }}, infrastructure: [redis, postgres, kafka] }
order:     { port: 50053, http: false, metrics: 9090, calls: {{ get $graph "order" | default list | toJson }}, infrastructure: [redis, postgres, kafka] }
payment:   { port: 50054, http: false, metrics: 9090, calls: {{ get $graph "payment" | default list | toJson }}, infrastructure: [redis, postgres, kafka] }
{{- end }}

{{/*
Who calls whom, from the allow-list: a workload calls another when it is among the callers of any of that one's
methods, and the fronts (gateway, Envoy) call every workload that has a public method. YAML: caller -> [callees].
*/}}
{{- define "flash-sale.callGraph" -}}
{{- $policy := .Files.Get "files/access-policy.yaml" | fromYaml -}}
{{- if or (hasKey $policy "Error") (not $policy.services) -}}
{{- fail (printf "files/access-policy.yaml is not a readable allow-list: %v" (get $policy "Error")) -}}
{{- end -}}
{{- $workloads := list "gateway" "envoy" "promotion" "inventory" "order" "payment" -}}
{{- $calls := dict -}}
{{- range $service, $s := $policy.services }}
{{- if not (has $s.workload $workloads) }}{{ fail (printf "access-policy.yaml: %s: unknown workload %v" $service $s.workload) }}{{ end }}
{{- range $method, $m := $s.methods }}
{{- $callers := list }}
{{- if and $m $m.public }}{{ $callers = concat $callers $policy.fronts }}{{ end }}
{{- if and $m $m.callers }}{{ $callers = concat $callers $m.callers }}{{ end }}
{{- range $caller := $callers }}
{{- if not (has $caller $workloads) }}{{ fail (printf "access-policy.yaml: %s/%s: unknown caller %v" $service $method $caller) }}{{ end }}
{{- $_ := set $calls $caller (append (get $calls $caller | default list) $s.workload | uniq | sortAlpha) }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml $calls }}
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

{{/*
Where each workload's certificate comes from, as YAML: mtls (true: mTLS between the workloads), certManager (cert-manager
issues every certificate), job (the hook Job issues them instead), workloads (those with a certificate), doorSecret
(the gRPC door's server certificate) and issueDoor (the chart issues that one too, not the user).
*/}}
{{- define "flash-sale.tls" -}}
{{- $m := .Values.mtls -}}
{{- $on := has (toString $m.mode) (list "on" "true") -}}
{{- $certManager := or $m.certManager.enabled (not (empty $m.certManager.issuerRef)) -}}
{{- $door := .Values.gateway.grpcDoor -}}
{{- if le (int $m.days) (int $m.renewDays) }}{{ fail "mtls.renewDays must be less than mtls.days" }}{{ end -}}
{{- if le (int $m.caDays) (add $m.days $m.renewDays | int) }}{{ fail "mtls.caDays must exceed mtls.days + mtls.renewDays: the CA outlives every certificate it signs" }}{{ end -}}
mtls: {{ $on }}
certManager: {{ $certManager }}
job: {{ and (not $certManager) (or $on (not $door.existingSecret)) }}
workloads: {{ concat (list "gateway" "promotion" "inventory" "order" "payment") (.Values.envoy.enabled | ternary (list "envoy") list) | toJson }}
doorSecret: {{ $door.existingSecret | default (printf "%s-front-door-tls" (include "flash-sale.fullname" .)) | quote }}
issueDoor: {{ not $door.existingSecret }}
{{- end }}

{{/* A workload's SPIFFE ID: its ServiceAccount, <fullname>-<component>, in the release's namespace. */}}
{{- define "flash-sale.spiffeId" -}}
{{- printf "spiffe://%s/ns/%s/sa/%s-%s" .root.Values.mtls.trustDomain .root.Release.Namespace (include "flash-sale.fullname" .root) .component -}}
{{- end }}

{{/* The names the gRPC door's issued certificate holds: the gateway Service's, then the user's. */}}
{{- define "flash-sale.doorDnsNames" -}}
{{- $service := printf "%s-gateway" (include "flash-sale.fullname" .) -}}
{{- $ns := .Release.Namespace -}}
{{- concat (list $service (printf "%s.%s" $service $ns) (printf "%s.%s.svc" $service $ns) (printf "%s.%s.svc.cluster.local" $service $ns)) .Values.gateway.grpcDoor.dnsNames | uniq | toJson -}}
{{- end }}
