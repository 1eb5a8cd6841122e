import type { App, Environment } from 'aws-cdk-lib';
import { AlertsStack } from './alerts-stack';
import { ApiStack } from './api-stack';
import { DataStack } from './data-stack';
import { MetricsStack } from './metrics-stack';
import { WorkflowsStack } from './workflows-stack';

/** Every stack of one stage, wired together. */
export function buildStacks(app: App, options: { stage: string; env?: Environment }) {
  const { stage } = options;
  const env = options.env ? { env: options.env } : {};
  const prefix = `Vip-${stage}`;
  const data = new DataStack(app, `${prefix}-Data`, { stage, ...env });
  const workflows = new WorkflowsStack(app, `${prefix}-Workflows`, {
    stage,
    table: data.table,
    secrets: data.secrets,
    ...env,
  });
  const api = new ApiStack(app, `${prefix}-Api`, {
    stage,
    table: data.table,
    secrets: data.secrets,
    machines: workflows.machines,
    ...env,
  });
  const alerts = new AlertsStack(app, `${prefix}-Alerts`, {
    stage,
    table: data.table,
    secrets: data.secrets,
    ...env,
  });
  const metrics = new MetricsStack(app, `${prefix}-Metrics`, {
    stage,
    table: data.table,
    stream: data.stream,
    secrets: data.secrets,
    bus: alerts.bus,
    ...env,
  });
  return { data, workflows, api, alerts, metrics };
}
