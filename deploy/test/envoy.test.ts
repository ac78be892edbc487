/**
 * The Envoy front as the chart renders it. Its configuration itself is checked by scripts/check-envoy.sh (only public
 * methods routed, a token on every route, mTLS upstreams); here, that the chart wires it: Envoy runs as the account
 * its own SPIFFE ID names, mounts its certificate where the SDS files read it, and pins for each service the
 * identity of the account that service's pods really run as.
 */
import path from 'node:path';
import { parse } from 'yaml';
import { chart, template, type K8sObject } from './helm';

const rendered = template(['-f', path.join(chart, 'ci/envoy-values.yaml')]);
const find = (kind: string, name: string) =>
  rendered.objects.find((object) => object.kind === kind && object.metadata.name === name) as K8sObject;

interface Cluster {
  name: string;
  transport_socket?: { typed_config: { common_tls_context: TlsContext } };
}
interface TlsContext {
  combined_validation_context: {
    default_validation_context: { match_typed_subject_alt_names: { san_type: string; matcher: { exact: string } }[] };
  };
}

describe('the Envoy front in the chart', () => {
  const configMap = find('ConfigMap', 'release-flash-sale-envoy') as K8sObject & { data: Record<string, string> };
  const envoy = find('Deployment', 'release-flash-sale-envoy');

  it('when it renders, then Envoy runs as its own ServiceAccount, with no API token', () => {
    expect(rendered.ok).toBe(true);
    expect(envoy.spec.template.spec.serviceAccountName).toBe('release-flash-sale-envoy');
    expect(envoy.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(find('ServiceAccount', 'release-flash-sale-envoy')).toBeDefined();
  });

  it('when mTLS is on, then its certificate Secret is mounted where the SDS files beside envoy.yaml read it', () => {
    const volumes = envoy.spec.template.spec.volumes as { name: string; secret?: { secretName: string } }[];
    const mounts = envoy.spec.template.spec.containers[0].volumeMounts as { name: string; mountPath: string }[];
    expect(volumes.find((volume) => volume.name === 'tls')?.secret?.secretName).toBe('release-flash-sale-envoy-tls');
    expect(mounts).toContainEqual(expect.objectContaining({ name: 'tls', mountPath: '/etc/flash-sale/tls' }));
    expect(mounts).toContainEqual(expect.objectContaining({ name: 'config', mountPath: '/etc/envoy' }));
    expect(Object.keys(configMap.data).sort()).toEqual(['envoy.yaml', 'sds-ca.yaml', 'sds-certificate.yaml']);
    expect(configMap.data['sds-certificate.yaml']).toContain('filename: /etc/flash-sale/tls/tls.crt');
    expect(configMap.data['sds-ca.yaml']).toContain('filename: /etc/flash-sale/tls/ca.crt');
  });

  it('when Envoy calls a service, then it accepts only the SPIFFE ID of the account that service runs as', () => {
    const clusters = (parse(configMap.data['envoy.yaml']!) as { static_resources: { clusters: Cluster[] } })
      .static_resources.clusters;
    expect(clusters.map((cluster) => cluster.name).sort()).toEqual(['inventory', 'order', 'payment', 'promotion']);
    for (const cluster of clusters) {
      const account = find('Deployment', `release-flash-sale-${cluster.name}`).spec.template.spec.serviceAccountName;
      const sans =
        cluster.transport_socket?.typed_config.common_tls_context.combined_validation_context.default_validation_context
          .match_typed_subject_alt_names;
      expect({ cluster: cluster.name, sans }).toEqual({
        cluster: cluster.name,
        sans: [{ san_type: 'URI', matcher: { exact: `spiffe://cluster.local/ns/shop/sa/${account}` } }],
      });
    }
  });

  it('when kubelet probes it, then readiness asks Envoy’s own /healthz, which needs no token', () => {
    expect(envoy.spec.template.spec.containers[0].readinessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
  });
});
