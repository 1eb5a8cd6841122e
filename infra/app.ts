import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildStacks } from './stacks';

const app = new App();
const stage = String(app.node.tryGetContext('stage') ?? 'dev');
buildStacks(app, {
  stage,
  ...(process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
    ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } }
    : {}),
});
Tags.of(app).add('app', 'vip-hosting-panel');
Tags.of(app).add('stage', stage);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
