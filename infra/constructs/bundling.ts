/**
 * How every function is bundled by esbuild: the CDK's NodejsFunction takes these, and the bundle
 * benchmark (scripts/bench/bundles.ts) builds the same bundles to measure them.
 */
export function functionBundling(sdk: 'external' | 'bundled' = 'bundled') {
  return {
    target: 'node22',
    minify: true,
    mainFields: ['module', 'main'],
    // The AWS SDK is bundled in, minified, at the versions the tests ran: a function imports
    // it about twice as fast as the runtime's own copy (docs/decisions.md, npm run bench).
    // ssh2 (SFTP backup storage) tries its native helpers and falls back to JavaScript.
    externalModules: [...(sdk === 'external' ? ['@aws-sdk/*', '@smithy/*'] : []), 'cpu-features'],
    // Some CommonJS dependencies call require() or read __dirname; give the ESM bundle both.
    banner:
      "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);",
  };
}
