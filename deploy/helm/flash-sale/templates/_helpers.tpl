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
