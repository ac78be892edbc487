/**
 * The rules file the local Prometheus and the chart share: every alert says how bad it is and where its runbook is
 * (a section of docs/operations.md that exists), and rules.test.yaml, which promtool runs, sees every alert both
 * firing and not firing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { metricNames } from './promql';

const dir = path.join(__dirname, '../deploy/helm/flash-sale/files/prometheus');
const RUNBOOKS = 'https://github.com/flash-sale-mesh/flash-sale-mesh/blob/main/docs/operations.md#';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groups = (parse(readFileSync(path.join(dir, 'rules.yaml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups;
const alerts = groups.flatMap((group) => group.rules).filter((rule) => rule.alert);

interface UnitTest {
  alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
}
const unitTests = (parse(readFileSync(path.join(dir, 'rules.test.yaml'), 'utf8')) as { tests: UnitTest[] }).tests;

/** GitHub's anchor of each heading in docs/operations.md. */
const anchors = new Set(
  readFileSync(path.join(__dirname, '../docs/operations.md'), 'utf8')
    .split('\n')
    .filter((line) => /^#{2,4} /.test(line))
    .map((line) =>
      line
        .replace(/^#+ /, '')
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, '')
        .replace(/ /g, '-'),
    ),
);

describe('the Prometheus rules file', () => {
  it('when read, then it has the alerts the on-call runbooks name', () => {
    expect(alerts.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'OversellRisk',
        'OutboxBacklogOld',
        'KafkaConsumerLagHigh',
        'ErrorRatioHigh',
        'LatencyP99High',
        'ServiceDown',
        'AuthorizationDenied',
        'PaymentFailureRatioHigh',
      ]),
    );
  });

  it.each(alerts.map((rule) => [rule.alert!, rule]))(
    'when %s fires, then it says how bad it is, what happened and where its runbook is',
    (name, rule) => {
      expect(['critical', 'warning']).toContain(rule.labels?.severity);
      expect(Object.keys(rule.annotations ?? {}).sort()).toEqual(['description', 'runbook_url', 'summary']);
      expect(rule.annotations!.runbook_url).toBe(`${RUNBOOKS}${name.toLowerCase()}`);
      expect(anchors).toContain(name.toLowerCase());
    },
  );

  it.each(alerts.map((rule) => [rule.alert!]))(
    'when promtool tests the rules, then %s is seen firing and not firing',
    (name) => {
      const checks = unitTests
        .flatMap((test) => test.alert_rule_test ?? [])
        .filter((check) => check.alertname === name);
      expect(checks.some((check) => check.exp_alerts.length > 0)).toBe(true);
      expect(checks.some((check) => check.exp_alerts.length === 0)).toBe(true);
    },
  );

  it('when a rule names a metric, then it is a name the services serve (the recorded ones excepted)', () => {
    // A typo in a metric name is valid PromQL that never matches: caught here, not at 3 a.m.
    const recorded = new Set(groups.flatMap((group) => group.rules).map((rule) => rule.record));
    const served =
      /^(grpc_server_(handled_total|handling_seconds_bucket|authorization_denied_total)|flashsale_(outbox_oldest_age_seconds|payments_total|order_accept_to_row_seconds_bucket|reservations_total)|kafka_consumergroup_lag|inventory_(reconcile_drift|settlements_refused_total)|gateway_(http_requests_total|http_request_duration_seconds_bucket|upstream_circuit_state|shed_total)|up)$/;
    const unknown = groups
      .flatMap((group) => group.rules)
      .flatMap((rule) => metricNames(rule.expr).map((name) => `${rule.alert ?? rule.record}: ${name}`))
      .filter((entry) => {
        const name = entry.split(': ')[1]!;
        return !recorded.has(name) && !served.test(name);
      });
    expect(unknown).toEqual([]);
  });
});
