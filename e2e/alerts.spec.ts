/**
 * The alerts on ourselves, checked by the real Prometheus tooling (Debian's promtool):
 * `render` with default facts prints the PrometheusRule, `promtool check rules` accepts it,
 * and `promtool test rules` shows each alert firing (and not before its time) on series as
 * the controller, the agent and madison-proxy export them.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRules, type AlertRule } from '../src/components/alerts/index.js';
import { ensurePrometheus } from './controlplane/binaries.js';
import { run } from './support/run.js';

let dir: string;
let promtool: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alerts-e2e-'));
  promtool = (await ensurePrometheus()).promtool;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The alert's annotations with `{{ $labels.x }}` filled in, as Prometheus expands them. */
function expanded(rule: AlertRule, labels: Record<string, string>): Record<string, string> {
  const fill = (text: string) => text.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, name: string) => labels[name] ?? '');
  return Object.fromEntries(Object.entries(rule.annotations).map(([key, text]) => [key, fill(text)]));
}

describe('alerts on ourselves', () => {
  it('render prints the PrometheusRule with default facts, and promtool check rules passes on it', async () => {
    const rendered = await run(process.execPath, ['bin/flant-integration.js', 'render', '-f', 'config/samples/flantintegration.yaml']);
    expect(rendered.code, rendered.out).toBe(0);
    const rule = parseAllDocuments(rendered.out)
      .map((d) => d.toJS() as { kind?: string; spec?: { groups: unknown[] } })
      .find((o) => o?.kind === 'PrometheusRule');
    expect(rule?.spec?.groups).toHaveLength(1);
    const file = join(dir, 'rendered.yaml');
    await writeFile(file, stringify({ groups: rule?.spec?.groups }));
    const check = await run(promtool, ['check', 'rules', file]);
    expect(check.code, check.out).toBe(0);
    expect(check.out).toContain('SUCCESS: 3 rules found');
  });

  it('fires each alert on the series it reads, and not before its time (promtool test rules)', async () => {
    const ns = 'd8-flant-integration';
    const rules = alertRules(ns);
    const [notReady, notDelivered, forwarding] = rules as [AlertRule, AlertRule, AlertRule];
    const [absent, stalled] = [notDelivered, notDelivered];
    await writeFile(join(dir, 'rules.yaml'), stringify({ groups: [{ name: 'flant-integration', rules }] }));
    const labels = (rule: AlertRule, extra: Record<string, string>) => ({ ...rule.labels, ...extra });
    const notReadyLabels = { name: 'default', type: 'LogShippingReady', reason: 'CRDNotInstalled' };
    const forwardingLabels = { namespace: ns, backend: '192.0.2.1:443', reason: 'timeout' };
    const tests = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: 'flantintegration_condition{name="default",type="LogShippingReady",status="False",reason="CRDNotInstalled"}', values: '1x30' },
            { series: 'flantintegration_condition{name="default",type="MadisonProxyReady",status="True",reason="Ready"}', values: '1x30' },
          ],
          alert_rule_test: [
            { eval_time: '10m', alertname: notReady.alert, exp_alerts: [] },
            {
              eval_time: '20m',
              alertname: notReady.alert,
              exp_alerts: [{ exp_labels: labels(notReady, notReadyLabels), exp_annotations: expanded(notReady, notReadyLabels) }],
            },
          ],
        },
        {
          interval: '1m',
          input_series: [],
          alert_rule_test: [
            { eval_time: '20m', alertname: absent.alert, exp_alerts: [] },
            {
              eval_time: '35m',
              alertname: absent.alert,
              exp_alerts: [{ exp_labels: labels(absent, { namespace: ns }), exp_annotations: expanded(absent, {}) }],
            },
          ],
        },
        {
          interval: '1m',
          input_series: [
            {
              series: `prometheus_remote_storage_queue_highest_sent_timestamp_seconds{namespace="${ns}",pod="pricing-0"}`,
              values: '1000+60x30 2800x40',
            },
          ],
          alert_rule_test: [
            { eval_time: '30m', alertname: stalled.alert, exp_alerts: [] },
            {
              eval_time: '70m',
              alertname: stalled.alert,
              exp_alerts: [{ exp_labels: labels(stalled, { namespace: ns }), exp_annotations: expanded(stalled, {}) }],
            },
          ],
        },
        {
          interval: '1m',
          input_series: [
            {
              series: `madison_proxy_forward_errors_total{namespace="${ns}",pod="madison-proxy-a",backend="192.0.2.1:443",reason="timeout"}`,
              values: '0x3 1+1x20',
            },
            {
              series: `madison_proxy_forward_errors_total{namespace="${ns}",pod="madison-proxy-b",backend="192.0.2.2:443",reason="timeout"}`,
              values: '0x25',
            },
          ],
          alert_rule_test: [
            { eval_time: '3m', alertname: forwarding.alert, exp_alerts: [] },
            {
              eval_time: '15m',
              alertname: forwarding.alert,
              exp_alerts: [{ exp_labels: labels(forwarding, forwardingLabels), exp_annotations: expanded(forwarding, forwardingLabels) }],
            },
          ],
        },
      ],
    };
    await writeFile(join(dir, 'tests.yaml'), stringify(tests));
    const result = await run(promtool, ['test', 'rules', join(dir, 'tests.yaml')]);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toContain('SUCCESS');
  });
});
