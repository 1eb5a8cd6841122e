/**
 * The import rules CI holds the code to (npm run lint:deps): no circle of static imports, no
 * circle between contexts at all, and no layer reaching up into functions/.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-static-circle',
      severity: 'error',
      comment:
        'A circle of static imports couples its modules into one unit. Inside a context, a lazy ' +
        "import() may close a circle on purpose (a command's settling starting the follow-up change).",
      from: {},
      to: { circular: true, dynamic: false, viaOnly: { dependencyTypesNot: ['dynamic-import'] } },
    },
    {
      name: 'no-circle-between-contexts',
      severity: 'error',
      comment:
        "Contexts depend on each other one way, through the other's published functions " +
        '(docs/architecture.md): a circle through another context, lazy or not, is two contexts in one.',
      from: { path: '^functions/([^/]+)/' },
      to: { circular: true, via: { pathNot: '^functions/$1/' } },
    },
    {
      name: 'layers-never-import-functions',
      severity: 'error',
      comment: 'layers/ holds what every feature uses; a type it needs from a feature moves down.',
      from: { path: '^layers/', pathNot: '\\.test\\.ts$' },
      to: { path: '^functions/' },
    },
    {
      name: 'servers-imports-no-context',
      severity: 'error',
      comment:
        'servers runs commands for every context and knows none: a context declares its operation ' +
        'kinds in its own folder and functions/operation-kinds.ts merges them.',
      from: { path: '^functions/servers/', pathNot: '\\.test\\.ts$' },
      to: { path: '^functions/(?!servers/|operations/|plans/)[^/]+/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|cdk\\.out)/' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
